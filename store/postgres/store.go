// Package postgres keeps crmsoap's data in PostgreSQL, shared by any number of stateless crmsoap
// nodes, with the behaviour and errors of store/sqlite (both pass store/storetest).
//
// It must not import the service, soap or wsdl packages: only the standard library, package store and
// pgx.
//
// Reads go straight to a pgxpool (one round trip each, prepared statements cached per connection).
// Writes go through a per-process group-commit writer (writer.go): the writes queued while the previous
// group committed share one transaction, each in its own savepoint. No process-local lock guards the
// data: versions are checked by conditional UPDATEs, upserts are INSERT ... ON CONFLICT, unique keys are
// the database's, and a transaction that PostgreSQL aborts as a serialization failure or a deadlock is
// run again, a bounded number of times. The feed's ordering across nodes is explained in feed.go.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmsoap/crmsoap/store"
)

// Options tune Open. The zero value is a sane production setting.
type Options struct {
	MaxConns int // size of the connection pool; default 16
	MaxBatch int // the most writes committed in one transaction (group commit); default 128
	// Writers is how many groups may be in flight at once in this process; default 1.
	Writers int
	// MaxRetries bounds how often a transaction aborted by a serialization failure or a deadlock is run
	// again before its error is returned; default 10.
	MaxRetries int
	// Now is the clock that decides whether an idempotency record has expired; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 128
	}
	if o.Writers <= 0 {
		o.Writers = 1
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// DB is an open crmsoap database on a PostgreSQL server. It is safe for concurrent use, and any
// number of DBs, in any number of processes, may use the same database at once.
type DB struct {
	pool *pgxpool.Pool

	maxBatch   int
	maxRetries int
	now        func() time.Time

	secretsMu sync.Mutex
	secrets   map[string][]byte // Secret's cache: a secret never changes once stored

	// mu guards closed and the send side of jobs: senders hold it for reading, Close for writing.
	mu     sync.RWMutex
	closed bool
	jobs   chan *job

	writers   sync.WaitGroup
	closeOnce sync.Once

	roundTrips *atomic.Int64 // writes on every connection of the pool
	migrated   int           // migrations this Open applied (the others were applied before, or by another node)
	stats      writerStats

	// Test hooks. noFeedLock skips the feed's advisory lock (the naive feed the ordering test shows
	// failing); beforeCommit runs after a group's last statement, before its COMMIT; beforeGroup runs
	// when the writer has taken a group, before it sends anything.
	noFeedLock   bool
	beforeCommit func()
	beforeGroup  func()
}

// writerStats count what the writer did (for tests and benchmarks).
type writerStats struct {
	groups  atomic.Int64 // committed transactions
	jobs    atomic.Int64 // jobs run inside them
	retries atomic.Int64 // transactions run again after a serialization failure or deadlock
	reruns  atomic.Int64 // groups run again with savepoints after a clean job failed on the server
	piped   atomic.Int64 // committed groups sent pipelined (pipeline.go)
}

// Open connects to the database at url (postgres://...), applies pending migrations under an advisory
// lock and starts the writer. It returns *store.SchemaTooNewError when the database was migrated by a
// newer crmsoap.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("store: open: not a valid PostgreSQL URL")
	}
	cfg.MaxConns = int32(opts.MaxConns)
	dial := (&net.Dialer{KeepAlive: 5 * time.Minute}).DialContext
	roundTrips := new(atomic.Int64)
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, n: roundTrips}, nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	applied, err := migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{
		pool:       pool,
		maxBatch:   opts.MaxBatch,
		maxRetries: opts.MaxRetries,
		now:        opts.Now,
		secrets:    map[string][]byte{},
		jobs:       make(chan *job, opts.MaxBatch),
		migrated:   applied,
		roundTrips: roundTrips,
	}
	for range opts.Writers {
		db.writers.Add(1)
		go db.writer()
	}
	return db, nil
}

// Close stops accepting writes, finishes the ones already queued and closes the pool.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closed = true
		close(db.jobs)
		db.mu.Unlock()
		db.writers.Wait()
		db.pool.Close()
	})
	return nil
}

// Ping checks that the server answers (one round trip on a pooled connection).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// SchemaVersion reports the migration version of the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	v, err := schemaVersion(ctx, db.pool)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// Ready reports whether the database answers and carries the schema this binary knows.
func (db *DB) Ready(ctx context.Context) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v != knownVersion {
		return fmt.Errorf("store: schema version %d, want %d", v, knownVersion)
	}
	return nil
}

// PoolStats are counters of a DB's connection pool since Open, for metrics.
type PoolStats struct {
	Acquires     int64         // connections taken from the pool
	AcquireWaits int64         // acquisitions that had to wait for a connection
	AcquireTime  time.Duration // total time spent acquiring
	RoundTrips   int64         // requests sent to the server (each write to a connection is one)
}

// Stats reports the pool's counters.
func (db *DB) Stats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{Acquires: s.AcquireCount(), AcquireWaits: s.EmptyAcquireCount(), AcquireTime: s.AcquireDuration(),
		RoundTrips: db.roundTrips.Load()}
}

// countingConn counts the writes on a connection: pgx writes once per round trip.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// nanos and fromNanos convert record times to and from their columns (Unix nanoseconds, UTC).
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// nullString stores "" as NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// retryable reports whether err is PostgreSQL aborting a transaction that would succeed if run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}

// uniqueFields names the record field behind each unique constraint.
var uniqueFields = map[string]store.DuplicateError{
	"customers_external_id_key": {Entity: store.EntityCustomer, Field: "externalId"},
	"clients_pkey":              {Entity: store.EntityClient, Field: "name"},
	"clients_cert_sha256_key":   {Entity: store.EntityClient, Field: "cert"},
	"products_sku_key":          {Entity: store.EntityProduct, Field: "sku"},
}

// referenced turns a foreign key violation (SQLSTATE 23503: a deletion of a customer or product that
// orders refer to) into store.ErrReferenced; any other error is wrapped with op.
func referenced(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeForeignKeyViolation {
		return store.ErrReferenced
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// duplicate turns a unique violation (SQLSTATE 23505) of a known constraint into *store.DuplicateError,
// judged by the code and the constraint's name, never by the message text. Any other error is wrapped
// with op.
func duplicate(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeUniqueViolation {
		if d, ok := uniqueFields[pe.ConstraintName]; ok {
			return &d
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
