package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// DefaultIdempotencyTTL is how long the outcome of a write with a request key
// is kept for retries.
const DefaultIdempotencyTTL = 24 * time.Hour

// maxMessageID is the longest message id kept for retries, in bytes (a
// urn:uuid is 45).
const maxMessageID = 256

// storedOutcome is one item's Outcome as kept for replay: the value or the
// error's code, message and field (never its cause).
type storedOutcome[T any] struct {
	V       *T     `json:"v,omitempty"`
	Created bool   `json:"c,omitempty"`
	Code    Code   `json:"e,omitempty"`
	Message string `json:"m,omitempty"`
	Field   string `json:"f,omitempty"`
}

func encodeOutcomes[T any](out []Outcome[T]) ([]byte, error) {
	st := make([]storedOutcome[T], len(out))
	for i, o := range out {
		if o.Err != nil {
			st[i] = storedOutcome[T]{Code: o.Err.Code, Message: o.Err.Message, Field: o.Err.Field}
			continue
		}
		st[i] = storedOutcome[T]{V: &out[i].Value, Created: o.Created}
	}
	return json.Marshal(st)
}

func decodeOutcomes[T any](b []byte) ([]Outcome[T], error) {
	var st []storedOutcome[T]
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("stored outcome: %w", err)
	}
	out := make([]Outcome[T], len(st))
	for i, s := range st {
		switch {
		case s.Code != "":
			out[i].Err = &Error{Code: s.Code, Message: s.Message, Field: s.Field}
		case s.V != nil:
			out[i] = Outcome[T]{Value: *s.V, Created: s.Created}
		default:
			return nil, fmt.Errorf("stored outcome %d has neither value nor error", i)
		}
	}
	return out, nil
}

// replay looks up the outcome stored under the request key k for the caller
// in ctx: found is false when there is none; IDEMPOTENCY_MISMATCH when the key's
// message id came with another operation or request.
func replay[T any](ctx context.Context, s *Service, k RequestKey) (out []Outcome[T], found bool, err error) {
	if len(k.MessageID) > maxMessageID {
		return nil, false, invalid("MessageID", "is %d bytes long; at most %d are kept for retries", len(k.MessageID), maxMessageID)
	}
	rec, err := s.db.LookupIdempotency(ctx, CallerFrom(ctx), k.MessageID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, s.fail(fromStore(err, "idempotency record"))
	case rec.Operation != k.Operation || rec.RequestHash != k.Hash:
		return nil, true, &Error{Code: CodeIdempotencyMismatch, Field: "MessageID",
			Message: fmt.Sprintf("message id %q was used before for a different request (%s): a retry must repeat its request unchanged; a new request needs a new message id",
				clip(k.MessageID), rec.Operation)}
	}
	out, err = decodeOutcomes[T](rec.Response)
	if err != nil {
		return nil, true, s.fail(&Error{Code: CodeInternal, Message: "internal error", Err: err})
	}
	return out, true, nil
}

// writeBatch runs a validated batch: once per request key (see
// WithRequestKey), as one store call whose results conv turns into Outcomes.
// exec calls the store with the operations and the idempotency record (nil
// without a request key), whose Encode it sets from encode.
func writeBatch[Op, R, T any](ctx context.Context, s *Service, b *batch[Op], allOrNone bool,
	exec func(ops []Op, idem *store.IdempotencyRecord, encode func([]R) ([]byte, error)) ([]R, error),
	conv func(op Op, r R) Outcome[T],
) ([]Outcome[T], error) {
	key, keyed := RequestKeyFrom(ctx)
	if keyed {
		if out, found, err := replay[T](ctx, s, key); found || err != nil {
			return out, err
		}
	}
	merge := func(results []R) []Outcome[T] {
		return outcomes(b, allOrNone, results, func(k int, r R) Outcome[T] { return conv(b.ops[k], r) })
	}
	if !b.runnable(allOrNone) {
		return merge(nil), nil
	}
	var idem *store.IdempotencyRecord
	if keyed {
		idem = &store.IdempotencyRecord{Client: CallerFrom(ctx), MessageID: key.MessageID, Operation: key.Operation,
			RequestHash: key.Hash, Expires: s.now().Add(s.idempotencyTTL())}
	}
	results, err := exec(b.ops, idem, func(rs []R) ([]byte, error) { return encodeOutcomes(merge(rs)) })
	if keyed && (errors.Is(err, store.ErrIdempotencyRace) || err == nil && raced(results)) {
		// Another request with the same key committed first: answer what it stored.
		out, found, rerr := replay[T](ctx, s, key)
		if !found && rerr == nil {
			rerr = s.fail(&Error{Code: CodeInternal, Message: "internal error", Err: errors.New("idempotency race without a stored record")})
		}
		return out, rerr
	}
	if err != nil {
		return nil, s.fail(fromStore(err, "bulk write"))
	}
	return merge(results), nil
}

// raced reports whether a store result says another transaction stored the
// same request key first.
func raced[R any](results []R) bool {
	for _, r := range results {
		var err error
		switch r := any(r).(type) {
		case store.CustomerResult:
			err = r.Err
		case store.ProductResult:
			err = r.Err
		case store.OrderResult:
			err = r.Err
		case store.ReviewResult:
			err = r.Err
		}
		if errors.Is(err, store.ErrIdempotencyRace) {
			return true
		}
	}
	return false
}

func (s *Service) idempotencyTTL() time.Duration {
	if s.IdempotencyTTL > 0 {
		return s.IdempotencyTTL
	}
	return DefaultIdempotencyTTL
}

// PurgeIdempotency forgets the outcomes of writes older than the idempotency
// TTL and returns how many it removed; serve runs it periodically.
func (s *Service) PurgeIdempotency(ctx context.Context) (int, error) {
	n, err := s.db.PurgeIdempotency(ctx, s.now())
	if err != nil {
		return 0, s.fail(fromStore(err, "idempotency records"))
	}
	return n, nil
}
