// Package reportsink is the reporting-database sink of push subscriptions: it keeps every record's
// latest state in the tables of a target PostgreSQL schema (one table per entity, typed columns,
// order lines in their own table, deletions applied) and stores the subscription's cursor in the
// same target transaction as the rows. A batch delivered again after crmsoap lost the
// acknowledgement (a crash between the target's commit and crmsoap's own cursor write) finds its
// entries at or below the stored cursor and changes nothing: every change is applied exactly once.
//
// It imports the store (records), service (exact money amounts) and pgx; never soap or wsdl.
package reportsink

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmsoap/crmsoap/store"
)

// Sink writes the feed into one target schema for one subscription. It connects on first use, so a
// target that is down is a delivery failure (retried), not a broken subscription.
type Sink struct {
	// Schema is the target schema (created if missing); Subscription keys the cursor row.
	Schema, Subscription string

	pool   *pgxpool.Pool
	schema string // Schema quoted
	sql    statements

	mu    sync.Mutex
	ready bool // the tables exist
}

// New returns a sink writing into schema of the PostgreSQL database at targetURL for the
// subscription named subscription. It refuses a schema name that SchemaName does not match and a
// URL pgx cannot read; the error never repeats the URL (it may hold a password).
func New(targetURL, schema, subscription string) (*Sink, error) {
	if !SchemaName.MatchString(schema) {
		return nil, fmt.Errorf("reportsink: schema %q: use 1 to 63 lower-case letters, digits or '_', not starting with a digit", schema)
	}
	if subscription == "" {
		return nil, errors.New("reportsink: a subscription name is required")
	}
	cfg, err := pgxpool.ParseConfig(targetURL)
	if err != nil {
		// pgx's parse errors quote the connection string: keep them out of logs and messages.
		return nil, errors.New("reportsink: the target URL is not a PostgreSQL connection URL")
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("reportsink: %w", err)
	}
	return &Sink{Schema: schema, Subscription: subscription, pool: pool,
		schema: pgx.Identifier{schema}.Sanitize(), sql: newStatements(schema)}, nil
}

// Close closes the sink's connections.
func (s *Sink) Close() error {
	s.pool.Close()
	return nil
}

// Deliver applies entries in one target transaction: it locks the subscription's cursor row, skips
// the entries at or below the stored cursor, upserts (UPSERTED) or deletes (DELETED) the others'
// rows, sets the cursor to the last entry's Seq and commits. Two sinks of one subscription delivering
// at once are serialized by the row lock, and the second skips what the first applied.
func (s *Sink) Deliver(ctx context.Context, entries []store.FeedEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := s.ensureTables(ctx); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("reportsink: begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	cursor, err := s.lockCursor(ctx, tx)
	if err != nil {
		return err
	}
	last := entries[len(entries)-1].Seq
	if last <= cursor {
		return nil // delivered before: the target has it all
	}
	b := &pgx.Batch{}
	for _, e := range entries {
		if e.Seq <= cursor {
			continue
		}
		if err := s.queue(b, e); err != nil {
			return err
		}
	}
	b.Queue(s.sql.setCursor, s.Subscription, last)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("reportsink: apply changes %d..%d: %w", entries[0].Seq, last, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("reportsink: commit changes up to %d: %w", last, err)
	}
	return nil
}

// Cursor returns the last feed Seq applied for the subscription (0: none).
func (s *Sink) Cursor(ctx context.Context) (int64, error) {
	if err := s.ensureTables(ctx); err != nil {
		return 0, err
	}
	var seq int64
	err := s.pool.QueryRow(ctx, s.sql.readCursor, s.Subscription).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reportsink: read cursor: %w", err)
	}
	return seq, nil
}

// lockCursor creates the subscription's cursor row if missing and returns its seq, holding the
// row's lock until tx ends. Both statements go in one round trip.
func (s *Sink) lockCursor(ctx context.Context, tx pgx.Tx) (int64, error) {
	b := &pgx.Batch{}
	b.Queue(s.sql.ensureCursor, s.Subscription)
	var cursor int64
	b.Queue(s.sql.lockCursor, s.Subscription).
		QueryRow(func(r pgx.Row) error { return r.Scan(&cursor) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("reportsink: lock cursor of %s: %w", s.Subscription, err)
	}
	return cursor, nil
}

// ensureTables creates the schema and tables once per sink (again after a failure).
func (s *Sink) ensureTables(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	if err := s.createTables(ctx); err != nil {
		return err
	}
	s.ready = true
	return nil
}
