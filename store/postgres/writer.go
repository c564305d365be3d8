package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmsoap/crmsoap/store"
)

// wtx is the writer's transaction as a write sees it: the pgx transaction, and the feed entries the
// writes made so far (the writer numbers them as the group's last statement, see flushFeed).
type wtx struct {
	pgx.Tx
	// solo means the group holds one job: it runs without a savepoint, and if it fails the whole
	// transaction rolls back.
	solo bool
	// savepointAll gives every job a savepoint; without it a clean job (see job.clean) runs without one.
	savepointAll bool
	// aborted records that a statement failed on the server since the last savepoint: PostgreSQL has
	// then aborted the transaction (or the savepoint), and nothing more runs in it until a rollback.
	aborted bool
	// broken is an error of a piped op's row that is not the server's (pipeline.go).
	broken  error
	pending []string // statements without arguments to send with the next one (see later)
	feed    []feedRow
}

// errNeedSavepoints means a clean job ran into a server-side error without a savepoint to roll back
// to: the group is run again with a savepoint around every job.
var errNeedSavepoints = errors.New("store: a job failed without a savepoint")

// later queues a statement without arguments (SAVEPOINT, RELEASE) to go to the server together with
// the next statement, in the same round trip.
func (w *wtx) later(sql string) { w.pending = append(w.pending, sql) }

// QueryRow is pgx's, sending the queued statements first in the same round trip, and noting a
// server-side error in aborted.
func (w *wtx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if len(w.pending) == 0 {
		return trackedRow{w.Tx.QueryRow(ctx, sql, args...), w}
	}
	b := &pgx.Batch{}
	for _, p := range w.pending {
		b.Queue(p)
	}
	b.Queue(sql, args...)
	n := len(w.pending)
	w.pending = w.pending[:0]
	return &batchRow{br: w.Tx.SendBatch(ctx, b), prefixes: n, w: w}
}

