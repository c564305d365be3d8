package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmsoap/crmsoap/store"
)

// The pipelined group
//
// A group whose every job is one piped op (an add, or an upsert without an expected version: one
// statement that either writes or, for an add, reports a taken external id without a server-side
// error) needs nothing back from the server before it can send the next statement. Such a group goes
// to the server in one round trip whatever its size: BEGIN, the feed lock, every op's statement and
// COMMIT. Each op's statement writes its customer, its change log row and its feed entry itself (data-
// modifying CTEs), so no id has to come back before the feed can be written. The feed lock is taken
// first instead of last (see feed.go): every seq of the group is still numbered under the lock and
// committed before it is released, and as the whole transaction is one pipeline, the lock is held
// only for the server's work on it, never across a round trip. A transaction on another node that
// waits for a row this group has written while the group waits for the lock it holds is a deadlock,
// which PostgreSQL detects: the writer runs the aborted group again. If an op fails on the server the
// transaction is rolled back and the writer runs the group again through runGroup, with a savepoint
// around every job.

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
		b.Queue(pipedAddSQL, addArgs(p.op.Customer)...)
		return
	}
	b.Queue(pipedUpsertSQL, addArgs(p.op.Customer)...)
}

// pipedAddSQL and pipedUpsertSQL are addSQL and upsertSQL writing their change log row and feed entry
// too, with the same result row.
var (
	pipedAddSQL    = withFeed(addInsert, "id")
	pipedUpsertSQL = withFeed(upsertInsert, upsertReturning)
)

// withFeed wraps insert, a customer INSERT without RETURNING, in one statement that also writes the
// change log row and the feed entry of the customer it writes (none when it writes nothing) and returns
// the columns returning of that customer. A customer at version 1 was created (at created_at, by
// created_by), else updated, as in customerWritten.
func withFeed(insert, returning string) string {
	return `WITH w AS (` + insert + `
		RETURNING *, CASE WHEN version = 1 THEN '` + opCreate + `' ELSE '` + opUpdate + `' END AS change_op,
			CASE WHEN version = 1 THEN created_at ELSE updated_at END AS change_at,
			CASE WHEN version = 1 THEN created_by ELSE updated_by END AS change_actor),
	ch AS (INSERT INTO changes (entity, entity_id, op, version, at, actor)
		SELECT 'customer', id, change_op, version, change_at, change_actor FROM w),
	f AS (INSERT INTO feed (seq, entity, entity_id, kind, version, at, actor, external_id)
		SELECT nextval('feed_seq'), 'customer', id, '` + store.FeedUpserted + `', version, change_at, change_actor, external_id FROM w
		ON CONFLICT (entity, entity_id) DO UPDATE SET seq = excluded.seq, kind = excluded.kind,
			version = excluded.version, at = excluded.at, actor = excluded.actor, external_id = excluded.external_id)
	SELECT ` + returning + ` FROM w`
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

// pipedRow is a piped op's row: a server-side error marks the transaction aborted, any other error
// but no row at all the group broken (see runPiped).
type pipedRow struct {
	pgx.Row
	w *wtx
}

func (r pipedRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	switch {
	case err == nil || errors.Is(err, pgx.ErrNoRows):
	case isServerError(err):
		r.w.aborted = true
	default:
		r.w.broken = err
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
	if !db.noFeedLock {
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, feedLock)
	}
	for _, j := range jobs {
		j.pipe.queue(b)
	}
	commits := db.beforeCommit == nil
	if commits {
		b.Queue("COMMIT")
	}
	br := conn.SendBatch(ctx, b)
	for range b.Len() - len(jobs) - boolInt(commits) { // BEGIN and the lock
		if _, e := br.Exec(); err == nil {
			err = e
		}
	}
	for _, j := range jobs {
		if err != nil {
			break
		}
		j.pipe.read(w, br.QueryRow())
		switch {
		case w.broken != nil:
			err = w.broken
		case w.aborted && retryable(j.pipe.r.Err):
			err = j.pipe.r.Err
		case w.aborted:
			err = errNeedSavepoints
		}
	}
	if commits && err == nil {
		err = commitTag(br.Exec())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	switch {
	case retryable(err): // a deadlock or serialization failure: the writer runs the group again as it is
		rollback(conn)
		return err
	case errors.Is(err, errNeedSavepoints):
		rollback(conn)
		return err
	case err != nil:
		// Not the server's refusal (the connection, or a row pgx could not read): the outcome of a
		// COMMIT already sent is unknown, so the group fails rather than running again.
		rollback(conn)
		return fmt.Errorf("store: group: %w", err)
	}
	clear(results)
	if !commits {
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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// commitTag is the outcome of a COMMIT: errCommitRolledBack when it answered ROLLBACK.
func commitTag(tag pgconn.CommandTag, err error) error {
	if err == nil && tag.String() != "COMMIT" {
		return errCommitRolledBack
	}
	return err
}

// isServerError reports whether err is PostgreSQL refusing a statement (which aborts the transaction).
func isServerError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
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
		if commits && i == b.Len()-1 {
			e = commitTag(tag, e)
		}
		if err == nil {
			err = e
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
