package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Change operations.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Change is one row of the change log, written in the same transaction as the change it describes.
// Seq grows in commit order; a delete's Version is one past the deleted row's last version.
type Change struct {
	Seq      int64
	Entity   string // "customer"
	EntityID int64
	Version  int64
	Op       string // OpCreate, OpUpdate or OpDelete
	At       time.Time
	Actor    string // "" when unauthenticated
}

// maxChanges caps one Changes page.
const maxChanges = 1000

// Changes lists the change log after seq afterSeq, oldest first, at most limit rows (limit <= 0 or
// above 1000 means 1000).
func (db *DB) Changes(ctx context.Context, afterSeq int64, limit int) ([]Change, error) {
	if limit <= 0 || limit > maxChanges {
		limit = maxChanges
	}
	rows, err := db.read.QueryContext(ctx, `SELECT seq, entity, entity_id, version, op, at, actor
		FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var ch Change
		var at string
		var actor sql.NullString
		if err := rows.Scan(&ch.Seq, &ch.Entity, &ch.EntityID, &ch.Version, &ch.Op, &at, &actor); err != nil {
			return nil, fmt.Errorf("store: changes: %w", err)
		}
		if ch.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: changes: %w", err)
		}
		ch.Actor = actor.String
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: changes: %w", err)
	}
	return out, nil
}

// recordChange appends ch (Seq ignored) to the change log inside the caller's savepoint.
func recordChange(ctx context.Context, tx *sql.Tx, ch Change) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (entity, entity_id, op, version, at, actor) VALUES (?, ?, ?, ?, ?, ?)`,
		ch.Entity, ch.EntityID, ch.Op, ch.Version, formatTime(ch.At), nullString(ch.Actor))
	if err != nil {
		return fmt.Errorf("store: record %s %s %d: %w", ch.Op, ch.Entity, ch.EntityID, err)
	}
	return nil
}
