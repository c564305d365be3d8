package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/crmsoap/crmsoap/store"
)

// writeFunc is one write: it runs inside a savepoint of the writer's transaction, or in a transaction of
// its own when it is the only write queued. Returning an error rolls back that write only, and the error
// goes back to the caller alone; errRerun asks for it to be rolled back and run again.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

const (
	jobQueued    int32 = iota
	jobStarted         // the writer took it into a transaction: the caller waits for the commit
	jobAbandoned       // the caller's ctx ended first: the job is never run
)

type job struct {
	ctx   context.Context
	fn    writeFunc
	state atomic.Int32
	done  chan error // buffered: the writer never waits for a caller
	// alone: the job runs in a transaction of its own, never inside SAVEPOINT job (see writeAlone).
	alone bool
}

// writerStats count what the writer did (for tests and benchmarks).
type writerStats struct {
	groups atomic.Int64 // committed transactions
	jobs   atomic.Int64 // jobs run inside them
}

// write queues fn for the writer and returns its outcome once the group holding it is committed.
// If ctx ends before the writer starts fn, write returns ctx.Err() and fn never runs; once fn has
// started, write waits for the commit so that a nil error always means "durable".
func (db *DB) write(ctx context.Context, fn writeFunc) error {
	return db.submit(ctx, &job{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// writeAlone is write for a large job (a bulk call of many ops): it is committed in a transaction of
// its own rather than in a savepoint of a shared one. While a savepoint is open SQLite keeps the prior
// content of every page a statement changes: about a fifth of the CPU of a call of a thousand upserts
// (BenchmarkWriteCustomersConcurrent). One more commit (one fsync) is cheap beside that.
func (db *DB) writeAlone(ctx context.Context, fn writeFunc) error {
	return db.submit(ctx, &job{ctx: ctx, fn: fn, done: make(chan error, 1), alone: true})
}

// submit queues j and waits for its outcome (see write).
func (db *DB) submit(ctx context.Context, j *job) error {
	if err := ctx.Err(); err != nil {
		return err
	}

	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case db.jobs <- j:
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	db.mu.RUnlock()

	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return ctx.Err()
		}
		return <-j.done
	}
}

// start claims j for the current transaction; false means it must be skipped.
func (j *job) start() bool {
	if err := j.ctx.Err(); err != nil {
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			j.done <- err
		}
		return false
	}
	return j.state.CompareAndSwap(jobQueued, jobStarted)
}

// writer is the only goroutine that writes. It takes every job already queued (up to maxBatch) into one
// transaction, so concurrent callers share one commit and one fsync. It returns when jobs is closed
// and drained.
func (db *DB) writer() {
	defer close(db.writerDone)
	batch := make([]*job, 0, db.maxBatch)
	for j := range db.jobs {
		batch = append(batch[:0], j)
	drain:
		for len(batch) < db.maxBatch {
			select {
			case j, ok := <-db.jobs:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		db.commitGroup(batch)
		clear(batch) // drop references to finished jobs
	}
}

// commitGroup runs the startable jobs of batch in one transaction, each in its own savepoint (unless it
// is the only one), commits once, then answers every caller. A job queued with writeAlone gets a
// transaction of its own, after the shared one.
func (db *DB) commitGroup(batch []*job) {
	started := make([]*job, 0, len(batch))
	var alone []*job
	for _, j := range batch {
		switch {
		case !j.start():
		case j.alone:
			alone = append(alone, j)
		default:
			started = append(started, j)
		}
	}
	db.commitJobs(started)
	for i := range alone {
		db.commitJobs(alone[i : i+1])
	}
}

// commitJobs runs jobs, all started, in one transaction and answers their callers.
func (db *DB) commitJobs(started []*job) {
	if len(started) == 0 {
		return
	}
	results := make([]error, len(started))
	err := db.runGroup(started, results)
	for i, j := range started {
		if err != nil {
			j.done <- err
		} else {
			j.done <- results[i]
		}
	}
}

// errRerun is what a job returns to be rolled back and run once more from the state before it began
// (its fn must remember why, e.g. to take a slower, safer path the second time).
var errRerun = errors.New("store: run the job again")

// runGroup returns an error that concerns the whole group (begin, savepoint bookkeeping, commit); each
// job's own outcome goes into results.
func (db *DB) runGroup(jobs []*job, results []error) error {
	if len(jobs) == 1 {
		return db.runAlone(jobs[0], results)
	}
	// The transaction belongs to the writer, not to any caller: a caller's cancellation must not roll
	// back the others' work.
	ctx := context.Background()
	tx, err := db.wconn.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	for i, j := range jobs {
		results[i], err = runJob(ctx, tx, j)
		if err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	db.stats.groups.Add(1)
	db.stats.jobs.Add(int64(len(jobs)))
	return nil
}

// runAlone runs the only job of a group in the transaction itself, without a savepoint: a failed job
// rolls back the whole transaction, which holds nothing else. An open savepoint would make SQLite keep
// the prior content of every page each statement changes until the end of the job, which is most of the
// cost of a large batch.
func (db *DB) runAlone(j *job, results []error) error {
	ctx := context.Background()
	for attempt := 0; ; attempt++ {
		tx, err := db.wconn.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
		if err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		// WithoutCancel: see runJob.
		jobErr := j.fn(context.WithoutCancel(j.ctx), tx)
		if jobErr == nil {
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("store: commit: %w", err)
			}
		} else {
			if err := tx.Rollback(); err != nil {
				return fmt.Errorf("store: rollback: %w", errors.Join(err, jobErr))
			}
			if errors.Is(jobErr, errRerun) && attempt == 0 {
				continue
			}
		}
		db.stats.groups.Add(1)
		db.stats.jobs.Add(1)
		results[0] = jobErr
		return nil
	}
}

// runJob runs j inside SAVEPOINT job. jobErr is j's own failure (already rolled back); txErr means the
// transaction itself is unusable, e.g. SQLite rolled it back after an I/O error.
func runJob(ctx context.Context, tx *sql.Tx, j *job) (jobErr, txErr error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
		return nil, fmt.Errorf("store: savepoint: %w", err)
	}
	// WithoutCancel: an interrupted statement inside a transaction may roll back the whole
	// transaction, and with it every other job of the group.
	jctx := context.WithoutCancel(j.ctx)
	jobErr = j.fn(jctx, tx)
	if errors.Is(jobErr, errRerun) {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO job"); err != nil {
			return nil, fmt.Errorf("store: rollback to savepoint: %w", errors.Join(err, jobErr))
		}
		jobErr = j.fn(jctx, tx)
	}
	if jobErr != nil {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO job"); err != nil {
			return nil, fmt.Errorf("store: rollback to savepoint: %w", errors.Join(err, jobErr))
		}
	}
	if _, err := tx.ExecContext(ctx, "RELEASE job"); err != nil {
		return nil, fmt.Errorf("store: release savepoint: %w", err)
	}
	return jobErr, nil
}
