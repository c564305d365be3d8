package sqlite

import (
	"database/sql"
	"fmt"

	"github.com/mattn/go-sqlite3"

	"github.com/crmsoap/crmsoap/store"
)

// driverName is go-sqlite3 with the store's SQL functions on every connection. Only migrations call
// them (to backfill derived columns); no schema object refers to them, so any SQLite tool can still
// read and write the file. Every connection also reads the file through a memory map (mmapSize).
const driverName = "crmsoap-sqlite3"

// mmapSize is how much of the database file a connection reads through a shared memory map instead of
// read system calls into its own page cache: a page the cache of one of the read connections does not
// hold costs a pread, and every read connection caches the same pages. Writes still go through write
// system calls; beyond mmapSize bytes of file, reads do too.
const mmapSize = 1 << 30

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			if _, err := c.Exec(fmt.Sprintf("PRAGMA mmap_size = %d", mmapSize), nil); err != nil {
				return err
			}
			return c.RegisterFunc("crmsoap_fold", fold, true)
		},
	})
}

// fold is store.Fold, the case folding every backend shares.
func fold(s string) string { return store.Fold(s) }
