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

const subscriptionColumns = `name, sink_kind, sink_config, entity, cursor, state, created_at, last_success, last_error, last_error_at,
	lease_owner, lease_expires`

func scanSubscription(row interface{ Scan(...any) error }) (store.Subscription, error) {
	var s store.Subscription
	var cfg, created string
	var success, lastErr, errAt, owner, expires sql.NullString
	if err := row.Scan(&s.Name, &s.SinkKind, &cfg, &s.Entity, &s.Cursor, &s.State, &created, &success, &lastErr, &errAt,
		&owner, &expires); err != nil {
		return s, err
	}
	s.SinkConfig = []byte(cfg)
	s.LastError = lastErr.String
	s.LeaseOwner = owner.String
	var err error
	if s.CreatedAt, err = parseTime(created); err != nil {
		return s, err
	}
	for _, t := range []struct {
		src sql.NullString
		dst *time.Time
	}{{success, &s.LastSuccess}, {errAt, &s.LastErrorAt}, {expires, &s.LeaseExpires}} {
		if t.src.Valid {
			if *t.dst, err = parseTime(t.src.String); err != nil {
				return s, err
			}
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

// LeaseSubscription gives owner the delivery lease of name until until when it is free, expired at
// now or owner's already, and returns the subscription. Errors: *store.LeaseHeldError, store.ErrNotFound.
func (db *DB) LeaseSubscription(ctx context.Context, name, owner string, now, until time.Time) (store.Subscription, error) {
	var s store.Subscription
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Times are stored in one fixed-width UTC layout, so comparing the text compares the instants.
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET lease_owner = ?, lease_expires = ?
			WHERE name = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires <= ?)`,
			owner, formatTime(until), name, owner, formatTime(now)); err != nil {
			return fmt.Errorf("store: lease subscription %q: %w", name, err)
		}
		var err error
		s, err = scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE name = ?`, name))
		if err == sql.ErrNoRows {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: lease subscription %q: %w", name, err)
		}
		if s.LeaseOwner != owner {
			return &store.LeaseHeldError{Owner: s.LeaseOwner, Expires: s.LeaseExpires}
		}
		return nil
	})
	return s, err
}

// ReleaseSubscription ends owner's lease of name, if owner holds it.
func (db *DB) ReleaseSubscription(ctx context.Context, name, owner string) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE subscriptions SET lease_owner = NULL, lease_expires = NULL
			WHERE name = ? AND lease_owner = ?`, name, owner)
		if err != nil {
			return fmt.Errorf("store: release subscription %q: %w", name, err)
		}
		return nil
	})
}

// AckSubscription advances the cursor of name from from to to for the lease holder owner.
// Errors: store.ErrConflict when the stored cursor is not from or owner holds no lease,
// store.ErrNotFound.
func (db *DB) AckSubscription(ctx context.Context, name, owner string, from, to int64, at time.Time) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET cursor = ?, last_success = ?, last_error = NULL, last_error_at = NULL,
			state = CASE state WHEN 'FAILING' THEN 'ACTIVE' ELSE state END WHERE name = ? AND cursor = ? AND lease_owner = ?`,
			to, formatTime(at), name, from, owner)
		return conflictOrGone(ctx, tx, name, oneRow(res, err, "ack subscription"))
	})
}

// FailSubscription records a failed delivery by the lease holder owner; failing turns an ACTIVE
// subscription FAILING. Errors: store.ErrConflict when owner holds no lease, store.ErrNotFound.
func (db *DB) FailSubscription(ctx context.Context, name, owner, msg string, at time.Time, failing bool) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET last_error = ?, last_error_at = ?,
			state = CASE WHEN ? AND state = 'ACTIVE' THEN 'FAILING' ELSE state END WHERE name = ? AND lease_owner = ?`,
			msg, formatTime(at), failing, name, owner)
		return conflictOrGone(ctx, tx, name, oneRow(res, err, "fail subscription"))
	})
}

// conflictOrGone turns the store.ErrNotFound of a conditional update of subscription name into
// store.ErrConflict when the subscription exists (its condition failed).
func conflictOrGone(ctx context.Context, tx *sql.Tx, name string, err error) error {
	if err != store.ErrNotFound {
		return err
	}
	ok, qerr := exists(ctx, tx, `SELECT 1 FROM subscriptions WHERE name = ?`, name)
	if qerr != nil {
		return fmt.Errorf("store: subscription %q: %w", name, qerr)
	}
	if ok {
		return store.ErrConflict
	}
	return store.ErrNotFound
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
