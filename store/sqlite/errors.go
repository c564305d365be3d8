package sqlite

import (
	"errors"

	"github.com/mattn/go-sqlite3"
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
