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

// RequestKey identifies a write for safe retries: the client's message id
// (WS-Addressing MessageID, or any transport's equivalent), the operation, and
// a hash of the request in a canonical form, so that a retry of the same
// request, however re-signed or re-encoded, has the same key.
type RequestKey struct {
	MessageID string
	Operation string
	Hash      [32]byte
}

type requestKeyKey struct{}

// WithRequestKey returns ctx carrying the request key of a write: a write whose
// key was seen before (for the same caller) is not executed again; its stored
// outcome is returned, or IDEMPOTENCY_MISMATCH when the operation or hash differ.
func WithRequestKey(ctx context.Context, k RequestKey) context.Context {
	return context.WithValue(ctx, requestKeyKey{}, k)
}

// RequestKeyFrom is the request key in ctx; ok is false when there is none.
func RequestKeyFrom(ctx context.Context) (k RequestKey, ok bool) {
	k, ok = ctx.Value(requestKeyKey{}).(RequestKey)
	return k, ok && k.MessageID != ""
}
