package soap

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
)

const echoEnvelope11 = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
	`<t:Echo xmlns:t="urn:example:toy"><t:text>hi</t:text></t:Echo></soap:Body></soap:Envelope>`

func TestNewHandler_Errors(t *testing.T) {
	type withMap struct {
		M map[string]string `xml:"m"`
	}
	type withAttr struct {
		A string `xml:"a,attr"`
	}
	type withUnmarshaler struct {
		D xml.Name `xml:"d"` // a struct type no plan decodes...
		U unmarshalerStruct
	}
	type twice struct {
		A string `xml:"x"`
		Inner
	}
	name := xml.Name{Space: toyNS, Local: "X"}
	tests := map[string][]Operation{
		"Duplicate": {Op(name, "a", doEcho), Op(name, "b", doEcho)},
		"Map":       {Op(name, "", func(context.Context, *withMap) (*echoResponse, error) { return nil, nil })},
		"Attr":      {Op(name, "", func(context.Context, *withAttr) (*echoResponse, error) { return nil, nil })},
		"Unmarshaler": {Op(name, "", func(context.Context, *withUnmarshaler) (*echoResponse, error) {
			return nil, nil
		})},
		"SameNameTwice": {Op(name, "", func(context.Context, *twice) (*echoResponse, error) { return nil, nil })},
		"NotStruct":     {Op(name, "", func(context.Context, *string) (*echoResponse, error) { return nil, nil })},
		"ZeroOperation": {{}},
		"EmbeddedUnexportedPointer": {Op(name, "", func(context.Context, *embedsUnexported) (*echoResponse, error) {
			return nil, nil
		})},
	}
	for tn, ops := range tests {
		t.Run(tn, func(t *testing.T) {
			_, err := NewHandler(toyConfig(t, func(c *Config) { c.Operations = ops }))
			if err == nil {
				t.Fatal("NewHandler accepted it")
			}
		})
	}
	t.Run("UnregisteredScalar", func(t *testing.T) {
		_, err := NewHandler(toyConfig(t, func(c *Config) { c.Scalars = nil }))
		if err == nil || !strings.Contains(err.Error(), "toyDate") {
			t.Fatalf("err %v, want it to name toyDate", err)
		}
	})
}

// Inner is embedded in a request type that also has an element "x".
type Inner struct {
	B int `xml:"x"`
}

// Base is embedded by pointer in a request type.
type Base struct {
	ID int64 `xml:"id"`
}

type embedsUnexported struct {
	*base
}

type base struct{ ID int64 }

// unmarshalerStruct has its own UnmarshalXML, which strict decoding cannot vouch for.
type unmarshalerStruct struct{}

func (u *unmarshalerStruct) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error { return d.Skip() }

