package soap

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// The toy contract the tests speak: namespace urn:example:toy with an Echo
// operation (every supported field shape) and a Fail operation (every error road).
const (
	toyNS    = "urn:example:toy"
	toySecNS = "urn:example:toy-sec"
)

type toyKind string

// toyDate is like gowsdl's XSDDate: a struct with no exported fields that only a
// registered ScalarDecoder can fill.
type toyDate struct{ t time.Time }

type echo struct {
	XMLName xml.Name `xml:"urn:example:toy Echo"`
	Text    string   `xml:"text,omitempty"`
	Count   int64    `xml:"count,omitempty"`
	Small   int32    `xml:"small,omitempty"`
	Flag    bool     `xml:"flag,omitempty"`
	Ratio   float64  `xml:"ratio,omitempty"`
	Kind    *toyKind `xml:"kind,omitempty"`
	Day     toyDate  `xml:"day,omitempty"`
	Inner   *inner   `xml:"inner,omitempty"`
	Tags    []string `xml:"tag,omitempty"`
}

type inner struct {
	Name  string  `xml:"name,omitempty"`
	Level uint16  `xml:"level,omitempty"`
	Items []*item `xml:"item,omitempty"`
}

type item struct {
	Key   string `xml:"key,omitempty"`
	Value int    `xml:"value,omitempty"`
}

type echoResponse struct {
	XMLName   xml.Name `xml:"urn:example:toy EchoResponse"`
	Version   string   `xml:"version"`
	Principal string   `xml:"principal,omitempty"`
	Text      string   `xml:"text"`
	Count     int64    `xml:"count"`
	Small     int32    `xml:"small"`
	Flag      bool     `xml:"flag"`
	Ratio     float64  `xml:"ratio"`
	Kind      *toyKind `xml:"kind,omitempty"`
	Day       string   `xml:"day,omitempty"`
	Inner     *inner   `xml:"inner,omitempty"`
	Tags      []string `xml:"tag"`
}

type fail struct {
	XMLName xml.Name `xml:"urn:example:toy Fail"`
	Mode    string   `xml:"mode"`
}

type failResponse struct {
	XMLName xml.Name `xml:"urn:example:toy FailResponse"`
}

// toyDetail is the application's fault element.
type toyDetail struct {
	XMLName xml.Name `xml:"urn:example:toy ToyFault"`
	Code    string   `xml:"code"`
	Message string   `xml:"message"`
	Field   string   `xml:"field,omitempty"`
}

func toyDetailOf(code, message, field string) any {
	return &toyDetail{Code: code, Message: message, Field: field}
}

// toyFault is an application error implementing Fault.
type toyFault struct {
	client              bool
	code, message, more string
}

func (f *toyFault) Error() string       { return f.code + ": " + f.message + ": " + f.more }
func (f *toyFault) ClientFault() bool   { return f.client }
func (f *toyFault) FaultString() string { return f.message }
func (f *toyFault) FaultDetail() any    { return toyDetailOf(f.code, f.message, "") }

// secretCause is the text a plain error carries; it must never reach the wire.
const secretCause = "sql: no such table: secret_customers"

func doEcho(ctx context.Context, req *echo) (*echoResponse, error) {
	resp := &echoResponse{
		Version: VersionFrom(ctx).String(), Principal: PrincipalFrom(ctx),
		Text: req.Text, Count: req.Count, Small: req.Small, Flag: req.Flag, Ratio: req.Ratio,
		Kind: req.Kind, Inner: req.Inner, Tags: req.Tags,
	}
	if !req.Day.t.IsZero() {
		resp.Day = req.Day.t.Format(time.DateOnly)
	}
	return resp, nil
}

