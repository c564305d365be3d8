package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// trail takes the change-log row and the feed row each customer write leaves. Unbatched (or nil) it
// writes them at once; batched it keeps them until flush, which writes them in order with a few
// multi-row statements instead of two statements per write.
type trail struct {
	batched bool
	changes []Change
	feed    []feedRow
	args    []any // reused by flush
}

// add records ch and makes f its record's feed entry.
func (t *trail) add(ctx context.Context, tx *sql.Tx, ch Change, f feedRow) error {
	if t == nil || !t.batched {
		if err := recordChange(ctx, tx, ch); err != nil {
			return err
		}
		return writeFeed(ctx, tx, f)
	}
	t.changes = append(t.changes, ch)
	t.feed = append(t.feed, f)
	return nil
}

// trailChunks are the row counts of flush's statements, largest first: few distinct statement texts, so
// that the connection's statement cache keeps them all.
var trailChunks = [...]int{128, 32, 8, 2, 1}

const (
	changesInsert = `INSERT INTO changes (entity, entity_id, op, version, at, actor) VALUES `
	feedInsert    = `INSERT OR REPLACE INTO feed (entity, entity_id, kind, version, at, actor, external_id) VALUES `
)

var changesSQL, feedSQL = multiRowSQL(changesInsert, 6), multiRowSQL(feedInsert, 7)

// multiRowSQL is insert with n rows of cols placeholders, for each n of trailChunks.
func multiRowSQL(insert string, cols int) map[int]string {
	row := "(?" + strings.Repeat(", ?", cols-1) + ")"
	m := make(map[int]string, len(trailChunks))
	for _, n := range trailChunks {
		m[n] = insert + row + strings.Repeat(", "+row, n-1)
	}
	return m
}

// flush writes what add kept, change-log rows first, each table in the order of the writes, and
// forgets it.
func (t *trail) flush(ctx context.Context, tx *sql.Tx) error {
	defer func() { t.changes, t.feed = t.changes[:0], t.feed[:0] }()
	for rest := t.changes; len(rest) > 0; {
		n := chunk(len(rest))
		t.args = t.args[:0]
		for _, ch := range rest[:n] {
			t.args = append(t.args, ch.Entity, ch.EntityID, ch.Op, ch.Version, formatTime(ch.At), nullString(ch.Actor))
		}
		if _, err := tx.ExecContext(ctx, changesSQL[n], t.args...); err != nil {
			return fmt.Errorf("store: record changes: %w", err)
		}
		rest = rest[n:]
	}
	for rest := t.feed; len(rest) > 0; {
		n := chunk(len(rest))
		t.args = t.args[:0]
		for _, r := range rest[:n] {
			t.args = append(t.args, entityCustomer, r.id, r.kind, r.version, formatTime(r.at), nullString(r.actor),
				nullString(r.externalID))
		}
		if _, err := tx.ExecContext(ctx, feedSQL[n], t.args...); err != nil {
			return fmt.Errorf("store: feed: %w", err)
		}
		rest = rest[n:]
	}
	return nil
}

// chunk is the largest of trailChunks that is at most n (n >= 1).
func chunk(n int) int {
	for _, c := range trailChunks {
		if c <= n {
			return c
		}
	}
	return 1
}
