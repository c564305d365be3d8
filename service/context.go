package service

import "context"

type callerKey struct{}

// WithCaller returns ctx carrying the authenticated client name of the request.
// The transport calls it once the caller is known; the service records the name
// on every customer the client creates, updates or deletes.
func WithCaller(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, callerKey{}, name)
}

// CallerFrom is the authenticated client of the request in ctx, "" when there is none.
func CallerFrom(ctx context.Context) string {
	name, _ := ctx.Value(callerKey{}).(string)
	return name
}
