// Package sqlite persists crmsoap's data in one SQLite file and says what happened to that data
// (the errors of package store), nothing about SOAP.
//
// It must not import the service, soap or wsdl packages: only the standard library, package store and
// go-sqlite3.
//
// All writes go through one writer goroutine that owns the only write connection and commits queued
// writes in groups (one fsync per group); reads use a separate pool of query-only connections, which
// WAL lets run beside the writer and beside other processes reading the same file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options tune Open. The zero value is a sane production setting.
type Options struct {
	BusyTimeout time.Duration // how long a connection waits for a lock held by another process; default 5s
	MaxBatch    int           // the most writes committed in one transaction (group commit); default 128
	ReadConns   int           // size of the read-only connection pool; default 4
	// Now is the clock that decides whether an idempotency record has expired; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 128
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// DB is an open crmsoap database. It is safe for concurrent use.
type DB struct {
	path string

	read        *sql.DB   // query-only pool
	getCustomer *sql.Stmt // getCustomerSQL on read: database/sql prepares it once per connection

	wdb   *sql.DB   // holds exactly one connection: wconn
	wconn *sql.Conn // used only by the writer goroutine (and by Open/Close around it)

	maxBatch int
	now      func() time.Time

	secretsMu sync.Mutex
	secrets   map[string][]byte // Secret's cache: a secret never changes once stored

	// mu guards closed and the send side of jobs: senders hold it for reading, Close for writing,
	// so no job can be sent after jobs is closed.
	mu     sync.RWMutex
	closed bool
	jobs   chan *job

	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	stats writerStats
}

// Open opens (creating if missing) the database at path, applies pending migrations and starts the
// writer. It returns *store.SchemaTooNewError when the file was written by a newer crmsoap.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()

	wdb, err := sql.Open(driverName, dsn(path, opts, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	wconn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := migrate(ctx, wconn); err != nil {
		wconn.Close()
		wdb.Close()
		return nil, err
	}
	// Savepoints, and statements that may fail halfway, keep the prior content of every page they change
	// in a sub-journal, a temporary file once it outgrows 64 KiB: a group of writes then makes a write
	// system call per page and per statement. In memory it is a copy, freed as each write's savepoint is
	// released, so it is bounded by the pages one write call changes. Set after the migrations, whose
	// statements may each change the whole file.
	if _, err := wconn.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		wconn.Close()
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	read, err := sql.Open(driverName, dsn(path, opts, true))
	if err != nil {
		wconn.Close()
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(opts.ReadConns)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)

	db := &DB{
		path:       path,
		read:       read,
		wdb:        wdb,
		wconn:      wconn,
		maxBatch:   opts.MaxBatch,
		now:        opts.Now,
		secrets:    map[string][]byte{},
		jobs:       make(chan *job, opts.MaxBatch),
		writerDone: make(chan struct{}),
	}
	if err := db.Ping(ctx); err != nil {
		db.read.Close()
		db.wconn.Close()
		db.wdb.Close()
		return nil, err
	}
	if db.getCustomer, err = read.PrepareContext(ctx, getCustomerSQL); err != nil {
		db.read.Close()
		db.wconn.Close()
		db.wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	go db.writer()
	return db, nil
}

// dsn builds the go-sqlite3 data source name. Every setting is a DSN parameter so that it applies to
// each connection the pool opens, not only to the one an Exec happens to reach.
func dsn(path string, opts Options, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	// After _journal_mode: go-sqlite3 lowers synchronous to NORMAL when it sees WAL, unless asked.
	// FULL makes every commit durable on return, not only consistent after a power cut.
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	// Reuse prepared statements per connection: the store runs a small fixed set of queries.
	q.Set("_stmt_cache_size", "32")
	if readOnly {
		q.Set("_query_only", "1")
	}
	return fileURI(path, q)
}

// fileURI makes a file: URI so that '?', '#' and '%' in path are data, not syntax.
func fileURI(path string, q url.Values) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path) + "?" + q.Encode()
}

// Close stops accepting writes, finishes the ones already queued, checkpoints the WAL into the main
// file and closes every connection. Calling it again returns the first result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closed = true
		close(db.jobs)
		db.mu.Unlock()
		<-db.writerDone

		errs := []error{db.getCustomer.Close(), db.read.Close(), db.checkpoint(context.Background())}
		errs = append(errs, db.wconn.Close(), db.wdb.Close())
		if err := errors.Join(errs...); err != nil {
			db.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return db.closeErr
}

// checkpoint copies the WAL into the main file and truncates it, so that the main file alone is
// complete. If another process is using the database it does what it can without waiting: that
// process's own last close checkpoints the rest.
func (db *DB) checkpoint(ctx context.Context) error {
	if _, err := db.wconn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	var busy, walPages, moved int
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &walPages, &moved); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Ping checks that the database file can be read.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// SchemaVersion reports the migration version of the open database (PRAGMA user_version).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// timeLayout is RFC 3339 with a fixed nine-digit fraction: it parses with time.RFC3339Nano and, being
// fixed width, sorts as text in time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

const dateLayout = "2006-01-02"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// nullString stores "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Ready reports whether the database answers and carries the schema this
// binary knows (every migration applied).
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
