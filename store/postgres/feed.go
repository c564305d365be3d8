package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// The feed's order across nodes
//
// A follower reads Feed(after) with the highest seq it has seen, so it relies on this: once a change
// with seq s is visible, every change with a smaller seq is visible too. SQLite gives that for free
// (one writer at a time). PostgreSQL does not: a sequence hands out numbers when they are asked for,
// not when the transactions that asked commit, so with several writers transaction A can take seq 7,
// B take seq 8 and commit, a follower read 8 and move its cursor past 7, and A commit 7 afterwards,
// never to be read.
//
// The store closes that gap by making seq allocation and commit one critical section across every
// node: each writing transaction does all its other work first, then, as its last statements, takes
// pg_advisory_xact_lock(feedLock), numbers its feed entries with nextval('feed_seq') and commits. The
// transaction-level lock is released only after the commit has become visible, so the next holder's
// numbers are all higher than, and become visible after, the previous holder's: seq order is commit
// order, and a reader can never see seq s while a smaller seq is still to come. The critical section is
// two statements (sent in one round trip) and the commit, and it is amortized over every write of a
// group (writer.go), so the lock costs one serialized commit per group, not per write. Nothing else
// takes the lock, and a transaction takes no row lock after it, so it cannot take part in a deadlock.
// The one exception is a pipelined group of adds and upserts (pipeline.go): it takes the lock first and
// sends everything up to its COMMIT in one round trip, so it holds the lock only for the server's work;
// if it waits for a row held by a transaction that waits for the lock, PostgreSQL reports a deadlock and
// the writer runs the group again.
// feedorder_test.go shows a follower missing a change without the lock and never with it.

// Feed page sizes: limit <= 0 means defaultFeedPage, more than maxFeedPage means maxFeedPage.
const (
	defaultFeedPage = 1000
	maxFeedPage     = 10000
)

// metaFeedHorizon names the highest purged tombstone seq in meta.
const metaFeedHorizon = "feed.horizon"

// feedRow is the change log row and the feed entry one write leaves for its record.
type feedRow struct {
	entity      string // store.EntityCustomer, EntityProduct, EntityOrder or EntityReview
	op          string // opCreate, opUpdate or opDelete
	feedOnly    bool   // moves the feed entry without a change log row (a product whose rating moved)
	kind        string // store.FeedUpserted or store.FeedDeleted
	id, version int64
	at          int64 // Unix nanoseconds
	actor       *string
	externalID  *string
}

// flushFeed writes the group's change log rows and makes each record's last write of the group its
// only feed entry, numbered under the feed lock (see above). It must be the group's last work before
// COMMIT.
func (db *DB) flushFeed(ctx context.Context, w *wtx) error {
	if len(w.feed) == 0 {
		return w.flushPending(ctx)
	}
	b := &pgx.Batch{}
	for _, p := range w.pending { // the last RELEASEs go in the same round trip
		b.Queue(p)
	}
	w.pending = w.pending[:0]
	db.queueFeed(b, w.feed)
	if err := w.SendBatch(ctx, b).Close(); err != nil {
		if retryable(err) {
			return err
		}
		return fmt.Errorf("store: feed: %w", err)
	}
	return nil
}

