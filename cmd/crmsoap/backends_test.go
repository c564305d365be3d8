package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/wsdl"
)

// forEachBackend runs test once per store backend, as a subtest, with the --db value of a fresh
// database: an SQLite file, and a PostgreSQL database (pgtest: a throwaway server, or
// CRMSOAP_TEST_POSTGRES).
func forEachBackend(t *testing.T, test func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "crm.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.Database(t)) })
}

// pgRow scans the one row query returns on the PostgreSQL database db into dest.
func pgRow(tb testing.TB, db, query string, dest ...any) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, query).Scan(dest...); err != nil {
		tb.Fatal(err)
	}
}

// pgState is dbState for a PostgreSQL database.
func pgState(tb testing.TB, db string) string {
	tb.Helper()
	var customers, changes int
	var names *string
	pgRow(tb, db, `SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM changes),
		(SELECT string_agg(name || ':' || version, ',' ORDER BY id) FROM customers)`, &customers, &changes, &names)
	return fmt.Sprintf("%d customers (%s), %d changes", customers, deref(names), changes)
}

// deref is *s, or "" for nil (a NULL).
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// metricValue is the value of the unlabelled sample name in a Prometheus text exposition; -1 when absent.
func metricValue(exposition, name string) float64 {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// backup copies SQLite files only: on a PostgreSQL URL it says to use pg_dump, and creates nothing.
func TestBackup_PostgresURLPointsToPgDump(t *testing.T) {
	out := filepath.Join(t.TempDir(), "copy.db")
	output, err := run(t, "backup", "--db", pgtest.Database(t), out)
	if err == nil || !strings.Contains(output, "pg_dump") {
		t.Fatalf("backup of a PostgreSQL URL: %v\n%s", err, output)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backup of a PostgreSQL URL left %s: %v", out, err)
	}
}

// A server on PostgreSQL answers /readyz, registers clients with `clients add --db URL` like on SQLite,
// and never logs the password of its --db URL.
func TestServe_PostgresURL(t *testing.T) {
	u, err := url.Parse(pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, set := u.User.Password(); !set && os.Getenv(pgtest.EnvURL) == "" {
		u.User = url.UserPassword(u.User.Username(), "pw-never-logged") // the throwaway server trusts any
	}
	db := u.String()
	srv := startDevServer(t, db)
	resp, err := http.Get(srv.Admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d, want 200", resp.StatusCode)
	}
	if _, err := srv.client().AddCustomerContext(waitCtx(t), &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "counted"}}); err != nil {
		t.Fatal(err)
	}
	metrics := httpGet(t, srv.Admin+"/metrics")
	for _, name := range []string{"crmsoap_db_pool_acquires_total", "crmsoap_db_round_trips_total"} {
		if v := metricValue(metrics, name); v < 1 {
			t.Errorf("%s = %v after a request, want > 0", name, v)
		}
	}
	if pw, ok := u.User.Password(); ok && strings.Contains(srv.logs.String(), pw) {
		t.Errorf("the server logged the database password:\n%s", srv.logs.String())
	}
	if !strings.Contains(srv.logs.String(), `"db":"postgres://`) {
		t.Errorf("the serving log line does not name the database:\n%s", srv.logs.String())
	}
	dir := t.TempDir()
	erp := newIdentity(t, dir, "erp", time.Hour)
	if out, err := run(t, "clients", "add", "--db", db, "--name", "erp", "--cert", erp.certPEM); err != nil {
		t.Fatalf("clients add: %v\n%s", err, out)
	}
	out, err := run(t, "clients", "list", "--db", db)
	if err != nil || !strings.Contains(out, "erp") {
		t.Fatalf("clients list: %v\n%s", err, out)
	}
}

// pgProductState is productState for a PostgreSQL database.
func pgProductState(tb testing.TB, db string) string {
	tb.Helper()
	var products, moves *string
	var changes int
	pgRow(tb, db, `SELECT (SELECT string_agg(sku || ':' || version || ':' || price_minor || currency || ':' || stock || ':' || rating_sum || '/' || rating_count, ',' ORDER BY id) FROM products),
		(SELECT string_agg(delta || reason, ',' ORDER BY seq) FROM stock_movements), (SELECT count(*) FROM changes)`,
		&products, &moves, &changes)
	return fmt.Sprintf("products %s, moves %s, %d changes", deref(products), deref(moves), changes)
}
