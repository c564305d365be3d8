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

// request is one request ready to send: its headers (shared, never modified)
// and body.
type request struct {
	header http.Header
	body   []byte
}

// soapHeader is the header of every SOAP 1.1 request for action.
func soapHeader(action string) http.Header {
	return http.Header{"Content-Type": {"text/xml; charset=utf-8"}, "SOAPAction": {`"` + action + `"`}}
}

// source hands out requests to the workers: round-robin over a fixed ring
// (cycle), each request once (pre-signed envelopes, which the server's
// replay cache would refuse a second time), or, with gen, request number i
// built when it is taken (bulk bodies too large to hold a ring of).
type source struct {
	reqs  []request
	cycle bool
	gen   func(i int) request
	next  atomic.Int64
	// check, when set, reads every answer and returns an error for a failed one: bulk calls
	// answer HTTP 200 with a failure per item.
	check func(body []byte) error
}

func (s *source) take() (*request, bool) {
	i := s.next.Add(1) - 1
	if s.gen != nil {
		r := s.gen(int(i))
		return &r, true
	}
	if s.cycle {
		return &s.reqs[i%int64(len(s.reqs))], true
	}
	if i >= int64(len(s.reqs)) {
		return nil, false
	}
	return &s.reqs[i], true
}

// target is a server under load; pid is 0 when its CPU time cannot be read.
type target struct {
	url     *url.URL
	pid     int
	admin   string // HOST:PORT of the server's admin listener, for --profile and the pool's metrics
	dbPID   int    // PostgreSQL's postmaster on this machine, for its CPU; 0: not measured
	profile string // where to save a CPU profile of the timed window
}

// result is what one timed run measured.
type result struct {
	requests, errors int64
	elapsed          time.Duration
	hist             histogram
	serverCPU        float64 // seconds; < 0 when unknown
	dbCPU            float64 // seconds of the PostgreSQL server (all its processes); < 0 when unknown
	roundTrips       float64 // to the database, from the server's pool metrics; < 0 when unknown
	clientCPU        float64 // seconds of this process
	ranOut           bool    // the pre-signed envelopes ran out before the end
	firstErr         string
	profileErr       error
}

const (
	phaseWarm int32 = iota
	phaseMeasure
	phaseStop
)

// load runs conns workers against t until src runs out, ctx ends, or
// warmup+duration has passed; only requests started after the warm-up count.
func load(ctx context.Context, tr *http.Transport, t target, src *source, conns int, warmup, duration time.Duration) (*result, error) {
	var phase atomic.Int32
	var win window
	if warmup <= 0 {
		win.open(ctx, t, &phase, duration) // before the first request, which must count
	}
	workers := make([]*worker, conns)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := range workers {
		w, err := newWorker(ctx, tr, t.url, &phase, src.check)
		if err != nil {
			return nil, err
		}
		workers[i] = w
		wg.Go(func() { w.loop(src) })
	}
	go func() { wg.Wait(); close(done) }()

	stopped := false
	if warmup > 0 {
		stopped = waitFor(ctx, done, warmup)
		win.open(ctx, t, &phase, duration)
	}
	if !stopped {
		waitFor(ctx, done, duration)
	}
	phase.Store(phaseStop)
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

// window is the timed window: its start and the CPU times at its start.
type window struct {
	start        time.Time
	server, self float64
	serverErr    error
	db, trips    float64 // < 0: unknown
	waitProfile  func() error
}

func (win *window) open(ctx context.Context, t target, phase *atomic.Int32, d time.Duration) {
	win.trips = roundTrips(ctx, t) // first: the scrape's own CPU stays out of the window
	win.server, win.serverErr = processCPU(t.pid)
	win.self, _ = processCPU(0)
	win.db = dbCPU(t)
	win.start = time.Now()
	phase.Store(phaseMeasure)
	win.waitProfile = t.startProfile(ctx, d)
}

func (win *window) close(t target) *result {
	run := &result{elapsed: time.Since(win.start), serverCPU: -1, dbCPU: -1, roundTrips: -1}
	server, err := processCPU(t.pid)
	self, _ := processCPU(0)
	if db := dbCPU(t); db >= 0 && win.db >= 0 {
		run.dbCPU = db - win.db
	}
	if trips := roundTrips(context.Background(), t); trips >= 0 && win.trips >= 0 {
		run.roundTrips = trips - win.trips
	}
	if t.pid > 0 && err == nil && win.serverErr == nil {
		run.serverCPU = server - win.server
	}
	run.clientCPU = self - win.self
	return run
}

// waitFor waits for d, for every worker to finish or for ctx; it reports
// whether the workers finished.
func waitFor(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
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

// worker is one client connection's loop. Each request is a shallow copy
// of a template with a fresh bytes.Reader over a pre-built body: the transport
// may still read a request's body after RoundTrip has returned (it checks for
// bytes beyond Content-Length once the response is in), so neither is reused.
type worker struct {
	tr       *http.Transport
	tmpl     *http.Request
	cur      []byte // the body being sent, for GetBody
	phase    *atomic.Int32
	hist     histogram
	errors   int64
	ranOut   bool
	firstErr string
	check    func(body []byte) error
	buf      bytes.Buffer // the answer, when check reads it
}

func newWorker(ctx context.Context, tr *http.Transport, u *url.URL, phase *atomic.Int32, check func([]byte) error) (*worker, error) {
	tmpl, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	w := &worker{tr: tr, tmpl: tmpl, phase: phase, check: check}
	// Set once: the transport calls GetBody, from RoundTrip, only to resend on a keep-alive connection
	// that the server had closed.
	tmpl.GetBody = w.getBody
	return w, nil
}

func (w *worker) loop(src *source) {
	for {
		p := w.phase.Load()
		if p == phaseStop {
			return
		}
		r, ok := src.take()
		if !ok {
			w.ranOut = true
			return
		}
		start := time.Now()
		err := w.do(r)
		if p != phaseMeasure {
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
func (w *worker) do(r *request) error {
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
	if w.check == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	return w.check(w.buf.Bytes())
}

func (w *worker) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(w.cur)), nil
}
