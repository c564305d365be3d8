package soap

import (
	"bytes"
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

// What one request costs in memory, from the first byte read to the response:
// the body buffer (grown by doubling), the tree, the signature check and the
// strict decode. Memory grows with the body's bytes and, much faster, with its
// markup: every '<' (element, text node, closing tag) and every '=' (an
// attribute or namespace declaration) becomes nodes, slices and strings. So a
// request reserves
//
//	memoryBase + memoryPerByte × body bytes + memoryPerMark × ('<' and '=' in the body)
//
// before its tree is built. bytes.Count finds the marks at memory speed. The
// constants come from TestMemoryNeed (bytes allocated per request,
// runtime.MemStats TotalAlloc, unsigned and signed with ECDSA P-256 and
// exc-c14n), which fails when they no longer cover one of its envelopes:
//
//	envelope                          body      allocated: unsigned  signed          reserved (signed)
//	one record (signed: 3 KiB)        225 B     9.4 KiB (43/B)       46 KiB (16/B)   95 KiB
//	text in one element               1.0 MiB   5.0 MiB (5.0/B)      5.0 MiB (5.0/B) 8.1 MiB
//	24,000 records                    1.2 MiB    22 MiB (18.5/B)      22 MiB (18.7/B) 33 MiB
//	99,960 empty elements             880 KiB    46 MiB (53/B)        46 MiB (54/B)   56 MiB
//	16,000 elements × 10 attributes   875 KiB    30 MiB (35/B)        61 MiB (71/B)   93 MiB
//
// (/B: bytes allocated per body byte.) The marks cost about 480 bytes each
// (elements) and 370 (attributes, signed: c14n sorts and copies them).
//
// A single bytes-times-factor would have to be about 110 to cover the densest
// markup (4-byte elements): 440 MB reserved for a 4 MiB body of text that
// takes 20 MB. Allocations over-count the live peak (one phase's garbage is
// collectable in the next), which is the safe side for a budget.
const (
	memoryBase    = 32 << 10
	memoryPerByte = 8
	memoryPerMark = 512
)

// memoryNeed is what a request with this body reserves of the memory budget.
func memoryNeed(body []byte) int64 {
	marks := bytes.Count(body, []byte{'<'}) + bytes.Count(body, []byte{'='})
	return memoryBase + memoryPerByte*int64(len(body)) + memoryPerMark*int64(marks)
}

// MinMemoryBudget is the smallest Config.MemoryBudget NewHandler accepts with
// these MaxBodyBytes and MaxElements: it serves a largest body with as many
// elements and no attributes. Bodies of denser markup may need more than any
// budget gives: they are refused (413), not retried.
func MinMemoryBudget(maxBody int64, maxElements int) int64 {
	return memoryBase + memoryPerByte*maxBody + memoryPerMark*int64(maxElements)
}

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

// reserveTree raises the request's reservation to what building, verifying
// and decoding body will take; false, with the refusal written, when the
// budget cannot give it now (503) or ever (413).
func (h *Handler) reserveTree(ctx context.Context, w http.ResponseWriter, x *exchange, res *reservation, body []byte) bool {
	if h.budget == nil {
		return true
	}
	need := memoryNeed(body)
	switch {
	case need > h.budget.limit:
		h.fail(ctx, w, x, errTooMuchMarkup)
		return false
	case !res.grow(need):
		h.shed(ctx, w, x, errBusyMemory, false)
		return false
	}
	return true
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
func budgetError(budget, maxBody int64, maxElements int) string {
	return "soap: MemoryBudget " + strconv.FormatInt(budget, 10) + " cannot hold one request of MaxBodyBytes " +
		strconv.FormatInt(maxBody, 10) + " and MaxElements " + strconv.Itoa(maxElements) + ": it needs at least " +
		strconv.FormatInt(MinMemoryBudget(maxBody, maxElements), 10)
}

// errTooMuchMarkup refuses a body that needs more than the whole budget.
var errTooMuchMarkup = &Error{Code: CodeMalformedRequest, Status: http.StatusRequestEntityTooLarge,
	Message: "request body has more markup than the server's memory budget can hold"}
