package sqlite

import (
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

var (
	// ErrNotFound means the addressed row does not exist (or no longer exists).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means the caller's expected version is stale: someone else wrote the row first.
	ErrConflict = errors.New("store: version conflict")
)

// DuplicateError means a write would give a unique column a value another row already has.
// Column is the database column: "external_id" for customers, "name" or "cert" for clients.
type DuplicateError struct {
	Column string
}

func (e *DuplicateError) Error() string {
	return "store: duplicate " + e.Column
}

// SchemaTooNewError means the database was migrated by a newer crmsoap than this one; Open refuses it
// rather than write to a schema it does not know.
type SchemaTooNewError struct {
	Have  int // the database's PRAGMA user_version
	Known int // the newest migration this binary embeds
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("store: database schema version %d is newer than this binary knows (%d): upgrade crmsoap or use a matching database", e.Have, e.Known)
}

// isUniqueViolation reports whether err is SQLite refusing a UNIQUE or PRIMARY KEY duplicate, judged by
// the extended result code, never by the message text.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}
