package soap

import (
	"context"
	"log/slog"
)

type ctxKey int

const (
	versionKey ctxKey = iota
	principalKey
	requestIDKey
)

// requestContext is the context of one request as the handler builds it: the
// request ID, and the SOAP version once the envelope is parsed, answered by one
// Value method rather than one context.WithValue (and allocation) each.
type requestContext struct {
	context.Context
	id      string
	version Version // 0 until the envelope is parsed
	x       *exchange
	log     *slog.Logger
}

func (c *requestContext) Value(key any) any {
	if key == versionKey || key == requestIDKey {
		return c
	}
	return c.Context.Value(key)
}

// VersionFrom is the SOAP version of the request in ctx, 0 when there is none.
func VersionFrom(ctx context.Context) Version {
	switch v := ctx.Value(versionKey).(type) {
	case *requestContext:
		return v.version
	case Version:
		return v
	}
	return 0
}

// PrincipalFrom is the authenticated principal of the request in ctx, "" when
// the request was not authenticated.
func PrincipalFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey).(string)
	return p
}

// WithPrincipal returns ctx carrying the authenticated principal name; a
// Security hook calls it once the message is verified.
func WithPrincipal(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, principalKey, name)
}

// RequestIDFrom is the ID of the request in ctx (also sent as X-Request-Id).
func RequestIDFrom(ctx context.Context) string {
	if c, ok := ctx.Value(requestIDKey).(*requestContext); ok {
		return c.id
	}
	return ""
}

// withVersion records the SOAP version in the request's context.
func withVersion(ctx context.Context, v Version) context.Context {
	if c, ok := ctx.(*requestContext); ok {
		c.version = v
		return c
	}
	return context.WithValue(ctx, versionKey, v)
}

// ReportInternal logs err, an internal failure an operation answers without a
// fault (such as one item of a bulk call), once, with the request id and
// operation, as the handler logs the INTERNAL faults it sends. Outside a
// request of a Handler it does nothing.
func ReportInternal(ctx context.Context, err error) {
	c, ok := ctx.Value(requestIDKey).(*requestContext)
	if !ok || c.log == nil {
		return
	}
	c.log.ErrorContext(ctx, "item failed", "request_id", c.id, "op", c.x.op, "err", err)
}