// queueFeed queues the feed lock and the statements writing feed (not empty) to b.
func (db *DB) queueFeed(b *pgx.Batch, feed []feedRow) {
	type key struct {
		entity string
		id     int64
	}
	last := make(map[key]int, len(feed))
	for i, r := range feed {
		last[key{r.entity, r.id}] = i
	}
	var (
		ents, ops, actors            []*string
		ids, versions, ats           []int64
		fEnts, kinds, fActors, fExts []*string
		fIDs, fVers, fAts            []int64
	)
	for i, r := range feed {
		entity, op := r.entity, r.op
		if !r.feedOnly {
			ents, ids, ops, versions, ats, actors = append(ents, &entity), append(ids, r.id), append(ops, &op),
				append(versions, r.version), append(ats, r.at), append(actors, r.actor)
		}
		if last[key{r.entity, r.id}] == i {
			kind := r.kind
			fEnts, fIDs, kinds, fVers, fAts, fActors, fExts = append(fEnts, &entity), append(fIDs, r.id),
				append(kinds, &kind), append(fVers, r.version), append(fAts, r.at), append(fActors, r.actor),
				append(fExts, r.externalID)
		}
	}
	if !db.noFeedLock {
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, feedLock)
	}
	b.Queue(`INSERT INTO changes (entity, entity_id, op, version, at, actor)
		SELECT u.entity, u.id, u.op, u.version, u.at, u.actor
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
			AS u(entity, id, op, version, at, actor)`,
		ents, ids, ops, versions, ats, actors)
	b.Queue(`INSERT INTO feed (seq, entity, entity_id, kind, version, at, actor, external_id)
		SELECT nextval('feed_seq'), u.entity, u.id, u.kind, u.version, u.at, u.actor, u.ext
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
			AS u(entity, id, kind, version, at, actor, ext)
		ON CONFLICT (entity, entity_id) DO UPDATE SET seq = excluded.seq, kind = excluded.kind,
			version = excluded.version, at = excluded.at, actor = excluded.actor, external_id = excluded.external_id`,
		fEnts, fIDs, kinds, fVers, fAts, fActors, fExts)
}

