package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmsoap/crmsoap/store"
)

// The pipelined group
//
// A group whose every job is one piped op (an add, or an upsert without an expected version: one
// statement that either writes or, for an add, reports a taken external id without a server-side
// error) needs nothing back from the server before it can send the next statement. Such a group goes
// to the server in two round trips whatever its size: BEGIN and every op's statement, then, with the
// returned ids, the feed lock, the feed's statements and COMMIT (see feed.go: the lock is still the
// group's last statement but COMMIT). If an op fails on the server the transaction is rolled back and
// the writer runs the group again through runGroup, with a savepoint around every job.

// pipedOp is the op of a job that can be pipelined, and where its result goes.
type pipedOp struct {
	op store.CustomerOp // op.Customer normalized
	r  *store.CustomerResult
}

// pipeable returns op as a pipedOp writing its result to r, or nil when op needs answers from the
// server between its statements.
func pipeable(op store.CustomerOp, r *store.CustomerResult) *pipedOp {
	switch {
	case op.Kind == store.OpAdd,
		op.Kind == store.OpUpsert && op.ExpectedVersion == 0 && op.Customer.ExternalID != "":
		op.Customer = normalized(op.Customer)
		return &pipedOp{op: op, r: r}
	}
	return nil
}

func (p *pipedOp) queue(b *pgx.Batch) {
	if p.op.Kind == store.OpAdd {
		b.Queue(addSQL, addArgs(p.op.Customer)...)
		return
	}
	b.Queue(upsertSQL, addArgs(p.op.Customer)...)
}

// read sets p's result from its statement's row; w.aborted tells whether it failed otherwise than by
// returning no row (then the group must not commit as it is).
func (p *pipedOp) read(w *wtx, row pgx.Row) {
	var r store.CustomerResult
	row = pipedRow{row, w}
	if p.op.Kind == store.OpAdd {
		r.Customer, r.Err = w.added(p.op.Customer, row)
		r.Created = r.Err == nil
	} else {
		r.Customer, r.Created, r.Err = w.upserted(p.op.Customer, row)
	}
	if r.Err != nil {
		r.Customer, r.Created = store.Customer{}, false
	}
	*p.r = r
}

// pipedRow is a piped op's row: any error but no row at all marks the transaction aborted.
type pipedRow struct {
	pgx.Row
	w *wtx
}

func (r pipedRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		r.w.aborted = true
	}
	return err
}

// piped reports whether jobs can run as a pipelined group.
func piped(jobs []*job) bool {
	for _, j := range jobs {
		if j.pipe == nil {
			return false
		}
	}
	return true
}

// runPiped is runGroup for a group of piped jobs (see above). A job's own outcome is in its pipedOp's
// result, so every entry of results is nil.
func (db *DB) runPiped(jobs []*job, results []error) error {
	ctx := context.Background()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	// A connection left inside a transaction is closed by Release rather than reused.
	defer conn.Release()
	w := &wtx{}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	for _, j := range jobs {
		j.pipe.queue(b)
	}
	br := conn.SendBatch(ctx, b)
	_, err = br.Exec()
	for _, j := range jobs {
		if err != nil || w.aborted {
			break
		}
		j.pipe.read(w, br.QueryRow())
		if w.aborted {
			err = j.pipe.r.Err
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	switch {
	case retryable(err): // a deadlock or serialization failure: the writer runs the group again as it is
		rollback(conn)
		return err
	case w.aborted:
		rollback(conn)
		return errNeedSavepoints
	case err != nil:
		rollback(conn)
		return fmt.Errorf("store: group: %w", err)
	}
	clear(results)
	if len(w.feed) == 0 { // every op found its external id taken: nothing was written
		rollback(conn)
		return nil
	}

	b = &pgx.Batch{}
	db.queueFeed(b, w.feed)
	if db.beforeCommit == nil {
		b.Queue("COMMIT")
	}
	if err := sendAll(ctx, conn, b, db.beforeCommit == nil); err != nil {
		rollback(conn)
		if retryable(err) {
			return err
		}
		return fmt.Errorf("store: feed: %w", err)
	}
	if db.beforeCommit != nil {
		db.beforeCommit()
		commit := &pgx.Batch{}
		commit.Queue("COMMIT")
		if err := sendAll(ctx, conn, commit, true); err != nil {
			rollback(conn)
			return fmt.Errorf("store: commit: %w", err)
		}
	}
	db.stats.groups.Add(1)
	db.stats.jobs.Add(int64(len(jobs)))
	db.stats.piped.Add(1)
	return nil
}

// errCommitRolledBack means COMMIT answered ROLLBACK: the transaction had failed.
var errCommitRolledBack = errors.New("commit rolled back")

// sendAll sends b on conn and returns the first error of its statements; commits says its last
// statement is COMMIT, whose tag must say so.
func sendAll(ctx context.Context, conn *pgxpool.Conn, b *pgx.Batch, commits bool) error {
	br := conn.SendBatch(ctx, b)
	var err error
	for i := range b.Len() {
		tag, e := br.Exec()
		if err == nil {
			err = e
		}
		if err == nil && commits && i == b.Len()-1 && tag.String() != "COMMIT" {
			err = errCommitRolledBack
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// rollback ends the transaction open on conn, if any; on failure Release closes conn.
func rollback(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' {
		_, _ = conn.Exec(context.Background(), "ROLLBACK")
	}
}
