package soap

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// errTooSlow and errOverBudget end a body read early.
var (
	errTooSlow    = errors.New("request body slower than the minimum upload rate")
	errOverBudget = errors.New("request body does not fit the memory budget")
)

// readBody reads the whole request body into buf under three bounds:
// MaxBodyBytes, the memory budget (each byte reserved in res as it arrives)
// and the minimum upload rate. The caller releases res.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, res *reservation) error {
	// A body announced larger than the limit is refused before a byte of it is read.
	if h.cfg.MaxBodyBytes > 0 && r.ContentLength > h.cfg.MaxBodyBytes {
		return &http.MaxBytesError{Limit: h.cfg.MaxBodyBytes}
	}
	br := &budgetReader{r: http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes), res: res}
	var g *rateGuard
	if h.cfg.MinUploadRate > 0 {
		g = startRateGuard(http.NewResponseController(w), &br.n, h.cfg.UploadGrace, h.cfg.MinUploadRate)
	}
	_, err := buf.ReadFrom(br)
	if g != nil && g.stop() {
		return errTooSlow
	}
	return err
}

// budgetReader reserves every byte it reads in the request's reservation, and
// counts them for the rate guard.
type budgetReader struct {
	r   io.Reader
	res *reservation
	n   atomic.Int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		total := b.n.Add(int64(n))
		if !b.res.grow(total) {
			return n, errOverBudget
		}
	}
	return n, err
}

// rateGuard cuts a body that arrives slower than rate bytes per second once
// the grace period has passed: by then at least rate × (elapsed − grace)
// bytes must have arrived. It checks when the bytes seen so far stop being
// enough, and cuts by moving the connection's read deadline to now, which
// ends the Read the handler is blocked in. It never extends a deadline, so
// the server's ReadTimeout still bounds the whole body.
type rateGuard struct {
	rc    *http.ResponseController
	n     *atomic.Int64
	start time.Time
	grace time.Duration
	rate  int64

	mu    sync.Mutex
	timer *time.Timer
	done  bool
	cut   bool
}

func startRateGuard(rc *http.ResponseController, n *atomic.Int64, grace time.Duration, rate int64) *rateGuard {
	g := &rateGuard{rc: rc, n: n, start: time.Now(), grace: grace, rate: rate}
	g.mu.Lock()
	g.timer = time.AfterFunc(g.due(0).Sub(g.start), g.check)
	g.mu.Unlock()
	return g
}

// due is when n bytes stop being enough.
func (g *rateGuard) due(n int64) time.Time {
	secs := n / g.rate
	if secs > 1<<20 { // far beyond any read timeout; keeps the Duration from overflowing
		secs = 1 << 20
	}
	frac := time.Duration(n%g.rate) * time.Second / time.Duration(g.rate)
	return g.start.Add(g.grace + time.Duration(secs)*time.Second + frac)
}

func (g *rateGuard) check() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return
	}
	if wait := time.Until(g.due(g.n.Load())); wait > 0 {
		g.timer.Reset(wait + time.Millisecond)
		return
	}
	g.cut = true
	// A writer without deadlines (a test's recorder) reads from memory and
	// never blocks: the cut is then reported when the read returns.
	_ = g.rc.SetReadDeadline(time.Now())
}

// stop ends the guard and reports whether it cut the body.
func (g *rateGuard) stop() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.done = true
	g.timer.Stop()
	return g.cut
}

// readError turns a failed body read into the fault to send, and says whether
// the server refuses for its own sake (503, Retry-After). Any failed read
// leaves the body unread, so the connection is closed after the answer.
func (h *Handler) readError(w http.ResponseWriter, err error) (e *Error, shed bool) {
	w.Header().Set("Connection", "close")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &Error{Code: CodeMalformedRequest, Status: http.StatusRequestEntityTooLarge,
			Message: "request body exceeds " + strconv.FormatInt(h.cfg.MaxBodyBytes, 10) + " bytes"}, false
	case errors.Is(err, errOverBudget):
		return errBusyMemory, true
	case errors.Is(err, errTooSlow):
		return &Error{Code: CodeMalformedRequest, Status: http.StatusRequestTimeout, Err: err,
			Message: "the request body arrived slower than " + strconv.FormatInt(h.cfg.MinUploadRate, 10) + " bytes per second"}, false
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &Error{Code: CodeMalformedRequest, Status: http.StatusRequestTimeout, Err: err,
			Message: "the request body did not arrive within the server's read timeout"}, false
	}
	return &Error{Code: CodeMalformedRequest, Message: "cannot read the request body", Err: err}, false
}
