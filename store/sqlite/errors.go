package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"

	"github.com/crmsoap/crmsoap/store"
)

// isUniqueViolation reports whether err is SQLite refusing a UNIQUE or PRIMARY KEY duplicate, judged by
// the extended result code, never by the message text.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

// uniqueKey is one unique key a write can collide with: the record field it holds, and a query that
// finds another row holding the write's value (args), which says whether this key was the one hit.
type uniqueKey struct {
	entity, field string
	probe         string
	args          []any
}

// uniqueViolation explains a failed write. When SQLite's extended code says a unique key was violated,
// the first of keys whose probe finds the value taken becomes the *store.DuplicateError; the message
// text is never read. Any other failure is wrapped with op. The probes run inside the writer's
// savepoint, before it is rolled back, so they see what the write collided with.
func uniqueViolation(ctx context.Context, tx *sql.Tx, op string, err error, keys ...uniqueKey) error {
	if !isUniqueViolation(err) {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, k := range keys {
		if taken, qerr := exists(ctx, tx, k.probe, k.args...); qerr == nil && taken {
			return &store.DuplicateError{Entity: k.entity, Field: k.field}
		}
	}
	return fmt.Errorf("%s: unexplained unique violation: %w", op, err)
}
