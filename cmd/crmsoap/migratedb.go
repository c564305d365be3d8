package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

const migrateDBUsage = `Usage: crmsoap migrate-db --from crm.db --to postgres://USER:PASSWORD@HOST/DB

Copies an SQLite database into an empty PostgreSQL database in one transaction: every customer,
product (with its rating), order (with its lines and number) and review with its id and version, the
stock movements, the change feed with its sequence numbers and tombstones (feed cursors and page
tokens handed out before stay valid: the secrets that sign them are copied too), the clients, the
revoked certificates, and the unexpired retry outcomes (wsa:MessageID) and replay records (a retry
gets its stored answer, a replayed signed message is refused). It then reads both back and compares
them. Stop the servers writing to crm.db first.
`

// migrateDB copies an SQLite database into an empty PostgreSQL database and verifies the copy.
func (m *Main) migrateDB(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate-db", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, migrateDBUsage); fs.PrintDefaults() }
	var from, to string
	fs.StringVar(&from, "from", "", "SQLite database file to copy")
	fs.StringVar(&to, "to", "", "postgres:// URL of an empty PostgreSQL database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if from == "" || !isPostgres(to) || isPostgres(from) {
		fs.Usage()
		return errors.New("migrate-db: --from takes an SQLite file and --to a postgres:// URL")
	}
	src, err := sqlite.Open(ctx, from, sqlite.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	now := time.Now()
	snap, err := readSnapshot(ctx, src, from, now)
	if err != nil {
		return fmt.Errorf("migrate-db: read %s: %w", from, err)
	}
	dst, err := postgres.Open(ctx, to, postgres.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := dst.Import(ctx, snap); err != nil {
		if errors.Is(err, postgres.ErrNotEmpty) {
			return errors.New("migrate-db: the PostgreSQL database is not empty; give a new one")
		}
		return fmt.Errorf("migrate-db: %w", err)
	}
	if err := verifyCopy(ctx, src, dst); err != nil {
		return fmt.Errorf("migrate-db: the copy differs from the source: %w", err)
	}
	if err := verifyRetries(ctx, snap, dst, now); err != nil {
		return fmt.Errorf("migrate-db: the copy differs from the source: %w", err)
	}
	cm := snap.Commerce
	fmt.Fprintf(m.Stdout, "copied %d customers, %d products, %d stock movements, %d orders, %d reviews, "+
		"%d feed entries (horizon %d), %d clients, %d revocations, %d secrets, %d retry outcomes, %d replay records "+
		"from %s to %s; read back and compared\n", len(snap.Customers), len(cm.Products), len(cm.StockMovements),
		len(cm.Orders), len(cm.Reviews), len(snap.Feed), snap.Horizon, len(snap.Clients), len(snap.Revocations),
		len(snap.Secrets), len(snap.Retries.Idempotency), len(snap.Retries.Replays), from, dbForLog(to))
	return nil
}

// everything reads the store's records that the interface lists: customers, feed, clients, revocations.
type everything struct {
	customers   []store.Customer
	feed        []store.FeedEntry
	clients     []store.Client
	revocations []store.Revocation
}

func readAll(ctx context.Context, db store.Store) (everything, error) {
	var e everything
	var after store.CustomerKey
	for {
		page, err := db.SearchCustomers(ctx, store.CustomerFilter{}, after, 10000)
		if err != nil {
			return e, err
		}
		e.customers = append(e.customers, page...)
		if len(page) < 10000 {
			break
		}
		after = store.CustomerKey{ID: page[len(page)-1].ID}
	}
	var seq int64
	for {
		page, more, err := db.Feed(ctx, seq, 10000)
		if err != nil {
			return e, err
		}
		e.feed = append(e.feed, page...)
		if len(page) > 0 {
			seq = page[len(page)-1].Seq
		}
		if !more {
			break
		}
	}
	var err error
	if e.clients, err = db.ListClients(ctx); err != nil {
		return e, err
	}
	e.revocations, err = db.ListRevocations(ctx)
	return e, err
}

// readSnapshot reads src through the store, and what the store does not list (the feed horizon, the
// secrets, the highest id and seq ever used) from the file directly, read-only.
func readSnapshot(ctx context.Context, src store.Store, path string, now time.Time) (postgres.Snapshot, error) {
	e, err := readAll(ctx, src)
	if err != nil {
		return postgres.Snapshot{}, err
	}
	snap := postgres.Snapshot{Customers: e.customers, Feed: e.feed, Clients: e.clients, Revocations: e.revocations,
		Secrets: map[string][]byte{}}
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return snap, err
	}
	defer conn.Close()
	var horizon sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'feed.horizon'`).Scan(&horizon); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return snap, err
	}
	snap.Horizon = horizon.Int64
	for table, dst := range map[string]*int64{"customers": &snap.MaxID, "feed": &snap.MaxSeq} {
		var n sql.NullInt64
		err := conn.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, table).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return snap, err
		}
		*dst = n.Int64
	}
	rows, err := conn.QueryContext(ctx, `SELECT name, value FROM meta WHERE name LIKE 'secret.%'`)
	if err != nil {
		return snap, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var value []byte
		if err := rows.Scan(&name, &value); err != nil {
			return snap, err
		}
		snap.Secrets[strings.TrimPrefix(name, "secret.")] = value
	}
	if err := rows.Err(); err != nil {
		return snap, err
	}
	if err := readCommerceSnapshot(ctx, src, conn, &snap); err != nil {
		return snap, err
	}
	return snap, readRetriesSnapshot(ctx, conn, now, &snap)
}

// verifyCopy reads both databases back and compares every record.
func verifyCopy(ctx context.Context, src, dst store.Store) error {
	a, err := readAll(ctx, src)
	if err != nil {
		return err
	}
	b, err := readAll(ctx, dst)
	if err != nil {
		return err
	}
	if err := compareRecords([]recordSet{
		{"customers", b.customers, a.customers, len(b.customers), len(a.customers)},
		{"feed entries", b.feed, a.feed, len(b.feed), len(a.feed)},
		{"clients", b.clients, a.clients, len(b.clients), len(a.clients)},
		{"revocations", b.revocations, a.revocations, len(b.revocations), len(a.revocations)},
	}); err != nil {
		return err
	}
	return verifyCommerce(ctx, src, dst)
}
