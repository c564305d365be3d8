package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/mattn/go-sqlite3"
)

// openTest opens a fresh database file in a temporary directory and closes it when the test ends.
func openTest(tb testing.TB, opts Options) (*DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "crm.db")
	db, err := Open(context.Background(), path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

// rawOpen opens path directly, bypassing the store, for checks and for tampering.
func rawOpen(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite3", fileURI(path, map[string][]string{"_busy_timeout": {"5000"}}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

func countRows(tb testing.TB, q interface {
	QueryRow(string, ...any) *sql.Row
}, table string) int {
	tb.Helper()
	var n int
	if err := q.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

func integrityCheck(tb testing.TB, q interface {
	QueryRow(string, ...any) *sql.Row
}) {
	tb.Helper()
	var res string
	if err := q.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		tb.Fatalf("integrity_check: %v", err)
	}
	if res != "ok" {
		tb.Fatalf("integrity_check = %q, want ok", res)
	}
}

// holdWriter occupies the writer with a job that waits until release is called, so that the jobs
// submitted meanwhile stay queued. It returns once the writer is inside that job.
func holdWriter(tb testing.TB, db *DB) (release func()) {
	tb.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.write(context.Background(), func(context.Context, *sql.Tx) error {
			close(entered)
			<-gate
			return nil
		})
	}()
	<-entered
	return func() {
		close(gate)
		if err := <-done; err != nil {
			tb.Errorf("holding job: %v", err)
		}
	}
}

// waitQueued waits until n jobs wait in the writer's queue.
func waitQueued(tb testing.TB, db *DB, n int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(db.jobs) < n {
		if time.Now().After(deadline) {
			tb.Fatalf("queued jobs = %d, want %d", len(db.jobs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOpen_Migrates(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})

	v, err := db.SchemaVersion(ctx)
	if err != nil || v != knownVersion || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, knownVersion)
	}
	for _, table := range []string{"customers", "changes", "clients"} {
		if n := countRows(t, db.read, table); n != 0 {
			t.Errorf("%s has %d rows in a new database", table, n)
		}
	}
	c, err := db.CreateCustomer(ctx, store.Customer{Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	t.Run("ReopenIsIdempotent", func(t *testing.T) {
		for range 2 {
			db2, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if v, _ := db2.SchemaVersion(ctx); v != knownVersion {
				t.Errorf("SchemaVersion after reopen = %d, want %d", v, knownVersion)
			}
			got, err := db2.GetCustomer(ctx, c.ID)
			if err != nil || got.Name != "Ada" {
				t.Errorf("GetCustomer after reopen = %+v, %v", got, err)
			}
			if err := db2.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("CloseCheckpointsWAL", func(t *testing.T) {
		fi, err := os.Stat(path + "-wal")
		if err == nil && fi.Size() != 0 {
			t.Errorf("after Close the WAL holds %d bytes, want it empty or gone", fi.Size())
		}
	})
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw := rawOpen(t, path)
	if _, err := raw.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db2, err := Open(ctx, path, Options{})
	if err == nil {
		db2.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	var tooNew *store.SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Have != 999 || tooNew.Known != knownVersion {
		t.Fatalf("Open error = %#v, want *SchemaTooNewError{Have: 999, Known: %d}", err, knownVersion)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "999") {
		t.Errorf("error message %q: want one line naming the version", msg)
	}
}

func TestOpen_PathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm?mode=ro#x%41.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateCustomer(context.Background(), store.Customer{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the literal path: %v", err)
	}
}

// pragmas is what every connection of the store must run with.
type pragmas struct {
	journalMode                string
	synchronous, foreignKeys   int
	busyTimeout, queryOnlyFlag int
	mmapSize                   int64
}

func readPragmas(tb testing.TB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) pragmas {
	tb.Helper()
	ctx := context.Background()
	var p pragmas
	for _, x := range []struct {
		name string
		dst  any
	}{
		{"journal_mode", &p.journalMode}, {"synchronous", &p.synchronous}, {"foreign_keys", &p.foreignKeys},
		{"busy_timeout", &p.busyTimeout}, {"query_only", &p.queryOnlyFlag}, {"mmap_size", &p.mmapSize},
	} {
		if err := q.QueryRowContext(ctx, "PRAGMA "+x.name).Scan(x.dst); err != nil {
			tb.Fatalf("PRAGMA %s: %v", x.name, err)
		}
	}
	return p
}

func TestOpen_PragmasOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	const readConns = 3
	db, _ := openTest(t, Options{ReadConns: readConns, BusyTimeout: 1500 * time.Millisecond})

	// Hold all read connections at once so that each is a distinct one.
	for i := range readConns {
		conn, err := db.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		got := readPragmas(t, conn)
		want := pragmas{journalMode: "wal", synchronous: 2, foreignKeys: 1, busyTimeout: 1500, queryOnlyFlag: 1,
			mmapSize: mmapSize}
		if got != want {
			t.Errorf("read connection %d: got %+v, want %+v", i, got, want)
		}
	}

	var got pragmas
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		got = readPragmas(t, tx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := pragmas{journalMode: "wal", synchronous: 2, foreignKeys: 1, busyTimeout: 1500, queryOnlyFlag: 0, mmapSize: mmapSize}
	if got != want {
		t.Errorf("writer connection: got %+v, want %+v", got, want)
	}
}

// TestWriter_BeginsImmediate checks _txlock=immediate: while the writer is in a transaction that has
// not written anything yet, another connection still cannot take the write lock.
func TestWriter_BeginsImmediate(t *testing.T) {
	db, path := openTest(t, Options{})
	release := holdWriter(t, db)
	defer release()

	other, err := sql.Open("sqlite3", fileURI(path, map[string][]string{"_busy_timeout": {"0"}, "_txlock": {"immediate"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err == nil {
		tx.Rollback()
		t.Fatal("another connection began a write transaction while the writer held one")
	}
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrBusy {
		t.Fatalf("Begin error = %v, want SQLITE_BUSY", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr bool
		want    []int
	}{
		{"Ordered", fstest.MapFS{"migrations/0002_b.sql": file("b"), "migrations/0001_a.sql": file("a")}, false, []int{1, 2}},
		{"Gap", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/0003_c.sql": file("c")}, true, nil},
		{"Repeat", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/0001_b.sql": file("b")}, true, nil},
		{"BadName", fstest.MapFS{"migrations/init.sql": file("a")}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.fsys)
			if (err != nil) != tt.wantErr {
				t.Fatalf("loadMigrations error = %v, wantErr %v", err, tt.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[len(got)-1] != tt.want[len(tt.want)-1]) {
				t.Errorf("versions = %v, want %v", got, tt.want)
			}
		})
	}
	if knownVersion != len(migrations) || migrations[0].version != 1 {
		t.Errorf("embedded migrations: known %d, first %d", knownVersion, migrations[0].version)
	}
}

func TestDB_Ready(t *testing.T) {
	db, path := openTest(t, Options{})
	if err := db.Ready(context.Background()); err != nil {
		t.Fatalf("Ready on a migrated database: %v", err)
	}
	raw := rawOpen(t, path)
	if _, err := raw.Exec("PRAGMA user_version = 0"); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(context.Background()); err == nil {
		t.Fatalf("Ready with user_version 0: nil error, want a schema mismatch")
	}
}
