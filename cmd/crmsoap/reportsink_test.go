package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/cmd/internal/reportsink"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// TestSubscriptionsAddPostgres refuses bad postgres sink configuration with a clear message and
// nothing stored, and never prints the target's password.
func TestSubscriptionsAddPostgres(t *testing.T) {
	db := filepath.Join(t.TempDir(), "crm.db")
	const good = "postgres://report:s3cret@db.example:5432/bi?sslmode=disable"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", "mysql://report:s3cret@db.example/bi"}, `subscriptions add: --url "mysql://report:xxxxx@db.example/bi": a reporting database URL must be postgres:// or postgresql://`},
		{[]string{"--url", "db.example/bi"}, `subscriptions add: --url "db.example/bi" is not an absolute URL`},
		{[]string{"--url", good, "--schema", `x"; DROP SCHEMA public; --`}, `subscriptions add: --schema "x\"; DROP SCHEMA public; --": use 1 to 63 lower-case letters, digits or '_', not starting with a digit`},
		{[]string{"--url", good, "--schema", "Reporting"}, `subscriptions add: --schema "Reporting": use 1 to 63`},
		{[]string{"--url", good, "--schema", "1st"}, `subscriptions add: --schema "1st": use 1 to 63`},
		{[]string{"--url", good, "--schema", strings.Repeat("s", 64)}, `subscriptions add: --schema "` + strings.Repeat("s", 64) + `": use 1 to 63`},
		{[]string{"--url", "postgres://report:s3cret@db.example:port/bi"}, `is not an absolute URL`},
		{[]string{"--url", "postgres://report:s3cret@db.example/bi?sslmode=bogus"}, `subscriptions add: --url "postgres://report:xxxxx@db.example/bi?sslmode=bogus": reportsink: the target URL is not a PostgreSQL connection URL`},
		{[]string{"--url", good, "--entity", "planet"}, `unknown entity "planet"`},
	} {
		_, err := runMain(t, append([]string{"subscriptions", "add", "--db", db, "--name", "bi", "--sink", "postgres"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("add %v: %v, want an error saying %q without the password", c.args, err, c.want)
		}
	}
	if out, _ := runMain(t, "subscriptions", "list", "--db", db); strings.Contains(out, "bi") {
		t.Fatalf("a refused subscription was stored:\n%s", out)
	}
	out, err := runMain(t, "subscriptions", "add", "--db", db, "--name", "bi", "--sink", "postgres", "--url", good)
	if err != nil || strings.Contains(out, "s3cret") || !strings.Contains(out, "postgres://report:xxxxx@db.example:5432/bi") {
		t.Fatalf("add: %v: %s", err, out)
	}
	if _, err := runMain(t, "subscriptions", "add", "--db", db, "--name", "bi2", "--sink", "postgres", "--schema", "bi_2",
		"--url", "postgresql://db.example/bi?user=r&password=s3cret"); err != nil {
		t.Fatal(err)
	}
	out, err = runMain(t, "subscriptions", "list", "--db", db)
	if err != nil || strings.Contains(out, "s3cret") || !strings.Contains(out, "postgres postgres://report:xxxxx@db.example:5432/bi") ||
		!strings.Contains(out, "password=xxxxx") {
		t.Fatalf("list: %v:\n%s", err, out)
	}
	s, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, want := range map[string]string{"bi": `{"url":"` + good + `","schema":"reporting"}`,
		"bi2": `{"url":"postgresql://db.example/bi?user=r\u0026password=s3cret","schema":"bi_2"}`} {
		sub, err := s.GetSubscription(context.Background(), name)
		if err != nil || sub.SinkKind != "postgres" || string(sub.SinkConfig) != want {
			t.Fatalf("stored %s: %s %s, %v; want %s", name, sub.SinkKind, sub.SinkConfig, err, want)
		}
	}
}

// targetCursor is the reporting database's cursor of subscription sub (0: none yet).
func targetCursor(t *testing.T, targetURL, schema, sub string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), targetURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var seq int64
	err = conn.QueryRow(context.Background(), `SELECT seq FROM `+pgx.Identifier{schema, "crmsoap_cursor"}.Sanitize()+
		` WHERE subscription = $1`, sub).Scan(&seq)
	if err != nil && !strings.Contains(err.Error(), "does not exist") && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return seq
}

