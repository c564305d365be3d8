package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Feed page sizes: limit <= 0 means defaultFeedPage, more than maxFeedPage means maxFeedPage.
const (
	defaultFeedPage = 1000
	maxFeedPage     = 10000
)

// metaFeedHorizon names the highest purged tombstone seq in meta.
const metaFeedHorizon = "feed.horizon"

// feedRow is the feed entry a write leaves for its record.
type feedRow struct {
	entity            string // entityCustomer, entityProduct
	kind              string // store.FeedUpserted or store.FeedDeleted
	id, version       int64
	at                time.Time
	actor, externalID string
}

// writeFeed makes r its record's only feed row. REPLACE deletes the old row and inserts a new one,
// which AUTOINCREMENT numbers past every seq ever used: the record moves to the end of the feed.
func writeFeed(ctx context.Context, tx *sql.Tx, r feedRow) error {
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO feed (entity, entity_id, kind, version, at, actor, external_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.entity, r.id, r.kind, r.version, formatTime(r.at), nullString(r.actor),
		nullString(r.externalID))
	if err != nil {
		return fmt.Errorf("store: feed %s %d: %w", r.entity, r.id, err)
	}
	return nil
}

// Feed returns the compacted feed entries with Seq > after, in Seq order, at most limit (<= 0: 1000;
// at most 10000), and whether more follow. Each UPSERTED entry carries the customer as of that entry:
// entry and customer are read in one statement, so from one snapshot.
// Errors: store.ErrCursorExpired when after is not 0 and lies before the tombstone horizon.
func (db *DB) Feed(ctx context.Context, after int64, limit int) ([]store.FeedEntry, bool, error) {
	if limit <= 0 {
		limit = defaultFeedPage
	}
	limit = min(limit, maxFeedPage)
	rows, err := db.read.QueryContext(ctx, `SELECT f.seq, f.entity, f.kind, f.entity_id, f.external_id, f.version,
		f.at, f.actor, `+packedColumnsOf+`, `+productColumnsOf+`, o.id, rv.id
		FROM feed f
		LEFT JOIN customers c ON f.kind = 'UPSERTED' AND f.entity = 'customer' AND c.id = f.entity_id
		LEFT JOIN products p ON f.kind = 'UPSERTED' AND f.entity = 'product' AND p.id = f.entity_id
		LEFT JOIN orders o ON f.kind = 'UPSERTED' AND f.entity = 'order' AND o.id = f.entity_id
		LEFT JOIN reviews rv ON f.kind = 'UPSERTED' AND f.entity = 'review' AND rv.id = f.entity_id
		WHERE f.seq > ? ORDER BY f.seq LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: feed: %w", err)
	}
	out, err := scanFeed(rows, limit)
	if err != nil {
		return nil, false, fmt.Errorf("store: feed: %w", err)
	}
	if out, err = db.feedRecords(ctx, out); err != nil {
		return nil, false, fmt.Errorf("store: feed: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	// The horizon is read after the page: it only grows, so a purge that ran before the page was read
	// is seen here, and a cursor it made stale is refused rather than answered with a gap.
	if after != 0 {
		horizon, err := db.feedHorizon(ctx)
		if err != nil {
			return nil, false, err
		}
		if after < horizon {
			return nil, false, store.ErrCursorExpired
		}
	}
	return out, more, nil
}

func scanFeed(rows *sql.Rows, limit int) ([]store.FeedEntry, error) {
	defer rows.Close()
	out := make([]store.FeedEntry, 0, min(limit+1, 1024))
	for rows.Next() {
		var (
			e          store.FeedEntry
			ext, actor sql.NullString
			at         string
			c          customerRow
			p          productRow
			o, rv      sql.NullInt64
		)
		dest := append([]any{&e.Seq, &e.Entity, &e.Kind, &e.ID, &ext, &e.Version, &at, &actor}, c.packedDest()...)
		dest = append(dest, p.dest()...)
		dest = append(dest, &o, &rv)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		err := c.unpack(c.packed)
		if err != nil {
			return nil, err
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		e.ExternalID, e.Actor = ext.String, actor.String
		switch {
		case e.Kind != store.FeedUpserted:
		case e.Entity == store.EntityOrder:
			if !o.Valid {
				return nil, fmt.Errorf("feed entry %d: order %d is missing", e.Seq, e.ID)
			}
			e.Order = &store.Order{ID: e.ID} // read by feedRecords
		case e.Entity == store.EntityReview:
			if !rv.Valid {
				return nil, fmt.Errorf("feed entry %d: review %d is missing", e.Seq, e.ID)
			}
			e.Review = &store.Review{ID: e.ID} // read by feedRecords
		case e.Entity == store.EntityProduct:
			if !p.present() {
				return nil, fmt.Errorf("feed entry %d: product %d is missing", e.Seq, e.ID)
			}
			prod, err := p.product()
			if err != nil {
				return nil, err
			}
			e.Product = &prod
		default:
			if !c.present() {
				return nil, fmt.Errorf("feed entry %d: customer %d is missing", e.Seq, e.ID)
			}
			cust, err := c.customer()
			if err != nil {
				return nil, err
			}
			e.Customer = &cust
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// feedRecords reads the orders and reviews of the UPSERTED entries of a page. They are read after the
// page: a later write moves a record to a later seq and the reader sees it again there, so an entry may
// show a newer state than its seq, never an older one; a review deleted in between is left out (its
// tombstone follows later in the feed).
func (db *DB) feedRecords(ctx context.Context, entries []store.FeedEntry) ([]store.FeedEntry, error) {
	out := entries[:0]
	for _, e := range entries {
		switch {
		case e.Order != nil:
			o, err := getOrder(ctx, db.read, e.ID)
			if err != nil {
				return nil, err
			}
			e.Order = &o
		case e.Review != nil:
			r, err := db.GetReview(ctx, e.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			e.Review = &r
		}
		out = append(out, e)
	}
	return out, nil
}

func (db *DB) feedHorizon(ctx context.Context) (int64, error) {
	var h int64
	err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, metaFeedHorizon).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: feed horizon: %w", err)
	}
	return h, nil
}

// PurgeTombstones removes the feed's deletion entries written before olderThan and raises the horizon
// to the highest seq removed, in one transaction; it returns how many it removed.
func (db *DB) PurgeTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	var n int
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		var maxSeq sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT count(*), max(seq) FROM feed WHERE kind = 'DELETED' AND at < ?`,
			formatTime(olderThan)).Scan(&n, &maxSeq)
		if err != nil || n == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM feed WHERE kind = 'DELETED' AND at < ?`, formatTime(olderThan)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`, metaFeedHorizon, maxSeq.Int64)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge tombstones: %w", err)
	}
	return n, nil
}
