package soap

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

type hold struct {
	XMLName xml.Name `xml:"urn:example:toy Hold"`
	Text    string   `xml:"text"`
}

type holdResponse struct {
	XMLName xml.Name `xml:"urn:example:toy HoldResponse"`
	Length  int      `xml:"length"`
}

// TestHandler_MemoryBudget: with a budget for two large requests, a third
// arriving while two are in flight is refused with 503 and Retry-After before
// anything is parsed, and served once they have finished.
func TestHandler_MemoryBudget(t *testing.T) {
	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Hold xmlns="urn:example:toy"><text>` +
		strings.Repeat("large request ", 200<<10/14) + `</text></Hold></s:Body></s:Envelope>`
	need := memoryNeed([]byte(body))
	entered, release := make(chan struct{}, 3), make(chan struct{})
	obs := &recordingObserver{}
	h := newToyHandler(t, func(c *Config) {
		c.MaxBodyBytes = 256 << 10
		c.MaxElements = 100
		c.MemoryBudget = need * 5 / 2 // two fit, three do not
		c.Observer = obs
		c.Operations = append(c.Operations, Op(xml.Name{Space: toyNS, Local: "Hold"}, "",
			func(_ context.Context, r *hold) (*holdResponse, error) {
				entered <- struct{}{}
				<-release
				return &holdResponse{Length: len(r.Text)}, nil
			}))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	done := make(chan int, 2)
	for range 2 {
		go func() {
			resp, _ := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(body))
			done <- resp.StatusCode
		}()
	}
	<-entered
	<-entered
	if used := h.budget.used.Load(); used != 2*need {
		t.Errorf("two requests in flight hold %d bytes of the budget, want 2 × %d", used, need)
	}
	resp, got := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(body))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(got), "<code>UNAVAILABLE</code>") || !strings.Contains(string(got), "memory") {
		t.Errorf("third large request: status %d Retry-After %q, want 503 UNAVAILABLE (memory) with Retry-After\n%.500s",
			resp.StatusCode, resp.Header.Get("Retry-After"), got)
	}
	if o := obs.waitEnd(t, 1); o.Operation != "" || o.Status != http.StatusServiceUnavailable {
		t.Errorf("refused request observed as %+v, want no operation (nothing parsed) and 503", o)
	}
	close(release)
	for range 2 {
		if status := <-done; status != http.StatusOK {
			t.Errorf("a request within the budget got %d, want 200", status)
		}
	}
	if resp, got := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(body)); resp.StatusCode != http.StatusOK {
		t.Errorf("the third request once the others finished: status %d, want 200\n%.500s", resp.StatusCode, got)
	}
	obs.waitEnd(t, 4)
	if used := h.budget.used.Load(); used != 0 {
		t.Errorf("%d bytes of the budget still reserved after every request finished", used)
	}
}

// TestHandler_MemoryBudgetTooMuchMarkup: a body whose markup needs more than
// the whole budget is refused as too large (413), not asked to retry.
func TestHandler_MemoryBudgetTooMuchMarkup(t *testing.T) {
	h := newToyHandler(t, func(c *Config) {
		c.MaxBodyBytes = 64 << 10
		c.MaxElements = 100
		c.MemoryBudget = MinMemoryBudget(64<<10, 100)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Echo xmlns="urn:example:toy">` +
		strings.Repeat(`<tag a="" b="" c=""/>`, 2000) + `</Echo></s:Body></s:Envelope>`
	resp, got := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, "", []byte(body))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(got), "MALFORMED_REQUEST") {
		t.Errorf("status %d, want 413 MALFORMED_REQUEST\n%.500s", resp.StatusCode, got)
	}
}

func TestNewHandler_MemoryBudgetTooSmall(t *testing.T) {
	_, err := NewHandler(toyConfig(t, func(c *Config) { c.MemoryBudget = 1 << 20 }))
	if err == nil || !strings.Contains(err.Error(), "MemoryBudget") {
		t.Errorf("a budget smaller than one largest request: %v, want an error naming MemoryBudget", err)
	}
}

// waitingSecurity blocks in Check until the request's context ends, as a
// verifier working on a huge message would stop.
type waitingSecurity struct{ entered chan struct{} }

func (waitingSecurity) Understands(xml.Name) bool { return false }

func (s waitingSecurity) Check(ctx context.Context, env *Envelope) (context.Context, *etree.Element, error) {
	s.entered <- struct{}{}
	<-ctx.Done()
	return nil, nil, ctx.Err()
}

// TestHandler_ClientGoneStopsTheWork: the request's context reaches Security,
// and once the client has gone nothing more runs: no operation, the request
// is logged as canceled.
func TestHandler_ClientGoneStopsTheWork(t *testing.T) {
	sec := waitingSecurity{entered: make(chan struct{}, 1)}
	obs := &recordingObserver{}
	called := make(chan struct{}, 1)
	h := newToyHandler(t, func(c *Config) {
		c.Security = sec
		c.Observer = obs
		c.Operations = []Operation{Op(xml.Name{Space: toyNS, Local: "Echo"}, "", func(context.Context, *echo) (*echoResponse, error) {
			called <- struct{}{}
			return &echoResponse{}, nil
		})}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(echoBody11))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct11)
	go func() {
		<-sec.entered
		cancel()
	}()
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the request completed (%d) though its client went away", resp.StatusCode)
	}
	if o := obs.waitEnd(t, 1); o.Outcome != "canceled" || o.Operation != "" {
		t.Errorf("observed %+v, want outcome canceled and no operation", o)
	}
	select {
	case <-called:
		t.Error("the operation ran for a client that had gone")
	default:
	}
}
