package soap

import "context"

type ctxKey int

const (
	versionKey ctxKey = iota
	principalKey
	requestIDKey
)

// VersionFrom is the SOAP version of the request in ctx, 0 when there is none.
func VersionFrom(ctx context.Context) Version {
	v, _ := ctx.Value(versionKey).(Version)
	return v
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
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func withVersion(ctx context.Context, v Version) context.Context {
	return context.WithValue(ctx, versionKey, v)
}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}
