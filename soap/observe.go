package soap

import (
	"context"
	"net/http"
	"time"
)

// Observation is what the handler reports about one finished request.
type Observation struct {
	Operation string // local name of the body element; "" when routing did not get that far
	Version   Version
	Outcome   string // "ok", a fault code, "VersionMismatch", "MustUnderstand", or "info"/"wsdl" for GETs
	// SecurityFailure is the WS-Security fault of a refused message (such as
	// "FailedCheck" or "MessageExpired"), "" otherwise.
	SecurityFailure string
	Principal       string
	Status          int
	Duration        time.Duration
	BytesIn         int
	BytesOut        int
}

// Observer receives request events, for metrics. Its methods are called on the
// request path, concurrently: they must be fast and safe for concurrent use.
type Observer interface {
	// Begin is called when a request starts; every Begin is followed by one End.
	Begin()
	End(Observation)
}

// acquire takes an in-flight slot without waiting; false when none is free.
func (h *Handler) acquire() bool {
	if h.slots == nil {
		return true
	}
	select {
	case h.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (h *Handler) release() {
	if h.slots != nil {
		<-h.slots
	}
}

// shed refuses a request because too many are in flight: a Receiver fault
// (UNAVAILABLE) with HTTP 503 and Retry-After, sent without reading the body.
func (h *Handler) shed(ctx context.Context, w http.ResponseWriter, r *http.Request, x *exchange) {
	x.version, _, _ = transport(r.Header)
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Connection", "close")
	h.fail(ctx, w, x, &Error{Code: CodeUnavailable, Status: http.StatusServiceUnavailable,
		Message: "the server is at its limit of requests in flight: retry later"})
}
