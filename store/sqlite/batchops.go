package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmsoap/crmsoap/store"
)

// errCallRolledBack makes the writer roll back an all-or-none call whose results are already known.
var errCallRolledBack = errors.New("store: call rolled back")

// maxOps caps the ops of one Write... call: one call is one job of the writer, and holds the write
// lock while it runs.
const maxOps = 10000

// aloneOps is the size from which a call gets a transaction of its own (writeAlone) instead of a
// savepoint in the writer's shared one: above it the savepoint costs more than a commit.
const aloneOps = 64

// opBatch is one bulk write of any entity: its ops, how to run one, and how its results read. Every
// WriteCustomers, WriteProducts, ... is runBatch over its own opBatch.
type opBatch[Op, R any] struct {
	what      string // "customers", for errors
	ops       []Op
	allOrNone bool
	// preFailed, when it returns an error for op i, is that op's result before anything runs
	// (e.g. two ops of the call carrying the same key).
	preFailed func(i int) error
	run       func(ctx context.Context, tx *sql.Tx, op Op) R
	errOf     func(R) error
	failed    func(err error) R // the result of an op that failed with err
	// encode makes the idempotent response from the results; nil without a record.
	encode func([]R) ([]byte, error)
	// changedNothing, when set, reports that op failing with err wrote nothing (SQLite undoes a failed
	// statement, so an op refused by its first write, or before it, leaves no trace). The ops then run
	// without savepoints first, and only a failure it does not vouch for reruns the job with them.
	// While a savepoint is open SQLite copies every page a statement changes to a temporary file: a
	// 1,000-op call without them costs about half the CPU (docs/BENCHMARKS.md). nil: always savepoints.
	changedNothing func(op Op, err error) bool
	idem           *store.IdempotencyRecord
}

// runBatch runs b's ops in one job of the writer (one transaction, shared with the other writes
// queued beside it unless the call has aloneOps ops or more), each op as if in its own savepoint, and returns one result per op. With allOrNone any
// failure rolls back all: the failing ops keep their own error, the others get store.ErrRolledBack.
func runBatch[Op, R any](ctx context.Context, db *DB, b opBatch[Op, R]) ([]R, error) {
	if len(b.ops) > maxOps {
		return nil, fmt.Errorf("store: write %s: %d ops, at most %d in one call", b.what, len(b.ops), maxOps)
	}
	results := make([]R, len(b.ops))
	// A lone all-or-none op needs no savepoint: its failure rolls back the job.
	needed := len(b.ops) > 1 || !b.allOrNone
	savepoint := needed && b.changedNothing == nil
	write := db.write
	if len(b.ops) >= aloneOps {
		write = db.writeAlone
	}
	err := write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		failed := false
		for i, op := range b.ops {
			if b.preFailed != nil {
				if err := b.preFailed(i); err != nil {
					results[i], failed = b.failed(err), true
					continue
				}
			}
			r, err := inSavepoint(ctx, tx, savepoint, func() (R, error) {
				r := b.run(ctx, tx, op)
				return r, b.errOf(r)
			})
			if err != nil {
				return err // the transaction is unusable
			}
			if opErr := b.errOf(r); needed && !savepoint && opErr != nil && !b.changedNothing(op, opErr) {
				savepoint = true
				return errRerun
			}
			results[i] = r
			failed = failed || b.errOf(r) != nil
		}
		if failed && b.allOrNone {
			for i := range results {
				if b.errOf(results[i]) == nil {
					results[i] = b.failed(store.ErrRolledBack)
				}
			}
			return errCallRolledBack
		}
		if b.idem != nil {
			return db.putIdempotency(ctx, tx, b.idem, func() ([]byte, error) {
				if b.encode == nil {
					return b.idem.Response, nil
				}
				return b.encode(results)
			})
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

// inSavepoint runs fn, with savepoint inside SAVEPOINT op: a failing op (fn's error) is rolled back
// alone and its result returned. Without, a failure must roll back the whole job (a lone all-or-none
// op: the job's own savepoint does it, and saves two statements on every single write). txErr means
// the transaction itself is unusable.
func inSavepoint[R any](ctx context.Context, tx *sql.Tx, savepoint bool, fn func() (R, error)) (r R, txErr error) {
	if savepoint {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT op"); err != nil {
			return r, fmt.Errorf("store: savepoint: %w", err)
		}
	}
	r, opErr := fn()
	if !savepoint {
		return r, nil
	}
	if opErr != nil {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO op"); err != nil {
			return r, fmt.Errorf("store: rollback to savepoint: %w", errors.Join(err, opErr))
		}
	}
	if _, err := tx.ExecContext(ctx, "RELEASE op"); err != nil {
		return r, fmt.Errorf("store: release savepoint: %w", err)
	}
	return r, nil
}

// sharedKeys marks the ops whose key (key returns "" for none) another op of the call carries too:
// which of them should win would depend on their order, so none does.
func sharedKeys[Op any](ops []Op, key func(Op) string) []bool {
	first := make(map[string]int, len(ops))
	dup := make([]bool, len(ops))
	for i, op := range ops {
		k := key(op)
		if k == "" {
			continue
		}
		if j, ok := first[k]; ok {
			dup[i], dup[j] = true, true
			continue
		}
		first[k] = i
	}
	return dup
}
