package soap

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
)

// The bounds serve uses when none is configured (this package applies them
// only when the Config says so: a zero there means no bound).
const (
	DefaultMaxUploads   = 1024
	DefaultMemoryBudget = 1 << 30
)

// memoryFactor is how many bytes of memory one request takes per byte of its
// body, from the first byte read to the response: the body buffer (grown by
// doubling), the tree, the signature check and the strict decode. It is
// measured by TestMemoryFactor (bytes allocated per body byte, runtime.MemStats
// TotalAlloc, on 1 MiB envelopes), which fails when it no longer covers them:
//
//	unsigned, text in a few large elements          ~  4 bytes per body byte
//	unsigned, 20,000 small repeated elements        ~ 15
//	signed (RSA-SHA256, exc-c14n), small elements   ~ 16
//	unsigned, densest tree the element limit allows ~ 21
//
// The allocation total over-counts the live peak (the garbage of one phase is
// collectable in the next), which is the safe side for a budget.
const memoryFactor = 24

// limiter bounds how many of something happen at once, without queueing: nil
// is no bound.
type limiter chan struct{}

func newLimiter(n int) limiter {
	if n <= 0 {
		return nil
	}
	return make(limiter, n)
}

// acquire takes a place without waiting; false when none is free.
func (l limiter) acquire() bool {
	if l == nil {
		return true
	}
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l limiter) release() {
	if l != nil {
		<-l
	}
}

// memoryBudget is the server-wide bound on the memory of request bodies and
// the trees built from them, in bytes. A nil budget has no bound.
type memoryBudget struct {
	limit int64
	used  atomic.Int64
}

func newMemoryBudget(limit int64) *memoryBudget {
	if limit <= 0 {
		return nil
	}
	return &memoryBudget{limit: limit}
}

// reserve takes n bytes of the budget; false, taking nothing, when they do not fit.
func (b *memoryBudget) reserve(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (b *memoryBudget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// reservation is what one request holds of the memory budget.
type reservation struct {
	budget *memoryBudget
	bytes  int64
}

// grow raises the reservation to total bytes; false, keeping what it had, when
// the budget cannot give the difference.
func (r *reservation) grow(total int64) bool {
	if total <= r.bytes {
		return true
	}
	if !r.budget.reserve(total - r.bytes) {
		return false
	}
	r.bytes = total
	return true
}

func (r *reservation) release() {
	r.budget.release(r.bytes)
	r.bytes = 0
}

// Why a request was refused for the server's sake rather than its own.
var (
	errBusyInFlight = &Error{Code: CodeUnavailable, Status: http.StatusServiceUnavailable,
		Message: "the server is at its limit of requests in flight: retry later"}
	errBusyUploads = &Error{Code: CodeUnavailable, Status: http.StatusServiceUnavailable,
		Message: "the server is at its limit of request bodies being received: retry later"}
	errBusyMemory = &Error{Code: CodeUnavailable, Status: http.StatusServiceUnavailable,
		Message: "the server is at its memory limit for requests: retry later"}
)

// shed refuses a request because the server is at one of its limits: a
// Receiver fault (UNAVAILABLE) with HTTP 503 and Retry-After. closeConn says
// the body was not read (all of it), so the connection cannot be reused.
func (h *Handler) shed(ctx context.Context, w http.ResponseWriter, x *exchange, err *Error, closeConn bool) {
	w.Header().Set("Retry-After", "1")
	if closeConn {
		w.Header().Set("Connection", "close")
	}
	h.fail(ctx, w, x, err)
}

// abandoned reports a request whose context ended (the client went away, or
// a deadline passed) between two phases: the work stops there. Whatever is
// written is likely never read; the log says "canceled".
func (h *Handler) abandoned(ctx context.Context, w http.ResponseWriter, x *exchange, cause error) {
	h.fail(ctx, w, x, &Error{Code: CodeUnavailable, Status: http.StatusServiceUnavailable,
		Message: "the request was abandoned before it completed", Err: cause})
	x.outcome = "canceled"
}

// budgetError says a configured memory budget cannot hold even one request.
func budgetError(budget, maxBody int64) string {
	return "soap: MemoryBudget " + strconv.FormatInt(budget, 10) + " cannot hold one request of MaxBodyBytes " +
		strconv.FormatInt(maxBody, 10) + " (" + strconv.Itoa(memoryFactor) + " bytes of memory per body byte)"
}
