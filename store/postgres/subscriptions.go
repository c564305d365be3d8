package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

var _ store.SubscriptionStore = (*DB)(nil)

// Subscriptions are not written through the group-commit writer: they are a handful of rows changed a
// few times a second at most, and each statement below is one conditional row update that PostgreSQL
// runs atomically, which is what the lease and the cursor rely on.

// AddSubscription stores s. Errors: *store.DuplicateError{Field: "name"}.
func (db *DB) AddSubscription(ctx context.Context, s store.Subscription) error {
	if s.State == "" {
		s.State = store.SubActive
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO subscriptions (name, sink_kind, sink_config, entity, cursor, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.Name, s.SinkKind, string(s.SinkConfig), s.Entity, s.Cursor, s.State, nanos(s.CreatedAt))
	if err != nil {
		return duplicate(fmt.Sprintf("add subscription %q", s.Name), err)
	}
	return nil
}

const subscriptionColumns = `name, sink_kind, sink_config, entity, cursor, state, created_at, last_success, last_error, last_error_at,
	lease_owner, lease_expires`

func scanSubscription(row pgx.Row) (store.Subscription, error) {
	var s store.Subscription
	var cfg string
	var created int64
	var success, errAt, expires *int64
	var lastErr, owner *string
	if err := row.Scan(&s.Name, &s.SinkKind, &cfg, &s.Entity, &s.Cursor, &s.State, &created, &success, &lastErr, &errAt,
		&owner, &expires); err != nil {
		return s, err
	}
	s.SinkConfig = []byte(cfg)
	s.CreatedAt = fromNanos(created)
	for _, t := range []struct {
		src *int64
		dst *time.Time
	}{{success, &s.LastSuccess}, {errAt, &s.LastErrorAt}, {expires, &s.LeaseExpires}} {
		if t.src != nil {
			*t.dst = fromNanos(*t.src)
		}
	}
	if lastErr != nil {
		s.LastError = *lastErr
	}
	if owner != nil {
		s.LeaseOwner = *owner
	}
	return s, nil
}

// GetSubscription returns subscription name. Errors: store.ErrNotFound.
func (db *DB) GetSubscription(ctx context.Context, name string) (store.Subscription, error) {
	s, err := scanSubscription(db.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, store.ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: get subscription %q: %w", name, err)
	}
	return s, nil
}

// ListSubscriptions returns every subscription ordered by name.
func (db *DB) ListSubscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("store: list subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Subscription, error) { return scanSubscription(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list subscriptions: %w", err)
	}
	return out, nil
}

// SetSubscriptionState sets the state of name. Errors: store.ErrNotFound.
func (db *DB) SetSubscriptionState(ctx context.Context, name, state string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE subscriptions SET state = $1 WHERE name = $2`, state, name)
	return oneRow(tag, err, "set subscription state")
}

// RemoveSubscription deletes name. Errors: store.ErrNotFound.
func (db *DB) RemoveSubscription(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM subscriptions WHERE name = $1`, name)
	return oneRow(tag, err, "remove subscription")
}

// LeaseSubscription gives owner the delivery lease of name until until when it is free, expired at
// now or owner's already, and returns the subscription. Errors: *store.LeaseHeldError, store.ErrNotFound.
func (db *DB) LeaseSubscription(ctx context.Context, name, owner string, now, until time.Time) (store.Subscription, error) {
	// One statement: the update takes the row lock, so of two nodes racing for an expired lease the
	// second re-evaluates the condition against the first one's lease and leaves it alone.
	s, err := scanSubscription(db.pool.QueryRow(ctx, `UPDATE subscriptions SET lease_owner = $2, lease_expires = $3
		WHERE name = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires <= $4)
		RETURNING `+subscriptionColumns, name, owner, nanos(until), nanos(now)))
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("store: lease subscription %q: %w", name, err)
	}
	held, err := db.GetSubscription(ctx, name)
	if err != nil {
		return held, err
	}
	return held, &store.LeaseHeldError{Owner: held.LeaseOwner, Expires: held.LeaseExpires}
}

// ReleaseSubscription ends owner's lease of name, if owner holds it.
func (db *DB) ReleaseSubscription(ctx context.Context, name, owner string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE subscriptions SET lease_owner = NULL, lease_expires = NULL
		WHERE name = $1 AND lease_owner = $2`, name, owner); err != nil {
		return fmt.Errorf("store: release subscription %q: %w", name, err)
	}
	return nil
}

// AckSubscription advances the cursor of name from from to to for the lease holder owner.
// Errors: store.ErrConflict when the stored cursor is not from or owner holds no lease,
// store.ErrNotFound.
func (db *DB) AckSubscription(ctx context.Context, name, owner string, from, to int64, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE subscriptions SET cursor = $1, last_success = $2, last_error = NULL, last_error_at = NULL,
		state = CASE state WHEN 'FAILING' THEN 'ACTIVE' ELSE state END WHERE name = $3 AND cursor = $4 AND lease_owner = $5`,
		to, nanos(at), name, from, owner)
	return db.conflictOrGone(ctx, name, oneRow(tag, err, "ack subscription"))
}

// FailSubscription records a failed delivery by the lease holder owner; failing turns an ACTIVE
// subscription FAILING. Errors: store.ErrConflict when owner holds no lease, store.ErrNotFound.
func (db *DB) FailSubscription(ctx context.Context, name, owner, msg string, at time.Time, failing bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE subscriptions SET last_error = $1, last_error_at = $2,
		state = CASE WHEN $3 AND state = 'ACTIVE' THEN 'FAILING' ELSE state END WHERE name = $4 AND lease_owner = $5`,
		msg, nanos(at), failing, name, owner)
	return db.conflictOrGone(ctx, name, oneRow(tag, err, "fail subscription"))
}

// conflictOrGone turns the store.ErrNotFound of a conditional update of subscription name into
// store.ErrConflict when the subscription exists (its condition failed). A subscription removed
// between the two statements is reported gone, which it is.
func (db *DB) conflictOrGone(ctx context.Context, name string, err error) error {
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var ok bool
	if qerr := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM subscriptions WHERE name = $1)`, name).Scan(&ok); qerr != nil {
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
	var oldest *int64
	err := db.pool.QueryRow(ctx, `SELECT count(*), min(at) FROM feed WHERE seq > $1 AND ($2 = '' OR entity = $2)`,
		after, entity).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: feed lag: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, fromNanos(*oldest), nil
}

// importSubscriptions copies subs, cursors and delivery state included, leases left out, into the
// database of Import's transaction tx. Errors: ErrNotEmpty when the database has subscriptions.
func importSubscriptions(ctx context.Context, tx pgx.Tx, subs []store.Subscription) error {
	var used bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM subscriptions)`).Scan(&used); err != nil {
		return fmt.Errorf("store: import subscriptions: %w", err)
	}
	if used {
		return ErrNotEmpty
	}
	optional := func(t time.Time) *int64 {
		if t.IsZero() {
			return nil
		}
		n := nanos(t)
		return &n
	}
	for _, s := range subs {
		if _, err := tx.Exec(ctx, `INSERT INTO subscriptions (name, sink_kind, sink_config, entity, cursor, state, created_at,
			last_success, last_error, last_error_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			s.Name, s.SinkKind, string(s.SinkConfig), s.Entity, s.Cursor, s.State, nanos(s.CreatedAt),
			optional(s.LastSuccess), nullString(s.LastError), optional(s.LastErrorAt)); err != nil {
			return duplicate("import subscriptions", err)
		}
	}
	return nil
}
