package soap

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
)

const (
	echoBody11  = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Echo xmlns="urn:example:toy"><text>hi</text></Echo></s:Body></s:Envelope>`
	badToken11  = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><t:Token xmlns:t="urn:example:toy-sec">wrong</t:Token></s:Header><s:Body><Echo xmlns="urn:example:toy"><text>hi</text></Echo></s:Body></s:Envelope>`
	blockBody11 = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Block xmlns="urn:example:toy"/></s:Body></s:Envelope>`
)

type block struct {
	XMLName xml.Name `xml:"urn:example:toy Block"`
}

type blockResponse struct {
	XMLName xml.Name `xml:"urn:example:toy BlockResponse"`
}

func TestHandler_MaxInFlightSheds(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := newToyHandler(t, func(c *Config) {
		c.MaxInFlight = 1
		c.Operations = append(c.Operations, Op(xml.Name{Space: toyNS, Local: "Block"}, "",
			func(context.Context, *block) (*blockResponse, error) {
				close(entered)
				<-release
				return &blockResponse{}, nil
			}))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	first := make(chan int)
	go func() {
		resp, _ := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(blockBody11))
		first <- resp.StatusCode
	}()
	<-entered
	for _, ct := range []string{ct11, ct12} {
		resp, body := do(t, srv.Client(), http.MethodPost, srv.URL, ct, "", []byte(echoBody11))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: status %d Retry-After %q, want 503 with Retry-After", ct, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		want := "soap:Server"
		if ct == ct12 {
			want = "env:Receiver"
		}
		if !strings.Contains(string(body), want) || !strings.Contains(string(body), "<code>UNAVAILABLE</code>") {
			t.Errorf("%s: shed response is not a %s UNAVAILABLE fault:\n%s", ct, want, body)
		}
	}
	close(release)
	if got := <-first; got != http.StatusOK {
		t.Errorf("the request holding the slot got %d, want 200", got)
	}
	resp, _ := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(echoBody11))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the slot is free: %d, want 200", resp.StatusCode)
	}
}

type recordingObserver struct {
	mu     sync.Mutex
	begins int
	ends   []Observation
}

func (o *recordingObserver) Begin() { o.mu.Lock(); o.begins++; o.mu.Unlock() }
func (o *recordingObserver) End(ob Observation) {
	o.mu.Lock()
	o.ends = append(o.ends, ob)
	o.mu.Unlock()
}

func TestHandler_Observer(t *testing.T) {
	obs := &recordingObserver{}
	h := newToyHandler(t, func(c *Config) { c.Observer = obs })
	serve(t, h, ct11, "", echoBody11)
	serve(t, h, ct11, "", badToken11)
	serve(t, h, ct12, "", `<not-xml`)
	if obs.begins != 3 || len(obs.ends) != 3 {
		t.Fatalf("%d Begin and %d End calls, want 3 each", obs.begins, len(obs.ends))
	}
	want := []Observation{
		{Operation: "Echo", Version: V11, Outcome: "ok", Status: 200},
		{Version: V11, Outcome: CodeUnauthorized, SecurityFailure: "FailedAuthentication", Status: 500},
		{Version: V12, Outcome: CodeMalformedRequest, Status: 400},
	}
	for i, w := range want {
		got := obs.ends[i]
		if got.Operation != w.Operation || got.Version != w.Version || got.Outcome != w.Outcome ||
			got.SecurityFailure != w.SecurityFailure || got.Status != w.Status || got.BytesOut == 0 || got.Duration <= 0 {
			t.Errorf("observation %d = %+v, want %+v with bytes and duration", i, got, w)
		}
	}
}

func TestHandler_SignResponse(t *testing.T) {
	mark := func(doc *etree.Document) error {
		env := doc.Root()
		hdr := etree.NewElement("Signed")
		hdr.Space = "x"
		hdr.CreateAttr("xmlns:x", "urn:example:signed")
		env.InsertChildAt(0, hdr)
		return nil
	}
	h := newToyHandler(t, func(c *Config) { c.SignResponse = mark })
	for _, body := range []string{echoBody11, badToken11} {
		rec := serve(t, h, ct11, "", body)
		if !strings.Contains(rec.Body.String(), `<x:Signed xmlns:x="urn:example:signed"/>`) {
			t.Errorf("response (status %d) was not signed:\n%s", rec.Code, rec.Body)
		}
	}
	h = newToyHandler(t, func(c *Config) {
		c.SignResponse = func(*etree.Document) error { return errors.New("hsm unreachable") }
	})
	rec := serve(t, h, ct11, "", echoBody11)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "<code>INTERNAL</code>") || strings.Contains(rec.Body.String(), "hsm") {
		t.Errorf("a response that cannot be signed: %d\n%s\nwant an INTERNAL fault without the cause", rec.Code, rec.Body)
	}
}
