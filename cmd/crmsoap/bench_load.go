package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// benchReq is one request ready to send: its headers (shared, never modified)
// and body.
type benchReq struct {
	header http.Header
	body   []byte
}

// benchHeader is the header of every SOAP 1.1 request for action.
func benchHeader(action string) http.Header {
	return http.Header{"Content-Type": {"text/xml; charset=utf-8"}, "SOAPAction": {`"` + action + `"`}}
}

// benchSource hands out requests to the workers: round-robin over a fixed ring
// (cycle), or each request once (pre-signed envelopes, which the server's
// replay cache would refuse a second time).
type benchSource struct {
	reqs  []benchReq
	cycle bool
	next  atomic.Int64
}

func (s *benchSource) take() (*benchReq, bool) {
	i := s.next.Add(1) - 1
	if s.cycle {
		return &s.reqs[i%int64(len(s.reqs))], true
	}
	if i >= int64(len(s.reqs)) {
		return nil, false
	}
	return &s.reqs[i], true
}

// benchTarget is a server under load; pid is 0 when its CPU time cannot be read.
type benchTarget struct {
	url     *url.URL
	pid     int
	admin   string // HOST:PORT of the server's admin listener, for --profile
	profile string // where to save a CPU profile of the timed window
}

// benchRun is what one timed run measured.
type benchRun struct {
	requests, errors int64
	elapsed          time.Duration
	hist             benchHist
	serverCPU        float64 // seconds; < 0 when unknown
	clientCPU        float64 // seconds of this process
	ranOut           bool    // the pre-signed envelopes ran out before the end
	firstErr         string
	profileErr       error
}

const (
	benchWarm int32 = iota
	benchMeasure
	benchStop
)

// benchLoad runs conns workers against t until src runs out, ctx ends, or
// warmup+duration has passed; only requests started after the warm-up count.
func benchLoad(ctx context.Context, tr *http.Transport, t benchTarget, src *benchSource, conns int, warmup, duration time.Duration) (*benchRun, error) {
	var phase atomic.Int32
	var win benchWindow
	if warmup <= 0 {
		win.open(ctx, t, &phase, duration) // before the first request, which must count
	}
	workers := make([]*benchWorker, conns)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := range workers {
		w, err := newBenchWorker(ctx, tr, t.url, &phase)
		if err != nil {
			return nil, err
		}
		workers[i] = w
		wg.Go(func() { w.loop(src) })
	}
	go func() { wg.Wait(); close(done) }()

	stopped := false
	if warmup > 0 {
		stopped = benchWait(ctx, done, warmup)
		win.open(ctx, t, &phase, duration)
	}
	if !stopped {
		benchWait(ctx, done, duration)
	}
	phase.Store(benchStop)
	run := win.close(t)
	<-done
	run.profileErr = win.waitProfile()
	for _, w := range workers {
		run.hist.merge(&w.hist)
		run.requests += w.hist.n
		run.errors += w.errors
		run.ranOut = run.ranOut || w.ranOut
		if run.firstErr == "" {
			run.firstErr = w.firstErr
		}
	}
	return run, ctx.Err()
}

// benchWindow is the timed window: its start and the CPU times at its start.
type benchWindow struct {
	start        time.Time
	server, self float64
	serverErr    error
	waitProfile  func() error
}

func (win *benchWindow) open(ctx context.Context, t benchTarget, phase *atomic.Int32, d time.Duration) {
	win.server, win.serverErr = benchProcessCPU(t.pid)
	win.self, _ = benchProcessCPU(0)
	win.start = time.Now()
	phase.Store(benchMeasure)
	win.waitProfile = t.startProfile(ctx, d)
}

func (win *benchWindow) close(t benchTarget) *benchRun {
	run := &benchRun{elapsed: time.Since(win.start), serverCPU: -1}
	server, err := benchProcessCPU(t.pid)
	self, _ := benchProcessCPU(0)
	if t.pid > 0 && err == nil && win.serverErr == nil {
		run.serverCPU = server - win.server
	}
	run.clientCPU = self - win.self
	return run
}

// benchWait waits for d, for every worker to finish or for ctx; it reports
// whether the workers finished.
func benchWait(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// benchWorker is one client connection's loop. Each request is a shallow copy
// of a template with a fresh bytes.Reader over a pre-built body: the transport
// may still read a request's body after RoundTrip has returned (it checks for
// bytes beyond Content-Length once the response is in), so neither is reused.
type benchWorker struct {
	tr       *http.Transport
	tmpl     *http.Request
	cur      []byte // the body being sent, for GetBody
	phase    *atomic.Int32
	hist     benchHist
	errors   int64
	ranOut   bool
	firstErr string
}

func newBenchWorker(ctx context.Context, tr *http.Transport, u *url.URL, phase *atomic.Int32) (*benchWorker, error) {
	tmpl, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	w := &benchWorker{tr: tr, tmpl: tmpl, phase: phase}
	// Set once: the transport calls GetBody, from RoundTrip, only to resend on a keep-alive connection
	// that the server had closed.
	tmpl.GetBody = w.getBody
	return w, nil
}

func (w *benchWorker) loop(src *benchSource) {
	for {
		p := w.phase.Load()
		if p == benchStop {
			return
		}
		r, ok := src.take()
		if !ok {
			w.ranOut = true
			return
		}
		start := time.Now()
		err := w.do(r)
		if p != benchMeasure {
			continue
		}
		w.hist.record(time.Since(start))
		if err != nil {
			w.errors++
			if w.firstErr == "" {
				w.firstErr = err.Error()
			}
		}
	}
}

// do sends r and reads the whole response; any status but 200 is an error.
func (w *benchWorker) do(r *benchReq) error {
	req := new(http.Request)
	*req = *w.tmpl
	req.Header = r.header
	req.Body = io.NopCloser(bytes.NewReader(r.body))
	req.ContentLength = int64(len(r.body))
	w.cur = r.body
	resp, err := w.tr.RoundTrip(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		sample, _ := io.ReadAll(io.LimitReader(resp.Body, 600))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(sample))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

func (w *benchWorker) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(w.cur)), nil
}