// waitDelivered waits until subscription sub of the source has no lag left.
func waitDelivered(t *testing.T, db *sqlite.DB, srv *server, sub string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := db.GetSubscription(context.Background(), sub)
		if err != nil {
			t.Fatal(err)
		}
		n, _, err := db.FeedLag(context.Background(), s.Entity, s.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d changes still to deliver (last error %q)\n%s", n, s.LastError, srv.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newReportSource is a fresh SQLite source and its workload.
func newReportSource(t *testing.T) (string, *reportWorkload) {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "crm.db")
	db, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return dbPath, &reportWorkload{db: db}
}

// startReporting creates the reporting tables in schema of target and makes the target count every
// applied change (countApplies), adds the postgres subscription "bi" (sinkURL, reaching target
// directly or not) to the source, starts a server and waits for the first delivered batch.
func startReporting(t *testing.T, dbPath, sinkURL, target, schema string) *server {
	t.Helper()
	setup, err := reportsink.New(target, schema, "setup")
	if err != nil {
		t.Fatal(err)
	}
	_, err = setup.Cursor(context.Background()) // creates the tables
	setup.Close()
	if err != nil {
		t.Fatal(err)
	}
	countApplies(t, target, schema)
	if out, err := run(t, "subscriptions", "add", "--db", dbPath, "--name", "bi", "--sink", "postgres", "--url", sinkURL, "--schema", schema); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	srv := startServer(t, dbPath, "--subscriptions-reload", "100ms")
	deadline := time.Now().Add(60 * time.Second)
	for targetCursor(t, target, schema, "bi") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing delivered\n%s", srv.logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	return srv
}

// TestReportSinkSurvivesSIGKILL kills crmsoap with SIGKILL while it fills the reporting database,
// restarts it, writes more (updates and deletions of every entity) and checks that the target
// tables then hold exactly the source's records.
func TestReportSinkSurvivesSIGKILL(t *testing.T) {
	dbPath, w := newReportSource(t)
	db := w.db
	w.create(t, 1600)
	w.change(t)
	target := pgtest.Database(t)
	srv := startReporting(t, dbPath, target, target, "bi")
	srv.kill(t)
	feed, _, err := db.Feed(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	killedAt := targetCursor(t, target, "bi", "bi")
	if last := feed[len(feed)-1].Seq; killedAt >= last {
		t.Fatalf("the kill came after the whole feed (%d) was delivered", last)
	}
	sub, _ := db.GetSubscription(context.Background(), "bi")
	t.Logf("killed with the target at %d, crmsoap's cursor at %d, feed end %d", killedAt, sub.Cursor, feed[len(feed)-1].Seq)

	srv = startServer(t, dbPath, "--subscriptions-reload", "100ms")
	w.create(t, 200)
	w.change(t)
	waitDelivered(t, db, srv, "bi", 90*time.Second)
	compareReport(t, db, target, "bi")
	appliedOnce(t, target)
}

// commitCutter forwards TCP connections to a PostgreSQL server and, while armed, breaks the
// connections of transactions at their commit, in turn: after the COMMIT reached the server but
// before its reply reaches the client (the target committed, the sink sees a failure: a lost
// acknowledgement), and before the COMMIT is sent (rows written, transaction aborted).
type commitCutter struct {
	ln     net.Listener
	target string

	mu            sync.Mutex
	armed         bool
	commits       int
	lost, aborted int
}

func startCommitCutter(t *testing.T, target string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitCutter{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

// cut decides what to do with a client chunk: "" forward, "lose" forward and drop the reply, "abort"
// drop the connection without forwarding.
func (p *commitCutter) cut(chunk []byte) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.armed || !bytes.Contains(chunk, []byte("commit\x00")) {
		return ""
	}
	p.commits++
	switch p.commits % 3 {
	case 1:
		p.lost++
		return "lose"
	case 2:
		p.aborted++
		return "abort"
	}
	return ""
}

func (p *commitCutter) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	var muted atomic.Bool
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 && !muted.Load() {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				c.Close()
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			switch p.cut(buf[:n]) {
			case "abort":
				return
			case "lose":
				muted.Store(true)
				up.Write(buf[:n])
				time.Sleep(100 * time.Millisecond) // the server commits; its reply goes nowhere
				return
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *commitCutter) arm(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = on
}

// countApplies makes the target record every row write of the entity tables in public.applied
// (table, id, feed_seq), in the writing transaction: a change applied twice shows twice.
func countApplies(t *testing.T, targetURL, schema string) {
	t.Helper()
	conn := pgConn(t, targetURL)
	sql := `CREATE TABLE public.applied (tbl TEXT, id BIGINT, feed_seq BIGINT);
		CREATE FUNCTION public.count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO public.applied VALUES (TG_TABLE_NAME, NEW.id, NEW.feed_seq); RETURN NULL; END $$;`
	for _, table := range []string{"customers", "products", "orders", "reviews"} {
		sql += fmt.Sprintf(`CREATE TRIGGER count_apply AFTER INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION public.count_apply();`,
			pgx.Identifier{schema, table}.Sanitize())
	}
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// appliedOnce checks that countApplies saw no change applied twice.
func appliedOnce(t *testing.T, targetURL string) {
	t.Helper()
	var twice, all int
	err := pgConn(t, targetURL).QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE n > 1), count(*)
		FROM (SELECT count(*) n FROM public.applied GROUP BY tbl, id, feed_seq) d`).Scan(&twice, &all)
	if err != nil || twice != 0 || all == 0 {
		t.Fatalf("%d of %d changes applied more than once (%v)", twice, all, err)
	}
}

func pgConn(t *testing.T, targetURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), targetURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestReportSinkFlakyTarget delivers through a proxy that breaks the target's connections at
// commit (committed with the acknowledgement lost, and aborted), then checks that the target tables
// hold exactly the source's records.
func TestReportSinkFlakyTarget(t *testing.T) {
	dbPath, w := newReportSource(t)
	db := w.db
	w.create(t, 1200)
	target := pgtest.Database(t)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCommitCutter(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	secret := "no-password-set"
	if _, has := u.User.Password(); !has && u.User != nil {
		// The throwaway server trusts every connection: a password is ignored there and must
		// appear nowhere in the logs.
		secret = "pw-secret-47"
		u.User = url.UserPassword(u.User.Username(), secret)
	}
	srv := startReporting(t, dbPath, u.String(), target, "reporting")
	// A batch went through; now commits are cut while more changes arrive.
	proxy.arm(true)
	w.change(t)
	for deadline := time.Now().Add(60 * time.Second); ; {
		proxy.mu.Lock()
		n := min(proxy.lost, proxy.aborted)
		proxy.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			break // reported below
		}
		time.Sleep(10 * time.Millisecond)
	}
	proxy.arm(false)
	proxy.mu.Lock()
	lost, aborted := proxy.lost, proxy.aborted
	proxy.mu.Unlock()
	if lost < 2 || aborted < 2 || !strings.Contains(srv.logs.String(), "push: delivery failed; retrying") {
		t.Fatalf("%d commits cut after and %d before reaching the target, want 2 each and failed deliveries logged\n%s",
			lost, aborted, srv.logs.String())
	}
	t.Logf("%d transactions committed with the acknowledgement lost, %d aborted at commit", lost, aborted)
	waitDelivered(t, db, srv, "bi", 120*time.Second)
	compareReport(t, db, target, "reporting")
	appliedOnce(t, target)
	sub, err := db.GetSubscription(context.Background(), "bi")
	if err != nil || sub.State != store.SubActive {
		t.Fatalf("subscription %+v, %v", sub, err)
	}
	if strings.Contains(srv.logs.String(), secret) {
		t.Fatal("the logs show the target's password")
	}
}