// Feed returns the compacted feed entries with Seq > after, in Seq order, at most limit (<= 0: 1000;
// at most 10000), and whether more follow. Each UPSERTED entry carries its record: a customer or product
// as of that entry (entry and record are read in one statement, so from one snapshot), an order or
// review as read just after the page (feedRecords).
// Errors: store.ErrCursorExpired when after is not 0 and lies before the tombstone horizon.
func (db *DB) Feed(ctx context.Context, after int64, limit int) ([]store.FeedEntry, bool, error) {
	if limit <= 0 {
		limit = defaultFeedPage
	}
	limit = min(limit, maxFeedPage)
	// One round trip: the page, then the horizon. The horizon only grows, so reading it after the
	// page sees any purge that ran before the page was read, and a cursor it made stale is refused
	// rather than answered with a gap.
	b := &pgx.Batch{}
	b.Queue(`SELECT f.seq, f.entity, f.kind, f.entity_id, coalesce(f.external_id, ''), f.version, f.at,
		coalesce(f.actor, ''), `+customerColumns+`, `+productColumns+`, o.id, rv.id
		FROM feed f
		LEFT JOIN customers c ON f.kind = 'UPSERTED' AND f.entity = 'customer' AND c.id = f.entity_id
		LEFT JOIN products p ON f.kind = 'UPSERTED' AND f.entity = 'product' AND p.id = f.entity_id
		LEFT JOIN orders o ON f.kind = 'UPSERTED' AND f.entity = 'order' AND o.id = f.entity_id
		LEFT JOIN reviews rv ON f.kind = 'UPSERTED' AND f.entity = 'review' AND rv.id = f.entity_id
		WHERE f.seq > $1 ORDER BY f.seq LIMIT $2`, after, limit+1)
	b.Queue(`SELECT coalesce((SELECT number FROM meta WHERE name = $1), 0)`, metaFeedHorizon)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, false, fmt.Errorf("store: feed: %w", err)
	}
	out, err := scanFeed(rows, limit)
	if err != nil {
		return nil, false, fmt.Errorf("store: feed: %w", err)
	}
	var horizon int64
	if err := br.QueryRow().Scan(&horizon); err != nil {
		return nil, false, fmt.Errorf("store: feed horizon: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, false, fmt.Errorf("store: feed: %w", err)
	}
	if out, err = db.feedRecords(ctx, out); err != nil {
		return nil, false, fmt.Errorf("store: feed: %w", err)
	}
	if after != 0 && after < horizon {
		return nil, false, store.ErrCursorExpired
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

func scanFeed(rows pgx.Rows, limit int) ([]store.FeedEntry, error) {
	defer rows.Close()
	out := make([]store.FeedEntry, 0, min(limit+1, 1024))
	for rows.Next() {
		var (
			e     store.FeedEntry
			at    int64
			c     customerRow
			p     productRow
			o, rv *int64
		)
		dest := append([]any{&e.Seq, &e.Entity, &e.Kind, &e.ID, &e.ExternalID, &e.Version, &at, &e.Actor}, c.dest()...)
		dest = append(dest, p.dest()...)
		if err := rows.Scan(append(dest, &o, &rv)...); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		switch {
		case e.Kind != store.FeedUpserted:
		case e.Entity == store.EntityOrder:
			if o == nil {
				return nil, fmt.Errorf("feed entry %d: order %d is missing", e.Seq, e.ID)
			}
			e.Order = &store.Order{ID: e.ID} // read by feedRecords
		case e.Entity == store.EntityReview:
			if rv == nil {
				return nil, fmt.Errorf("feed entry %d: review %d is missing", e.Seq, e.ID)
			}
			e.Review = &store.Review{ID: e.ID} // read by feedRecords
		case e.Entity == store.EntityProduct:
			if !p.present() {
				return nil, fmt.Errorf("feed entry %d: product %d is missing", e.Seq, e.ID)
			}
			prod := p.product()
			e.Product = &prod
		default:
			if !c.present() {
				return nil, fmt.Errorf("feed entry %d: customer %d is missing", e.Seq, e.ID)
			}
			cust := c.customer()
			e.Customer = &cust
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// feedRecords reads the orders and reviews of the UPSERTED entries of a page (two statements in one
// round trip, after the page). A later write moves a record to a later seq and the reader sees it
// again there, so an entry may show a newer state than its seq, never an older one; a record deleted
// in between is left out (its tombstone follows later in the feed).
func (db *DB) feedRecords(ctx context.Context, entries []store.FeedEntry) ([]store.FeedEntry, error) {
	var orderIDs, reviewIDs []int64
	for _, e := range entries {
		switch {
		case e.Order != nil:
			orderIDs = append(orderIDs, e.ID)
		case e.Review != nil:
			reviewIDs = append(reviewIDs, e.ID)
		}
	}
	if len(orderIDs) == 0 && len(reviewIDs) == 0 {
		return entries, nil
	}
	orders, err := db.ordersByID(ctx, orderIDs)
	if err != nil {
		return nil, err
	}
	reviews, err := db.reviewsByID(ctx, reviewIDs)
	if err != nil {
		return nil, err
	}
	out := entries[:0]
	for _, e := range entries {
		switch {
		case e.Order != nil:
			o, ok := orders[e.ID]
			if !ok {
				continue
			}
			e.Order = &o
		case e.Review != nil:
			r, ok := reviews[e.ID]
			if !ok {
				continue
			}
			e.Review = &r
		}
		out = append(out, e)
	}
	return out, nil
}

// PurgeTombstones removes the feed's deletion entries written before olderThan and raises the horizon
// to the highest seq removed, in one transaction; it returns how many it removed.
func (db *DB) PurgeTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	var n int
	err := db.write(ctx, func(ctx context.Context, w *wtx) error {
		n = 0
		var maxSeq *int64
		err := w.QueryRow(ctx, `WITH gone AS (DELETE FROM feed WHERE kind = 'DELETED' AND at < $1 RETURNING seq)
			SELECT count(*), max(seq) FROM gone`, nanos(olderThan)).Scan(&n, &maxSeq)
		if err != nil || n == 0 {
			return err
		}
		_, err = w.Exec(ctx, `INSERT INTO meta (name, number) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET number = greatest(meta.number, excluded.number)`, metaFeedHorizon, *maxSeq)
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrClosed) {
			return 0, err
		}
		return 0, fmt.Errorf("store: purge tombstones: %w", err)
	}
	return n, nil
}
