package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmsoap/crmsoap/store"
)

// errCallRolledBack makes the writer roll back a call whose results are already known.
var errCallRolledBack = errors.New("store: call rolled back")

// maxOps caps the ops of one call: one call is one job of the writer.
const maxOps = 10000

// opCall is a call of WriteCustomers, WriteProducts, PlaceOrder, SetOrderStatus or WriteReview: its ops
// run as one job of the writer, with a savepoint per op when the call has several (or when !allOrNone
// with an idempotency record: the record is stored whatever failed), allOrNone, and the idempotency
// record in the same transaction.
type opCall[Op, R any] struct {
	what      string
	ops       []Op
	allOrNone bool
	idem      *store.IdempotencyRecord
	encode    func([]R) ([]byte, error) // the idem record's encoder for R, nil for rec.Response
	preFailed func(i int) error         // an error for op i before anything runs, or nil
	run       func(ctx context.Context, w *wtx, op Op) R
	errOf     func(R) error
	failed    func(error) R
	// clean says a lone op either writes or fails without having written anything, or fails on the
	// server (see job.clean): without an idempotency record it needs no savepoint.
	clean bool
	// pipe, when set, makes the lone op of a clean call a piped op writing its result to results[0]
	// (or returns nil).
	pipe func(results []R) *pipedOp
}

// runCall runs c's ops in one job and returns one result per op; the error is for the call as a whole
// (nothing written), as WriteCustomers'.
func runCall[Op, R any](ctx context.Context, db *DB, c opCall[Op, R]) ([]R, error) {
	if len(c.ops) > maxOps {
		return nil, fmt.Errorf("store: write %s: %d ops, at most %d in one call", c.what, len(c.ops), maxOps)
	}
	results := make([]R, len(c.ops))
	opSavepoints := len(c.ops) > 1 || (!c.allOrNone && c.idem != nil)
	write := db.write
	if c.clean && len(c.ops) == 1 && c.idem == nil {
		var pipe *pipedOp
		if c.pipe != nil {
			pipe = c.pipe(results)
		}
		write = func(ctx context.Context, fn writeFunc) error { return db.writeClean(ctx, fn, pipe) }
	}
	err := write(ctx, func(ctx context.Context, w *wtx) error {
		failed := false
		for i, op := range c.ops {
			if c.preFailed != nil {
				if err := c.preFailed(i); err != nil {
					results[i], failed = c.failed(err), true
					continue
				}
			}
			r, err := inSavepoint(ctx, w, opSavepoints, func() R { return c.run(ctx, w, op) }, c.errOf)
			if err != nil {
				return err // the transaction is unusable
			}
			if retryable(c.errOf(r)) {
				return c.errOf(r) // the writer runs the group again
			}
			results[i] = r
			failed = failed || c.errOf(r) != nil
		}
		if failed && (c.allOrNone || !opSavepoints) {
			for i := range results {
				if c.errOf(results[i]) == nil {
					results[i] = c.failed(store.ErrRolledBack)
				}
			}
			return errCallRolledBack
		}
		if c.idem != nil {
			return putResponse(ctx, db, w, c.idem, c.encode, results)
		}
		return nil
	})
	switch {
	case errors.Is(err, errCallRolledBack):
		return results, nil
	case err != nil:
		return nil, err
	}
	return results, nil
}

// inSavepoint runs run inside SAVEPOINT op when savepoint is set: a failing op is rolled back alone
// (its feed entries too) and its error stays in its result. txErr means the transaction is unusable.
func inSavepoint[R any](ctx context.Context, w *wtx, savepoint bool, run func() R, errOf func(R) error) (r R, txErr error) {
	mark := len(w.feed)
	if savepoint {
		w.later("SAVEPOINT op")
	}
	r = run()
	if err := errOf(r); err != nil {
		w.feed = w.feed[:mark]
		if savepoint {
			if _, xerr := w.Exec(ctx, "ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op"); xerr != nil {
				return r, fmt.Errorf("store: rollback to savepoint: %w", errors.Join(xerr, err))
			}
		}
		return r, nil
	}
	if savepoint {
		w.later("RELEASE SAVEPOINT op")
	}
	return r, nil
}

// one runs a call of a single op, all or none, and returns its result.
func one[Op, R any](ctx context.Context, db *DB, c opCall[Op, R]) (R, error) {
	c.allOrNone = true
	rs, err := runCall(ctx, db, c)
	if err != nil {
		var zero R
		return zero, err
	}
	return rs[0], nil
}
