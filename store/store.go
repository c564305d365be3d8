// Package store holds crmsoap's records (Customer, Client, FeedEntry, ...), the errors that say what
// happened to the data (ErrNotFound, ErrConflict, *DuplicateError, ...) and the interfaces a storage
// backend implements. It knows nothing about SOAP and nothing about SQL: each backend is a package below
// it (store/sqlite), and store/storetest is the behaviour suite every backend passes.
//
// It must not import the service, soap or wsdl packages, nor any database driver.
package store

import (
	"context"
	"time"
)

// CustomerStore keeps customers and their change feed.
type CustomerStore interface {
	// CreateCustomer stores c (ID and Version ignored; times and actors taken from c) and returns it as
	// stored, with ID set and Version 1. Errors: *DuplicateError.
	CreateCustomer(ctx context.Context, c Customer) (Customer, error)
	// GetCustomer returns customer id. Errors: ErrNotFound.
	GetCustomer(ctx context.Context, id int64) (Customer, error)
	// UpdateCustomer replaces every writable field of customer c.ID; expectedVersion 0 = any version.
	// Errors: ErrNotFound, ErrConflict, *DuplicateError.
	UpdateCustomer(ctx context.Context, c Customer, expectedVersion int64) (Customer, error)
	// DeleteCustomer deletes customer id (expectedVersion 0 = any version), leaving a tombstone in the
	// feed at time at by actor. Errors: ErrNotFound, ErrConflict.
	DeleteCustomer(ctx context.Context, id, expectedVersion int64, at time.Time, actor string) error
	// UpsertCustomer matches on c.ExternalID (required): it creates the customer or replaces the one
	// with that external id (if at expectedVersion; 0 = any). created reports an insert.
	// Errors: ErrConflict, ErrNotFound (expectedVersion set but no customer has the external id),
	// *DuplicateError.
	UpsertCustomer(ctx context.Context, c Customer, expectedVersion int64) (Customer, bool, error)
	// WriteCustomers runs every op in one transaction, each in its own savepoint, and returns one result
	// per op. With allOrNone any failure rolls back all: the failing ops keep their own error, the
	// others get ErrRolledBack. Two ops of one call naming the same external id both fail with
	// *DuplicateError. idem, when non-nil, is stored in the same transaction: with allOrNone only if
	// the call committed, otherwise always (see IdempotencyRecord.Encode). The error is for the call as
	// a whole, and then nothing was written and the results are nil: ErrIdempotencyRace (a live record
	// with idem's client and message id exists), ErrClosed, the ctx's error, Encode's error, I/O.
	WriteCustomers(ctx context.Context, ops []CustomerOp, allOrNone bool, idem *IdempotencyRecord) ([]CustomerResult, error)
	// SearchCustomers returns at most limit customers matching f with ID > after.ID, in ID order.
	SearchCustomers(ctx context.Context, f CustomerFilter, after CustomerKey, limit int) ([]Customer, error)
	// Feed returns the compacted feed entries with Seq > after in Seq order, at most limit, and whether
	// more follow. after = 0 is the initial load: every live record, and the tombstones not yet purged.
	// Errors: ErrCursorExpired when 0 < after < the horizon of purged tombstones.
	Feed(ctx context.Context, after int64, limit int) ([]FeedEntry, bool, error)
	// PurgeTombstones removes the feed's deletion entries older than olderThan and raises the horizon
	// past them; it returns how many it removed.
	PurgeTombstones(ctx context.Context, olderThan time.Time) (int, error)
}

// IdempotencyRecord is the stored outcome of a request carrying a message id, replayed on a retry.
// An expired record counts as absent: lookups do not return it and a new record may take its key.
type IdempotencyRecord struct {
	Client, MessageID, Operation string
	RequestHash                  [32]byte
	Response                     []byte
	Expires                      time.Time
	// Encode, when set, makes the Response stored by WriteCustomers: it is called inside the
	// transaction with the call's results (ErrRolledBack already filled in); its error aborts the
	// call. The store never interprets the bytes. Records read back have Encode nil. It runs while the
	// store's write transaction is open: it must be quick and must not write to the store (a write
	// would wait for the transaction that is waiting for Encode).
	Encode func(results []CustomerResult) ([]byte, error)
}

// IdempotencyStore reads and purges idempotency records (they are written by WriteCustomers).
type IdempotencyStore interface {
	// LookupIdempotency returns the stored, unexpired record. Errors: ErrNotFound.
	LookupIdempotency(ctx context.Context, client, messageID string) (IdempotencyRecord, error)
	// PurgeIdempotency removes the records that expire before before and returns how many.
	PurgeIdempotency(ctx context.Context, before time.Time) (int, error)
}

// ClientStore keeps the registry of API clients.
type ClientStore interface {
	// AddClient registers c. Errors: *DuplicateError (Field "name" or "cert"), ErrRevoked.
	AddClient(ctx context.Context, c Client) error
	// ListClients returns every registered client ordered by name.
	ListClients(ctx context.Context) ([]Client, error)
	// SetClientEnabled enables or disables the client name. Errors: ErrNotFound.
	SetClientEnabled(ctx context.Context, name string, enabled bool) error
	// RemoveClient unregisters the client name and, in the same transaction, revokes its certificate
	// (RevocationStore) for reason at time at. Errors: ErrNotFound.
	RemoveClient(ctx context.Context, name, reason string, at time.Time) error
}

// SecretStore keeps server secrets that live with the data (e.g. the key that signs page tokens).
type SecretStore interface {
	// Secret returns the 32-byte secret called name, creating it from crypto/rand on first use. Every
	// caller, in every process using the database, gets the same bytes.
	Secret(ctx context.Context, name string) ([]byte, error)
}

// Store is everything a backend offers.
type Store interface {
	CustomerStore
	IdempotencyStore
	ClientStore
	RevocationStore
	ReplayStore
	SecretStore
	// Close finishes the writes already accepted and releases the backend; later writes get ErrClosed.
	Close() error
}
