package soap

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// exchange is what the request log line says about one request.
type exchange struct {
	hdr       [3]string // values of the X-Request-Id, Content-Type and Content-Length headers
	start     time.Time
	id        string
	version   Version
	op        string
	principal string
	outcome   string
	bytesIn   int
	// security is the WS-Security fault of a refused message: subcode and reason.
	security      string
	securityCause string
	// wsa is what the request's WS-Addressing headers said (see addressing).
	wsa addressing
	// authenticated: the request passed Security, so its answer is signed;
	// signed: the answer was.
	authenticated, signed bool
}

// countingWriter records the status and the bytes written.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Indexes in exchange.hdr.
const (
	hdrRequestID = iota
	hdrContentType
	hdrContentLength
)

// logRequest writes the one Info line per request. It never logs bodies.
func (h *Handler) logRequest(r *http.Request, x *exchange, w *countingWriter) {
	attrs := []slog.Attr{
		slog.String("request_id", x.id),
		slog.String("remote", r.RemoteAddr),
		slog.String("method", r.Method),
		slog.String("op", x.op),
		slog.String("soap_version", x.version.String()),
		slog.String("principal", x.principal),
		slog.String("outcome", x.outcome),
		slog.Int("status", w.status),
		slog.Duration("duration", time.Since(x.start)),
		slog.Int("bytes_in", x.bytesIn),
		slog.Int("bytes_out", w.bytes),
	}
	if x.security != "" {
		attrs = append(attrs, slog.String("security_failure", x.security), slog.String("reason", x.securityCause))
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "soap request", attrs...)
}

// finish logs the request and reports it to the observer.
func (h *Handler) finish(ctx context.Context, r *http.Request, x *exchange, w *countingWriter) {
	if h.log.Enabled(ctx, slog.LevelInfo) {
		h.logRequest(r, x, w)
	}
	if h.cfg.Observer != nil {
		h.cfg.Observer.End(Observation{
			Operation: x.op, Version: x.version, Outcome: x.outcome, SecurityFailure: x.security,
			Principal: x.principal, Status: w.status, Duration: time.Since(x.start),
			BytesIn: x.bytesIn, BytesOut: w.bytes, Signed: x.signed,
		})
	}
}
