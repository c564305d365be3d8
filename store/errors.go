package store

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound means the addressed row does not exist (or no longer exists).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means the caller's expected version is stale: someone else wrote the row first.
	ErrConflict = errors.New("store: version conflict")
	// ErrClosed is returned by writes submitted after the store was closed.
	ErrClosed = errors.New("store: database is closed")
	// ErrRolledBack is the result of an operation of an all-or-none WriteCustomers call that did not fail
	// itself but was rolled back because another operation of the call failed.
	ErrRolledBack = errors.New("store: rolled back with the other operations of the call")
	// ErrCursorExpired means a feed position lies before the tombstone horizon: deletions after it may have
	// been purged, so reading on from it could miss them. The reader must start over from 0.
	ErrCursorExpired = errors.New("store: feed cursor expired")
	// ErrIdempotencyRace means another transaction stored an idempotency record with the same client and
	// message id first; the caller looks that record up and replays it.
	ErrIdempotencyRace = errors.New("store: idempotency record stored concurrently")
)

// Entities named by DuplicateError and FeedEntry.
const (
	EntityCustomer = "customer"
	EntityClient   = "client"
)

// DuplicateError means a write would give a unique field a value another record already has.
// Entity is EntityCustomer or EntityClient; Field is the record's field in contract spelling:
// "externalId" for customers, "name" or "cert" for clients.
type DuplicateError struct {
	Entity string
	Field  string
	// ExistingID, when known, is the id of the record that has the value (orders' externalId).
	ExistingID int64
}

func (e *DuplicateError) Error() string {
	return "store: duplicate " + e.Entity + " " + e.Field
}

// SchemaTooNewError means the database was migrated by a newer crmsoap than this one; opening refuses it
// rather than write to a schema it does not know.
type SchemaTooNewError struct {
	Have  int // the database's schema version
	Known int // the newest migration this binary embeds
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("store: database schema version %d is newer than this binary knows (%d): upgrade crmsoap or use a matching database", e.Have, e.Known)
}
