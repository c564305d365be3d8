package sqlite

import (
	"database/sql"

	"github.com/mattn/go-sqlite3"

	"github.com/crmsoap/crmsoap/store"
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

// fold is store.Fold, the case folding every backend shares.
func fold(s string) string { return store.Fold(s) }
