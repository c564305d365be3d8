package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

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

// registerPoolMetrics adds the PostgreSQL connection pool's counters to reg (nothing for SQLite).
func registerPoolMetrics(reg prometheus.Registerer, db database) {
	p, ok := db.(interface{ Stats() postgres.PoolStats })
	if !ok {
		return
	}
	counter := func(name, help string, v func(postgres.PoolStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return v(p.Stats()) })
	}
	reg.MustRegister(
		counter("crmsoap_db_pool_acquires_total", "Connections taken from the PostgreSQL pool.",
			func(s postgres.PoolStats) float64 { return float64(s.Acquires) }),
		counter("crmsoap_db_pool_acquire_waits_total", "Pool acquisitions that had to wait for a free connection.",
			func(s postgres.PoolStats) float64 { return float64(s.AcquireWaits) }),
		counter("crmsoap_db_pool_acquire_seconds_total", "Time spent acquiring pool connections.",
			func(s postgres.PoolStats) float64 { return s.AcquireTime.Seconds() }),
		counter("crmsoap_db_round_trips_total", "Requests sent to the PostgreSQL server (one per round trip).",
			func(s postgres.PoolStats) float64 { return float64(s.RoundTrips) }),
	)
}
