package wssec

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/soap"
)

// A request whose context has ended costs nothing more.
func TestVerifyContext_AlreadyCancelled(t *testing.T) {
	text := honestRequest(t, 2000)
	v := testVerifier(t, nil)
	var spent int64 = -1
	v.hooks = &workHooks{done: func(w *work, _ error) { spent = w.total() }}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.VerifyContext(ctx, parseDoc(t, text))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if spent != 0 {
		t.Errorf("work after cancellation = %d, want 0", spent)
	}
}

// cancelledMidway verifies text, cancelling the context at the first context check after `after` units of
// work, and returns the work done when it cancelled and in all.
func cancelledMidway(t *testing.T, text string, after int64) (atCancel, final int64, err error) {
	t.Helper()
	v := testVerifier(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	atCancel = -1
	v.hooks = &workHooks{
		check: func(w *work) {
			if atCancel < 0 && w.total() >= after {
				atCancel = w.total()
				cancel()
			}
		},
		done: func(w *work, _ error) { final = w.total() },
	}
	_, err = v.VerifyContext(ctx, parseDoc(t, text))
	return atCancel, final, err
}

// Cancelled at any point (in the ID index, canonicalization or between references), a large message stops
// at the next context check: the work after cancellation is at most checkEvery units and a small fraction of
// the full verification.
func TestVerifyContext_CancelledMidway(t *testing.T) {
	text := honestRequest(t, 20000)
	full, err := verifyWork(t, text)
	if err != nil {
		t.Fatal(err)
	}
	for _, frac := range []float64{0.01, 0.25, 0.5, 0.75, 0.95} {
		after := int64(frac * float64(full.total()))
		atCancel, final, err := cancelledMidway(t, text, after)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d of %d units: err = %v, want context.Canceled", after, full.total(), err)
		}
		t.Logf("cancelled at %d of %d units, stopped at %d", atCancel, full.total(), final)
		if atCancel < 0 || final-atCancel > checkEvery || final >= full.total() {
			t.Errorf("cancelled at %d of %d units: stopped at %d, want within %d", atCancel, full.total(), final, checkEvery)
		}
	}
}

// Over a real listener: a client that sends a large signed request and hangs up while it is verified stops
// the verification; the server's count of work stops growing at the disconnect and the operation never runs.
func TestVerifyContext_ClientDisconnects(t *testing.T) {
	text := honestRequest(t, 20000)
	full, err := verifyWork(t, text)
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, nil)
	started := make(chan struct{})
	type outcome struct {
		atDisconnect, final int64
		err                 error
	}
	ended := make(chan outcome, 1)
	var atDisconnect int64 = -1
	v.hooks = &workHooks{
		check: func(w *work) {
			if atDisconnect >= 0 || w.total() == 0 {
				return
			}
			// Part way into the ID index: let the client hang up, and wait until the server has noticed.
			close(started)
			select {
			case <-w.ctx.Done():
			case <-time.After(10 * time.Second):
			}
			atDisconnect = w.total()
		},
		done: func(w *work, err error) { ended <- outcome{atDisconnect, w.total(), err} },
	}
	var calls atomic.Int32
	op := soap.Op(ping{}.XMLName, "urn:crmsoap:test#Ping", func(ctx context.Context, req *ping) (*pingResponse, error) {
		calls.Add(1)
		return &pingResponse{}, nil
	})
	h, err := soap.NewHandler(soap.Config{
		Operations: []soap.Operation{op}, Security: v.SOAP(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"urn:crmsoap:test#Ping"`)
	clientErr := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("verification did not start")
	}
	hangUp()
	if err := <-clientErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context.Canceled", err)
	}
	var o outcome
	select {
	case o = <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("verification did not end")
	}
	t.Logf("full verification %d units; disconnected at %d, stopped at %d: %v", full.total(), o.atDisconnect, o.final, o.err)
	if !errors.Is(o.err, context.Canceled) {
		t.Fatalf("verification ended with %v, want context.Canceled", o.err)
	}
	if o.final-o.atDisconnect > checkEvery || o.final*10 > full.total() {
		t.Errorf("work went on after the disconnect: %d -> %d units (full %d)", o.atDisconnect, o.final, full.total())
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("operation ran %d times", n)
	}
}

// A Security hook whose request ended answers with a receiver fault, not an internal error.
func TestSOAP_EndedRequestIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := &soap.Envelope{Doc: parseDoc(t, honestRequest(t, 10))}
	_, _, err := testVerifier(t, nil).SOAP().Check(ctx, env)
	var se *soap.Error
	if !errors.As(err, &se) || se.Code != soap.CodeUnavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a soap.Error UNAVAILABLE wrapping context.Canceled", err)
	}
}
