package postgres

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/storetest"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	closeBig()
	os.Exit(code)
}

// openURL opens url and closes the store when the test ends.
func openURL(tb testing.TB, url string, opts Options) *DB {
	tb.Helper()
	db, err := Open(context.Background(), url, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// openTest opens a fresh database.
func openTest(tb testing.TB, opts Options) (*DB, string) {
	tb.Helper()
	url := pgtest.Database(tb)
	return openURL(tb, url, opts), url
}

// rawConn connects to url directly, bypassing the store.
func rawConn(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTest(t, Options{})
		return db
	})
}

func TestCommerce(t *testing.T) {
	storetest.RunCommerce(t, func(t *testing.T) store.Store {
		db, _ := openTest(t, Options{})
		return db
	})
}

func TestSubscriptions(t *testing.T) {
	storetest.RunSubscriptions(t, func(t *testing.T) storetest.SubscriptionDB {
		db, _ := openTest(t, Options{})
		return db
	})
}

// Nodes starting at once on a fresh database migrate it once: each migration is applied by exactly
// one of them, and every one of them opens.
func TestMigrateConcurrentOpens(t *testing.T) {
	url := pgtest.Database(t)
	const nodes = 8
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(context.Background(), url, Options{MaxConns: 2})
		}()
	}
	wg.Wait()
	applied := 0
	for i := range nodes {
		if errs[i] != nil {
			t.Errorf("node %d: %v", i, errs[i])
			continue
		}
		applied += dbs[i].migrated
		dbs[i].Close()
	}
	if applied != knownVersion {
		t.Errorf("%d migrations applied by %d nodes, want %d (each once)", applied, nodes, knownVersion)
	}
	raw := rawConn(t, url)
	var rows, maxV int
	if err := raw.QueryRow(context.Background(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&rows, &maxV); err != nil {
		t.Fatal(err)
	}
	if rows != knownVersion || maxV != knownVersion {
		t.Errorf("schema_migrations has %d rows up to %d, want %d", rows, maxV, knownVersion)
	}
}

func TestSchemaTooNewRefused(t *testing.T) {
	db, url := openTest(t, Options{})
	db.Close()
	raw := rawConn(t, url)
	if _, err := raw.Exec(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`,
		knownVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), url, Options{})
	var tooNew *store.SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Have != knownVersion+1 || tooNew.Known != knownVersion {
		t.Fatalf("Open of a newer schema: %v, want *store.SchemaTooNewError{%d, %d}", err, knownVersion+1, knownVersion)
	}
}

// Migration 3 folds the names of customers stored before it, in Go, as new writes do.
func TestMigrationFoldsExistingNames(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	pool, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close(ctx)
	for _, m := range migrations[:2] {
		if err := applyMigrationForTest(ctx, pool, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO customers (version, created_at, updated_at, name) VALUES (1, 0, 0, 'ΣΊΣΥΦΟΣ Ärger')`); err != nil {
		t.Fatal(err)
	}
	db := openURL(t, url, Options{})
	got, err := db.SearchCustomers(ctx, store.CustomerFilter{NameContains: "σίσυφος ä"}, store.CustomerKey{}, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("search after migration: %v %+v, want the customer stored before it", err, got)
	}
	feed, _, err := db.Feed(ctx, 0, 10)
	if err != nil || len(feed) != 1 || feed[0].ID != got[0].ID {
		t.Fatalf("feed after migration: %v %+v, want the existing customer", err, feed)
	}
	// The backfilled feed leaves the sequence past its rows.
	c, err := db.CreateCustomer(ctx, store.Customer{Name: "new"})
	if err != nil {
		t.Fatal(err)
	}
	feed, _, err = db.Feed(ctx, feed[0].Seq, 10)
	if err != nil || len(feed) != 1 || feed[0].ID != c.ID {
		t.Fatalf("feed after the backfill: %v %+v", err, feed)
	}
}

func applyMigrationForTest(ctx context.Context, conn *pgx.Conn, m migration) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer NOT NULL PRIMARY KEY,
		name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	return applyMigration(ctx, conn, m)
}

func TestClosedRefusesWrites(t *testing.T) {
	db, _ := openTest(t, Options{})
	db.Close()
	if _, err := db.CreateCustomer(context.Background(), storetest.FullCustomer()); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("write after Close: %v, want ErrClosed", err)
	}
}

// A database of schema version 3 (the release before products, orders, reviews and subscriptions came
// to PostgreSQL) opens, migrates to the latest version keeping its customer, and serves the new tables.
func TestOpen_DatabaseOfSchemaVersion3(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, m := range migrations[:3] {
		if err := applyMigrationForTest(ctx, conn, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO customers (version, created_at, updated_at, name, name_fold, external_id)
		VALUES (1, 0, 0, 'Old', 'old', 'OLD-1')`); err != nil {
		t.Fatal(err)
	}
	db := openURL(t, url, Options{})
	var version int
	if err := conn.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(migrations))
	}
	got, err := db.SearchCustomers(ctx, store.CustomerFilter{ExternalID: "OLD-1"}, store.CustomerKey{}, 10)
	if err != nil || len(got) != 1 || got[0].Name != "Old" {
		t.Fatalf("the customer stored before the migration: %v %+v", err, got)
	}
	if err := db.AddSubscription(ctx, store.Subscription{Name: "s", SinkKind: "soap", SinkConfig: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Fatalf("subscription after the migration: %v", err)
	}
	if n, err := db.CountLowStockProducts(ctx); err != nil || n != 0 {
		t.Fatalf("products after the migration: %d, %v", n, err)
	}
}
