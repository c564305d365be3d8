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

// benchReq is one request ready to send: its SOAPAction header value and body.
type benchReq struct {
	action []string
	body   []byte
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
	workers := make([]*benchWorker, conns)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := range workers {
		w, err := newBenchWorker(ctx, tr, t.url, &phase)
		if err != nil {
			return nil, err
		}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.loop(src) }()
	}
	go func() { wg.Wait(); close(done) }()

	stopped := benchWait(ctx, done, warmup)
	run := &benchRun{serverCPU: -1}
	cpu0, cpuErr := benchProcessCPU(t.pid)
	self0, _ := benchProcessCPU(0)
	start := time.Now()
	phase.Store(benchMeasure)
	waitProfile := t.startProfile(ctx, duration)
	if !stopped {
		benchWait(ctx, done, duration)
	}
	phase.Store(benchStop)
	run.elapsed = time.Since(start)
	cpu1, cpuErr1 := benchProcessCPU(t.pid)
	self1, _ := benchProcessCPU(0)
	<-done
	run.profileErr = waitProfile()
	if t.pid > 0 && cpuErr == nil && cpuErr1 == nil {
		run.serverCPU = cpu1 - cpu0
	}
	run.clientCPU = self1 - self0
	for _, w := range workers {
		run.hist.merge(&w.hist)
		run.requests += w.hist.n
		run.errors += w.errors
		run.ranOut = run.ranOut || w.ranOut
		if run.firstErr == "" {
			run.firstErr = w.firstErr
		}
	}
	if err := ctx.Err(); err != nil {
		return run, err
	}
	return run, nil
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

// benchWorker is one client connection's loop. It reuses its request and body
// reader, so the generator allocates nothing per request beyond net/http.
type benchWorker struct {
	tr       *http.Transport
	req      *http.Request
	body     *benchBody
	cur      []byte
	phase    *atomic.Int32
	hist     benchHist
	errors   int64
	ranOut   bool
	firstErr string
}

// benchBody is a re-armable request body.
type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

func newBenchWorker(ctx context.Context, tr *http.Transport, u *url.URL, phase *atomic.Int32) (*benchWorker, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{"text/xml; charset=utf-8"}
	w := &benchWorker{tr: tr, req: req, body: new(benchBody), phase: phase}
	// Set once: the transport calls GetBody only to retry on a dead keep-alive connection.
	req.GetBody = w.getBody
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
	w.cur = r.body
	w.body.Reset(r.body)
	w.req.Body = w.body
	w.req.ContentLength = int64(len(r.body))
	w.req.Header["SOAPAction"] = r.action
	resp, err := w.tr.RoundTrip(w.req)
	if err != nil {
		w.fresh()
		return err
	}
	if resp.StatusCode != http.StatusOK {
		sample, _ := io.ReadAll(io.LimitReader(resp.Body, 600))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		w.fresh()
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(sample))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

// fresh replaces the request and body after a failure, when the transport may
// still be reading the old ones.
func (w *benchWorker) fresh() {
	w.req = w.req.Clone(w.req.Context())
	w.req.Header["SOAPAction"] = nil
	w.req.GetBody = w.getBody
	w.body = new(benchBody)
}

func (w *benchWorker) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(w.cur)), nil
}
