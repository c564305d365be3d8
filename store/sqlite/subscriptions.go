package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

var _ store.SubscriptionStore = (*DB)(nil)

// AddSubscription stores s. Errors: *store.DuplicateError{Field: "name"}.
func (db *DB) AddSubscription(ctx context.Context, s store.Subscription) error {
	if s.State == "" {
		s.State = store.SubActive
	}
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (name, sink_kind, sink_config, entity, cursor, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, s.Name, s.SinkKind, string(s.SinkConfig), s.Entity, s.Cursor, s.State, formatTime(s.CreatedAt))
		if isUniqueViolation(err) {
			return &store.DuplicateError{Entity: store.EntitySubscription, Field: "name"}
		}
		if err != nil {
			return fmt.Errorf("store: add subscription %q: %w", s.Name, err)
		}
		return nil
	})
}

const subscriptionColumns = `name, sink_kind, sink_config, entity, cursor, state, created_at, last_success, last_error, last_error_at`

func scanSubscription(row interface{ Scan(...any) error }) (store.Subscription, error) {
	var s store.Subscription
	var cfg, created string
	var success, lastErr, errAt sql.NullString
	if err := row.Scan(&s.Name, &s.SinkKind, &cfg, &s.Entity, &s.Cursor, &s.State, &created, &success, &lastErr, &errAt); err != nil {
		return s, err
	}
	s.SinkConfig = []byte(cfg)
	s.LastError = lastErr.String
	var err error
	if s.CreatedAt, err = parseTime(created); err != nil {
		return s, err
	}
	if success.Valid {
		if s.LastSuccess, err = parseTime(success.String); err != nil {
			return s, err
		}
	}
	if errAt.Valid {
		if s.LastErrorAt, err = parseTime(errAt.String); err != nil {
			return s, err
		}
	}
	return s, nil
}

// GetSubscription returns subscription name. Errors: store.ErrNotFound.
func (db *DB) GetSubscription(ctx context.Context, name string) (store.Subscription, error) {
	s, err := scanSubscription(db.read.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE name = ?`, name))
	if err == sql.ErrNoRows {
		return s, store.ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: get subscription %q: %w", name, err)
	}
	return s, nil
}

// ListSubscriptions returns every subscription ordered by name.
func (db *DB) ListSubscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []store.Subscription
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list subscriptions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list subscriptions: %w", err)
	}
	return out, nil
}

// SetSubscriptionState sets the state of name. Errors: store.ErrNotFound.
func (db *DB) SetSubscriptionState(ctx context.Context, name, state string) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET state = ? WHERE name = ?`, state, name)
		return oneRow(res, err, "set subscription state")
	})
}

// RemoveSubscription deletes name. Errors: store.ErrNotFound.
func (db *DB) RemoveSubscription(ctx context.Context, name string) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE name = ?`, name)
		return oneRow(res, err, "remove subscription")
	})
}

// AckSubscription advances the cursor of name from from to to. Errors: store.ErrConflict when the
// stored cursor is not from, store.ErrNotFound.
func (db *DB) AckSubscription(ctx context.Context, name string, from, to int64, at time.Time) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET cursor = ?, last_success = ?, last_error = NULL, last_error_at = NULL,
			state = CASE state WHEN 'FAILING' THEN 'ACTIVE' ELSE state END WHERE name = ? AND cursor = ?`, to, formatTime(at), name, from)
		if err := oneRow(res, err, "ack subscription"); err != store.ErrNotFound {
			return err
		}
		if ok, qerr := exists(ctx, tx, `SELECT 1 FROM subscriptions WHERE name = ?`, name); qerr == nil && ok {
			return store.ErrConflict
		}
		return store.ErrNotFound
	})
}

// FailSubscription records a failed delivery; failing turns an ACTIVE subscription FAILING.
// Errors: store.ErrNotFound.
func (db *DB) FailSubscription(ctx context.Context, name, msg string, at time.Time, failing bool) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET last_error = ?, last_error_at = ?,
			state = CASE WHEN ? AND state = 'ACTIVE' THEN 'FAILING' ELSE state END WHERE name = ?`, msg, formatTime(at), failing, name)
		return oneRow(res, err, "fail subscription")
	})
}

// FeedLag counts the feed entries after after (of entity, "" = all) and returns the oldest one's time.
func (db *DB) FeedLag(ctx context.Context, entity string, after int64) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullString
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*), MIN(at) FROM feed WHERE seq > ? AND (? = '' OR entity = ?)`,
		after, entity, entity).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: feed lag: %w", err)
	}
	var t time.Time
	if oldest.Valid {
		if t, err = parseTime(oldest.String); err != nil {
			return 0, time.Time{}, fmt.Errorf("store: feed lag: %w", err)
		}
	}
	return n, t, nil
}
