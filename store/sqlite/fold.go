package sqlite

import (
	"database/sql"
	"strings"
	"unicode"

	"github.com/mattn/go-sqlite3"
)

// driverName is go-sqlite3 with the store's SQL functions on every connection. Only migrations call
// them (to backfill derived columns); no schema object refers to them, so any SQLite tool can still
// read and write the file.
const driverName = "crmsoap-sqlite3"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			return c.RegisterFunc("crmsoap_fold", fold, true)
		},
	})
}

// fold maps s to a case-insensitive form: every rune to the lower case of its upper case, which is
// Unicode simple case folding for practical purposes (Σ, σ and final ς all become σ; K and the Kelvin
// sign become k), the same equivalence strings.EqualFold uses. Full folding (ß to ss) is not done.
func fold(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}
