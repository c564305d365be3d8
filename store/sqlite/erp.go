package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

var _ store.Store = (*DB)(nil)

// UpsertCustomer creates or replaces the customer with c.ExternalID (see store.CustomerStore).
func (db *DB) UpsertCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, bool, error) {
	return store.Customer{}, false, errors.ErrUnsupported
}

// WriteCustomers runs ops in one transaction (see store.CustomerStore).
func (db *DB) WriteCustomers(ctx context.Context, ops []store.CustomerOp, allOrNone bool, idem *store.IdempotencyRecord) ([]store.CustomerResult, error) {
	return nil, errors.ErrUnsupported
}

// SearchCustomers returns a keyset page of customers (see store.CustomerStore).
func (db *DB) SearchCustomers(ctx context.Context, f store.CustomerFilter, after store.CustomerKey, limit int) ([]store.Customer, error) {
	return nil, errors.ErrUnsupported
}

// Feed returns compacted feed entries after seq after (see store.CustomerStore).
func (db *DB) Feed(ctx context.Context, after int64, limit int) ([]store.FeedEntry, bool, error) {
	return nil, false, errors.ErrUnsupported
}

// PurgeTombstones removes old deletion entries from the feed (see store.CustomerStore).
func (db *DB) PurgeTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	return 0, errors.ErrUnsupported
}

// LookupIdempotency returns a stored idempotency record (see store.IdempotencyStore).
func (db *DB) LookupIdempotency(ctx context.Context, client, messageID string) (store.IdempotencyRecord, error) {
	return store.IdempotencyRecord{}, errors.ErrUnsupported
}

// PurgeIdempotency removes expired idempotency records (see store.IdempotencyStore).
func (db *DB) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	return 0, errors.ErrUnsupported
}

// Secret returns the named 32-byte secret, creating it on first use (see store.SecretStore).
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	return nil, errors.ErrUnsupported
}