// Exec is pgx's, sending the queued statements first in the same round trip, and noting a
// server-side error in aborted.
func (w *wtx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	var err error
	switch {
	case len(w.pending) == 0:
		tag, err = w.Tx.Exec(ctx, sql, args...)
	case len(args) == 0:
		// One simple-protocol query string holds them all.
		tag, err = w.Tx.Exec(ctx, strings.Join(append(w.pending, sql), "; "))
		w.pending = w.pending[:0]
	default:
		b := &pgx.Batch{}
		for _, p := range w.pending {
			b.Queue(p)
		}
		b.Queue(sql, args...)
		n := len(w.pending)
		w.pending = w.pending[:0]
		br := w.Tx.SendBatch(ctx, b)
		for range n {
			if _, perr := br.Exec(); perr != nil && err == nil {
				err = perr
			}
		}
		if err == nil {
			tag, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	w.note(err)
	return tag, err
}

// Query is pgx's, after sending the queued statements. A server-side error surfaces from the rows:
// the caller passes it to note.
func (w *wtx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := w.flushPending(ctx); err != nil {
		return nil, err
	}
	rows, err := w.Tx.Query(ctx, sql, args...)
	w.note(err)
	return rows, err
}

// sendBatch sends the queued statements and then b's in one round trip. The queued ones' results are
// read already: the caller reads b's from br, passes their errors to note and closes br.
func (w *wtx) sendBatch(ctx context.Context, b *pgx.Batch) (br pgx.BatchResults, err error) {
	full := &pgx.Batch{}
	for _, p := range w.pending {
		full.Queue(p)
	}
	n := len(w.pending)
	w.pending = w.pending[:0]
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	br = w.Tx.SendBatch(ctx, full)
	for range n {
		if _, err := br.Exec(); err != nil {
			w.note(err)
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

// flushPending sends the queued statements, if any.
func (w *wtx) flushPending(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	_, err := w.Exec(ctx, "SELECT 1")
	return err
}

func (w *wtx) note(err error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		w.aborted = true
	}
}

type trackedRow struct {
	pgx.Row
	w *wtx
}

func (r trackedRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	r.w.note(err)
	return err
}

// batchRow is the row of a statement sent after queued ones.
type batchRow struct {
	br       pgx.BatchResults
	prefixes int
	w        *wtx
}

func (r *batchRow) Scan(dest ...any) error {
	var err error
	for range r.prefixes {
		if _, perr := r.br.Exec(); perr != nil && err == nil {
			err = perr
		}
	}
	if err == nil {
		err = r.br.QueryRow().Scan(dest...)
	}
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	r.w.note(err)
	return err
}

// writeFunc is one write: it runs inside a savepoint of the writer's transaction. Returning an error
// rolls back that savepoint only, and the error goes back to the caller alone. It may run more than
// once (the group is run again after a serialization failure or deadlock), so it must set its results
// afresh each time.
type writeFunc func(ctx context.Context, w *wtx) error

const (
	jobQueued    int32 = iota
	jobStarted         // the writer took it into a transaction: the caller waits for the commit
	jobAbandoned       // the caller's ctx ended first: the job is never run
)

type job struct {
	ctx context.Context
	fn  writeFunc
	// clean means fn either succeeds or fails without having written anything (a conditional write
	// that matched no row) or by a server-side error: it needs no savepoint of its own, which saves
	// two round trips and a subtransaction per write.
	clean bool
	// pipe, when set, is fn as one statement that a pipelined group can send without waiting (see
	// pipeline.go).
	pipe  *pipedOp
	state atomic.Int32
	done  chan error // buffered: the writer never waits for a caller
}

// write queues fn for the writer and returns its outcome once the group holding it is committed.
// If ctx ends before the writer starts fn, write returns ctx.Err() and fn never runs; once fn has
// started, write waits for the commit so that a nil error always means "durable".
func (db *DB) write(ctx context.Context, fn writeFunc) error {
	return db.submit(ctx, fn, false, nil)
}

// writeClean is write for a clean fn (see job.clean); pipe, if not nil, is fn as a piped op.
func (db *DB) writeClean(ctx context.Context, fn writeFunc, pipe *pipedOp) error {
	return db.submit(ctx, fn, true, pipe)
}

func (db *DB) submit(ctx context.Context, fn writeFunc, clean bool, pipe *pipedOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &job{ctx: ctx, fn: fn, clean: clean, pipe: pipe, done: make(chan error, 1)}

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

// writer takes every job already queued (up to maxBatch) into one transaction, so concurrent callers
// share one commit and one pass through the feed lock. It returns when jobs is closed and drained.
func (db *DB) writer() {
	defer db.writers.Done()
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
		clear(batch)
	}
}

// commitGroup runs the startable jobs of batch in one transaction, runs it again (at most maxRetries
// times, after a short random pause) when PostgreSQL aborts it as a serialization failure or deadlock,
// then answers every caller.
func (db *DB) commitGroup(batch []*job) {
	if db.beforeGroup != nil {
		db.beforeGroup()
	}
	started := make([]*job, 0, len(batch))
	for _, j := range batch {
		if j.start() {
			started = append(started, j)
		}
	}
	if len(started) == 0 {
		return
	}
	results := make([]error, len(started))
	var err error
	savepointAll := false
	for attempt := 0; ; attempt++ {
		err = db.runGroup(started, results, savepointAll)
		if errors.Is(err, errNeedSavepoints) && !savepointAll {
			savepointAll = true
			db.stats.reruns.Add(1)
			continue
		}
		if !retryable(err) || attempt >= db.maxRetries {
			break
		}
		db.stats.retries.Add(1)
		time.Sleep(time.Duration(rand.Int64N(int64(attempt+1) * int64(time.Millisecond))))
	}
	for i, j := range started {
		if err != nil {
			j.done <- err
		} else {
			j.done <- results[i]
		}
	}
}

// runGroup returns an error that concerns the whole group (begin, savepoints, the feed, commit, or a
// retryable abort of any job); each job's own outcome goes into results.
func (db *DB) runGroup(jobs []*job, results []error, savepointAll bool) error {
	if !savepointAll && piped(jobs) {
		return db.runPiped(jobs, results)
	}
	// The transaction belongs to the writer, not to any caller: a caller's cancellation must not roll
	// back the others' work.
	ctx := context.Background()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	w := &wtx{Tx: tx, solo: len(jobs) == 1, savepointAll: savepointAll}
	for i, j := range jobs {
		results[i], err = w.runJob(ctx, j)
		if err != nil {
			return err
		}
	}
	if w.solo && results[0] != nil {
		return nil // the deferred rollback undoes the failed job, and its error is its result
	}
	if err := db.flushFeed(ctx, w); err != nil {
		return err
	}
	if db.beforeCommit != nil {
		db.beforeCommit()
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	db.stats.groups.Add(1)
	db.stats.jobs.Add(int64(len(jobs)))
	return nil
}

// runJob runs j inside SAVEPOINT job (unless it is alone, or clean). jobErr is j's own failure
// (already rolled back); txErr means the transaction is unusable or must be run again.
func (w *wtx) runJob(ctx context.Context, j *job) (jobErr, txErr error) {
	mark := len(w.feed)
	savepoint := !w.solo && (!j.clean || w.savepointAll)
	if savepoint {
		w.later("SAVEPOINT job")
	}
	w.aborted = false
	// WithoutCancel: a statement interrupted by one caller would abort the transaction of all.
	jobErr = j.fn(context.WithoutCancel(j.ctx), w)
	switch {
	case retryable(jobErr):
		return nil, jobErr
	case w.solo:
		return jobErr, nil
	case !savepoint && jobErr != nil && w.aborted:
		return nil, errNeedSavepoints
	case !savepoint:
		if jobErr != nil {
			w.feed = w.feed[:mark]
		}
		return jobErr, nil
	case jobErr != nil:
		w.feed = w.feed[:mark]
		if _, err := w.Exec(ctx, "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job"); err != nil {
			return nil, fmt.Errorf("store: rollback to savepoint: %w", err)
		}
		return jobErr, nil
	}
	w.later("RELEASE SAVEPOINT job")
	return nil, nil
}