func TestNewHandler_RecursiveAndEmbedded(t *testing.T) {
	type node struct {
		Name     string  `xml:"name"`
		Children []*node `xml:"child"`
	}
	type tree struct {
		*Base
		Root *node `xml:"root"`
	}
	var got *tree
	h := newToyHandler(t, func(c *Config) {
		c.Operations = []Operation{Op(xml.Name{Space: toyNS, Local: "Tree"}, "", func(_ context.Context, r *tree) (*echoResponse, error) {
			got = r
			return &echoResponse{}, nil
		})}
	})
	body := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Tree xmlns="urn:example:toy">` +
		`<id>9</id><root><name>a</name><child><name>b</name><child><name>c</name></child></child><child><name>d</name></child></root>` +
		`</Tree></soap:Body></soap:Envelope>`
	rec := serve(t, h, ct11, "", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", rec.Code, rec.Body)
	}
	if got.Base == nil || got.ID != 9 || got.Root.Name != "a" || len(got.Root.Children) != 2 ||
		got.Root.Children[0].Children[0].Name != "c" || got.Root.Children[1].Name != "d" {
		t.Errorf("decoded %+v, want id 9 and the tree a(b(c), d)", got)
	}
}

// serve calls h directly (no network), for tests that look inside the handler.
func serve(tb testing.TB, h http.Handler, contentType, action, body string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, "/soap", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if action != "" {
		req.Header.Set("SOAPAction", action)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandler_RequestID(t *testing.T) {
	var seen string
	h := newToyHandler(t, func(c *Config) {
		c.Operations = []Operation{Op(xml.Name{Space: toyNS, Local: "Echo"}, "", func(ctx context.Context, r *echo) (*echoResponse, error) {
			seen = RequestIDFrom(ctx)
			return &echoResponse{}, nil
		})}
	})
	h.newID = func() string { return "fresh0123456789a" }
	for _, tt := range []struct{ client, want string }{
		{"", "fresh0123456789a"},
		{"abc-DEF_1.2", "abc-DEF_1.2"},
		{strings.Repeat("x", 64), strings.Repeat("x", 64)},
		{strings.Repeat("x", 65), "fresh0123456789a"},
		{"bad id", "fresh0123456789a"},
		{"inject\r\nX-Evil: 1", "fresh0123456789a"},
		{"é", "fresh0123456789a"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/soap", strings.NewReader(echoEnvelope11))
		req.Header.Set("Content-Type", ct11)
		req.Header.Set("X-Request-Id", tt.client)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("X-Request-Id"); got != tt.want || seen != tt.want {
			t.Errorf("client id %q: header %q, context %q, want %q", tt.client, got, seen, tt.want)
		}
	}
	if id := randomID(); len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" || id == randomID() {
		t.Errorf("randomID %q, want 16 random hex characters", id)
	}
}

// logLines runs requests against a handler that logs JSON into a buffer.
func logLines(t *testing.T, send func(h *Handler)) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	var mu sync.Mutex
	h := newToyHandler(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	})
	send(h)
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestHandler_Log(t *testing.T) {
	const token = `<soap:Header><s:Token xmlns:s="urn:example:toy-sec">letmein</s:Token></soap:Header>`
	lines := logLines(t, func(h *Handler) {
		serve(t, h, ct11, "", strings.Replace(echoEnvelope11, "<soap:Body>", token+"<soap:Body>", 1))
		serve(t, h, ct11, "", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+
			`<t:Fail xmlns:t="urn:example:toy"><t:mode>plain</t:mode></t:Fail></soap:Body></soap:Envelope>`)
		serve(t, h, ct11, "", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+
			`<t:Fail xmlns:t="urn:example:toy"><t:mode>client</t:mode></t:Fail></soap:Body></soap:Envelope>`)
		serve(t, h, ct11, "", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+
			`<t:Fail xmlns:t="urn:example:toy"><t:mode>server</t:mode></t:Fail></soap:Body></soap:Envelope>`)
	})
	if len(lines) != 6 {
		t.Fatalf("%d log lines, want 6 (4 requests, 1 internal error, 1 receiver fault): %v", len(lines), lines)
	}
	ok := lines[0]
	want := map[string]any{"msg": "soap request", "level": "INFO", "method": "POST", "op": "Echo", "soap_version": "1.1",
		"principal": "alice", "outcome": "ok", "status": 200.0, "remote": "192.0.2.1:1234"}
	for k, v := range want {
		if ok[k] != v {
			t.Errorf("ok line %s = %v, want %v", k, ok[k], v)
		}
	}
	for _, k := range []string{"request_id", "duration", "bytes_in", "bytes_out"} {
		if _, found := ok[k]; !found {
			t.Errorf("ok line has no %s: %v", k, ok)
		}
	}
	if ok["bytes_in"].(float64) < 100 || ok["bytes_out"].(float64) < 100 {
		t.Errorf("bytes_in %v bytes_out %v, want the body sizes", ok["bytes_in"], ok["bytes_out"])
	}
	cause, internal := lines[1], lines[2]
	if cause["level"] != "ERROR" || !strings.Contains(cause["err"].(string), secretCause) || cause["request_id"] != internal["request_id"] {
		t.Errorf("internal error line %v, want the cause with the request id %v", cause, internal["request_id"])
	}
	if internal["outcome"] != CodeInternal || internal["status"] != 500.0 || internal["op"] != "Fail" {
		t.Errorf("internal line %v, want outcome INTERNAL status 500 op Fail", internal)
	}
	if client := lines[3]; client["outcome"] != "NOT_FOUND" {
		t.Errorf("client fault outcome %v, want NOT_FOUND (from the detail's Code)", client["outcome"])
	}
	if warn, server := lines[4], lines[5]; warn["level"] != "WARN" || !strings.Contains(warn["err"].(string), "pool exhausted") ||
		server["outcome"] != "UNAVAILABLE" {
		t.Errorf("receiver fault lines %v %v, want a WARN with the cause and outcome UNAVAILABLE", warn, server)
	}
	for _, l := range lines {
		if s, _ := json.Marshal(l); bytes.Contains(s, []byte("letmein")) || bytes.Contains(s, []byte("<t:")) {
			t.Errorf("a log line carries body content: %s", s)
		}
	}
}

func TestHandler_InternalErrorsDoNotLeak(t *testing.T) {
	h := newToyHandler(t, nil)
	for _, mode := range []string{"plain", "panic", "nil"} {
		for _, v := range []struct{ ct, env string }{{ct11, NS11}, {ct12, NS12}} {
			rec := serve(t, h, v.ct, "", `<e:Envelope xmlns:e="`+v.env+`"><e:Body><t:Fail xmlns:t="urn:example:toy"><t:mode>`+
				mode+`</t:mode></t:Fail></e:Body></e:Envelope>`)
			code, reason, detail := faultParts(t, rec.Body.Bytes())
			if rec.Code != 500 || reason != internalMessage || detail != CodeInternal || !strings.HasSuffix(code, "Server") && !strings.HasSuffix(code, "Receiver") {
				t.Errorf("%s %s: %d %s %q %s, want 500 Server/Receiver %q INTERNAL", mode, v.ct, rec.Code, code, reason, detail, internalMessage)
			}
			if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "boom") {
				t.Errorf("%s: the cause leaked:\n%s", mode, rec.Body)
			}
		}
	}
}

// bodySwapper is a Security that hands the dispatcher a different element than
// the one in the tree, as a verifier returning its verified copy would.
type bodySwapper struct{ text string }

func (bodySwapper) Understands(xml.Name) bool { return false }

func (b bodySwapper) Check(ctx context.Context, env *Envelope) (context.Context, *etree.Element, error) {
	if b.text == "" {
		return nil, nil, errors.New("key store unavailable: " + secretCause)
	}
	verified := env.Body.ChildElements()[0].Copy()
	verified.SelectElement("text").SetText(b.text)
	return WithPrincipal(ctx, "verifier"), verified, nil
}

func TestHandler_SecurityDispatchesTheVerifiedElement(t *testing.T) {
	h := newToyHandler(t, func(c *Config) { c.Security = bodySwapper{text: "verified"} })
	rec := serve(t, h, ct11, "", echoEnvelope11)
	var resp struct {
		Body struct {
			R echoResponse `xml:"urn:example:toy EchoResponse"`
		}
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != 200 {
		t.Fatalf("%d %v\n%s", rec.Code, err, rec.Body)
	}
	if resp.Body.R.Text != "verified" || resp.Body.R.Principal != "verifier" {
		t.Errorf("echoed text %q principal %q, want the verified element's \"verified\" and \"verifier\"", resp.Body.R.Text, resp.Body.R.Principal)
	}

	h = newToyHandler(t, func(c *Config) { c.Security = bodySwapper{} })
	rec = serve(t, h, ct11, "", echoEnvelope11)
	if _, reason, detail := faultParts(t, rec.Body.Bytes()); reason != internalMessage || detail != CodeInternal {
		t.Errorf("a plain Security error gave %q %s, want %q INTERNAL", reason, detail, internalMessage)
	}
}

func TestHandler_NoSecurityMeansTokenNotUnderstood(t *testing.T) {
	h := newToyHandler(t, func(c *Config) { c.Security = nil })
	body := strings.Replace(echoEnvelope11, "<soap:Body>",
		`<soap:Header><s:Token xmlns:s="urn:example:toy-sec" soap:mustUnderstand="true">letmein</s:Token></soap:Header><soap:Body>`, 1)
	rec := serve(t, h, ct11, "", body)
	if code, _, _ := faultParts(t, rec.Body.Bytes()); code != "soap:MustUnderstand" {
		t.Errorf("faultcode %s, want soap:MustUnderstand", code)
	}
}

func TestHandler_MaxElements(t *testing.T) {
	h := newToyHandler(t, func(c *Config) { c.MaxElements = 10 })
	body := strings.Replace(echoEnvelope11, "<t:text>hi</t:text>", strings.Repeat("<t:tag>x</t:tag>", 8), 1)
	rec := serve(t, h, ct11, "", body)
	if _, reason, _ := faultParts(t, rec.Body.Bytes()); reason != "XML has more than 10 elements" {
		t.Errorf("reason %q, want the element limit", reason)
	}
}

func TestHandler_Concurrent(t *testing.T) {
	srv := httptest.NewServer(newToyHandler(t, nil))
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				body := strings.Replace(echoEnvelope11, ">hi<", ">"+strings.Repeat("z", i*j)+"<", 1)
				resp, b := do(t, srv.Client(), http.MethodPost, srv.URL+"/soap", ct11, "", []byte(body))
				if resp.StatusCode != 200 || !bytes.Contains(b, []byte("<text>"+strings.Repeat("z", i*j)+"</text>")) {
					t.Errorf("request %d/%d: %d\n%s", i, j, resp.StatusCode, b)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestError(t *testing.T) {
	cause := errors.New("disk full")
	e := &Error{Code: CodeValidationFailed, Message: "bad", Field: "a/b", Err: cause}
	if got, want := e.Error(), "VALIDATION_FAILED: bad (field a/b): disk full"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, cause) {
		t.Error("errors.Is does not reach the cause")
	}
}
