package soap

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// waitEnd waits for the n-th End call (it follows the response, which a
// client may read first) and returns its observation.
func (o *recordingObserver) waitEnd(tb testing.TB, n int) Observation {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.mu.Lock()
		if len(o.ends) >= n {
			defer o.mu.Unlock()
			return o.ends[n-1]
		}
		o.mu.Unlock()
		if time.Now().After(deadline) {
			tb.Fatalf("no End call %d", n)
		}
		time.Sleep(time.Millisecond)
	}
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

// TestHandler_SignResponse: with SignResponse, the answers to requests that
// passed Security are signed, faults included; a request refused before that
// (transport, parse, mustUnderstand, security) costs no signing at all.
func TestHandler_SignResponse(t *testing.T) {
	var signings atomic.Int64
	mark := func(doc *etree.Document) error {
		signings.Add(1)
		env := doc.Root()
		hdr := etree.NewElement("Signed")
		hdr.Space = "x"
		hdr.CreateAttr("xmlns:x", "urn:example:signed")
		env.InsertChildAt(0, hdr)
		return nil
	}
	obs := &recordingObserver{}
	var served atomic.Int64
	h := newToyHandler(t, func(c *Config) { c.SignResponse = mark; c.Observer = obs })
	srv := httptest.NewServer(h)
	defer srv.Close()
	const (
		signedMark = `<x:Signed xmlns:x="urn:example:signed"/>`
		open11     = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">`
		failClient = open11 + `<s:Body><Fail xmlns="urn:example:toy"><mode>client</mode></Fail></s:Body></s:Envelope>`
		badInt     = open11 + `<s:Body><Echo xmlns="urn:example:toy"><count>x</count></Echo></s:Body></s:Envelope>`
		notUnderst = open11 + `<s:Header><h:X xmlns:h="urn:example:other" s:mustUnderstand="1"/></s:Header>` +
			`<s:Body><Echo xmlns="urn:example:toy"/></s:Body></s:Envelope>`
	)
	for _, c := range []struct {
		name, ct, body string
		status         int
		signed         bool
	}{
		{"Response", ct11, echoBody11, 200, true},
		{"OperationFault", ct11, failClient, 500, true},
		{"DecodeFault", ct11, badInt, 500, true},
		{"Garbage", ct11, "abcd", 500, false},
		{"MediaType", "application/json", echoBody11, 415, false},
		{"MustUnderstand", ct11, notUnderst, 500, false},
		{"SecurityRefused", ct11, badToken11, 500, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := signings.Load()
			resp, body := do(t, srv.Client(), http.MethodPost, srv.URL, c.ct, "", []byte(c.body))
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d\n%s", resp.StatusCode, c.status, body)
			}
			if got := strings.Contains(string(body), signedMark); got != c.signed {
				t.Errorf("signed %v, want %v:\n%s", got, c.signed, body)
			}
			want := int64(0)
			if c.signed {
				want = 1
			}
			if n := signings.Load() - before; n != want {
				t.Errorf("%d signing operations, want %d", n, want)
			}
			if last := obs.waitEnd(t, int(served.Add(1))); last.Signed != c.signed {
				t.Errorf("Observation.Signed = %v, want %v", last.Signed, c.signed)
			}
		})
	}

	h = newToyHandler(t, func(c *Config) {
		c.SignResponse = func(*etree.Document) error { return errors.New("hsm unreachable") }
	})
	rec := serve(t, h, ct11, "", echoBody11)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "<code>INTERNAL</code>") || strings.Contains(rec.Body.String(), "hsm") {
		t.Errorf("a response that cannot be signed: %d\n%s\nwant an INTERNAL fault without the cause", rec.Code, rec.Body)
	}
}
