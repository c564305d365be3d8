package service

import (
	"fmt"
)

// Bulk calls (AddCustomers, UpsertCustomers, ... and the same for every entity
// to come) share this machinery: the size check, per-item validation into
// store operations, allOrNone, and the merge of validation failures and store
// results into one Outcome per item, in request order.

// DefaultMaxBatch is the default limit of items in one bulk call.
const DefaultMaxBatch = 1000

// Outcome is what became of one item of a write: the record as stored and
// whether the write created it, or the error (Value is then zero).
type Outcome[T any] struct {
	Value   T
	Created bool
	Err     *Error
}

// rolledBack is the error of an item that was valid but not written because
// another item of its allOrNone call failed.
func rolledBack() *Error {
	return &Error{Code: CodeRolledBack, Message: "not written: another item of this allOrNone call failed"}
}

// checkBatchSize refuses an empty call or one over the limit, before anything
// runs; field names the repeated element.
func checkBatchSize(field string, n, limit int) error {
	switch {
	case n == 0:
		return invalid(field, "at least one is required")
	case n > limit:
		return &Error{Code: CodeValidationFailed, Field: field,
			Message: fmt.Sprintf("%s: %d items in one call; the limit is %d: split the request", field, n, limit)}
	}
	return nil
}

// batch is a bulk call after validation: the store operations of the valid
// items and the errors of the others.
type batch[Op any] struct {
	errs   []*Error // per item: its validation error, or nil
	ops    []Op     // the operations of the valid items, in request order
	opItem []int    // opItem[k] is the item index of ops[k]
	failed bool     // some item failed validation
}

// singleBatch is the batch of one validated op: single-record writes take the bulk road with it (one
// commit, the stored outcome for the request key).
func singleBatch[Op any](op Op) *batch[Op] {
	return &batch[Op]{errs: make([]*Error, 1), ops: []Op{op}, opItem: []int{0}}
}

// single returns the only Outcome of a singleBatch's write, with its error also as the error.
func single[T any](out []Outcome[T], err error) (Outcome[T], error) {
	if err != nil {
		return Outcome[T]{}, err
	}
	if out[0].Err != nil {
		return out[0], out[0].Err
	}
	return out[0], nil
}

// prepareBatch validates every item with prepare (which builds its store
// operation); field names the repeated element, for item error fields such as
// "customer[3]/email".
func prepareBatch[In, Op any](items []In, prepare func(i int, in In) (Op, error)) *batch[Op] {
	b := &batch[Op]{errs: make([]*Error, len(items))}
	b.ops = make([]Op, 0, len(items))
	b.opItem = make([]int, 0, len(items))
	for i, in := range items {
		op, err := prepare(i, in)
		if err != nil {
			b.errs[i], b.failed = asError(err), true
			continue
		}
		b.ops = append(b.ops, op)
		b.opItem = append(b.opItem, i)
	}
	return b
}

// fail marks item i as failed with e, dropping its operation.
func (b *batch[Op]) fail(i int, e *Error) {
	for k, idx := range b.opItem {
		if idx == i {
			b.ops = append(b.ops[:k], b.ops[k+1:]...)
			b.opItem = append(b.opItem[:k], b.opItem[k+1:]...)
			break
		}
	}
	b.errs[i], b.failed = e, true
}

// runnable reports whether the store is to be called: there are operations,
// and with allOrNone no item failed validation.
func (b *batch[Op]) runnable(allOrNone bool) bool {
	return len(b.ops) > 0 && !(allOrNone && b.failed)
}

// outcomes merges the validation errors and the store's results (one per
// operation, or nil when the store was not called) into one Outcome per item.
// With allOrNone and any failure, every item without its own error is ROLLED_BACK.
func outcomes[Op, R, T any](b *batch[Op], allOrNone bool, results []R, conv func(k int, r R) Outcome[T]) []Outcome[T] {
	out := make([]Outcome[T], len(b.errs))
	failed := b.failed
	for i, e := range b.errs {
		out[i].Err = e
	}
	for k, r := range results {
		o := conv(k, r)
		out[b.opItem[k]] = o
		if o.Err != nil && o.Err.Code != CodeRolledBack {
			failed = true
		}
	}
	if allOrNone && failed {
		for i := range out {
			if out[i].Err == nil || out[i].Err.Code == CodeRolledBack {
				out[i] = Outcome[T]{Err: rolledBack()}
			}
		}
	}
	return out
}

// asError is err as a service Error (INTERNAL when it is none).
func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}
