package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// dbHelp describes the --db flag of every command that opens the database.
const dbHelp = "SQLite database file, or postgres://... URL of a PostgreSQL database"

// database is what the commands need of a store backend.
type database interface {
	store.Store
	// Ready reports whether the database answers and carries the schema this binary knows.
	Ready(ctx context.Context) error
}

// isPostgres reports whether the --db value names a PostgreSQL database rather than a file.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openDB opens the backend the --db value names: a postgres:// URL or an SQLite file path.
func openDB(ctx context.Context, db string) (database, error) {
	if isPostgres(db) {
		return postgres.Open(ctx, db, postgres.Options{})
	}
	return sqlite.Open(ctx, db, sqlite.Options{})
}

// dbForLog is the --db value with any password in a URL hidden.
func dbForLog(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparseable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