func doFail(_ context.Context, req *fail) (*failResponse, error) {
	switch req.Mode {
	case "client":
		return nil, &toyFault{client: true, code: "NOT_FOUND", message: "thing 7 does not exist", more: "row 7"}
	case "server":
		return nil, &toyFault{code: "UNAVAILABLE", message: "try again later", more: "pool exhausted"}
	case "plain":
		return nil, fmt.Errorf("load thing: %w", errors.New(secretCause))
	case "panic":
		panic("boom: " + secretCause)
	case "nil":
		return nil, nil
	}
	return &failResponse{}, nil
}

func decodeToyDate(text string, dst reflect.Value) error {
	t, err := time.Parse(time.DateOnly, text)
	if err != nil {
		return fmt.Errorf("%q is not a valid xs:date (YYYY-MM-DD)", text)
	}
	dst.Set(reflect.ValueOf(toyDate{t}))
	return nil
}

// toySecurity understands a toy-sec:Token header: "letmein" authenticates
// alice, any other value fails, no token passes anonymously.
type toySecurity struct{}

func (toySecurity) Understands(n xml.Name) bool {
	return n == xml.Name{Space: toySecNS, Local: "Token"}
}

func (toySecurity) Check(ctx context.Context, env *Envelope) (context.Context, *etree.Element, error) {
	body := env.Body.ChildElements()[0]
	if env.Header == nil {
		return ctx, body, nil
	}
	for _, b := range env.Header.ChildElements() {
		if b.Tag != "Token" || b.NamespaceURI() != toySecNS {
			continue
		}
		if b.Text() != "letmein" {
			return nil, nil, &Error{Code: CodeUnauthorized, Message: "the security token is not valid",
				Subcode: xml.Name{Space: wsseNS, Local: "FailedAuthentication"}}
		}
		return WithPrincipal(ctx, "alice"), body, nil
	}
	return ctx, body, nil
}

// toyConfig is the configuration every test starts from; change may adjust it.
func toyConfig(tb testing.TB, change func(*Config)) Config {
	tb.Helper()
	wsdl, err := os.ReadFile(filepath.Join("..", "testdata", "soap", "toy.wsdl"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{
		WSDL: wsdl,
		Operations: []Operation{
			Op(xml.Name{Space: toyNS, Local: "Echo"}, toyNS+"#Echo", doEcho).
				Addressing("", toyNS+"/ToyPortType/Echo", toyNS+"/ToyPortType/EchoRequest"),
			Op(xml.Name{Space: toyNS, Local: "Fail"}, toyNS+"#Fail", doFail),
		},
		Detail:   toyDetailOf,
		Scalars:  map[reflect.Type]ScalarDecoder{reflect.TypeFor[toyDate](): decodeToyDate},
		Security: toySecurity{},
		Logger:   slog.New(slog.DiscardHandler),
	}
	if change != nil {
		change(&cfg)
	}
	return cfg
}

func newToyHandler(tb testing.TB, change func(*Config)) *Handler {
	tb.Helper()
	h, err := NewHandler(toyConfig(tb, change))
	if err != nil {
		tb.Fatalf("NewHandler: %v", err)
	}
	return h
}

// do sends one request to url and returns the response with its body read.
func do(tb testing.TB, client *http.Client, method, url, contentType, action string, body []byte) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if action != "" {
		req.Header.Set("SOAPAction", action)
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

// faultParts pulls the fault code, reason and detail code out of a fault envelope.
func faultParts(tb testing.TB, body []byte) (code, reason, detailCode string) {
	tb.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		tb.Fatalf("fault does not parse: %v\n%s", err, body)
	}
	f := doc.FindElement("//Fault")
	if f == nil {
		tb.Fatalf("no Fault in\n%s", body)
	}
	if c := f.FindElement("faultcode"); c != nil {
		code, reason = c.Text(), f.FindElement("faultstring").Text()
	} else {
		code, reason = f.FindElement("Code/Value").Text(), f.FindElement("Reason/Text").Text()
	}
	if d := f.FindElement(".//ToyFault/code"); d != nil {
		detailCode = d.Text()
	}
	return code, reason, strings.TrimSpace(detailCode)
}
