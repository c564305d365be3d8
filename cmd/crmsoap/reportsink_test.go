package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// TestReportSinkSurvivesSIGKILL kills crmsoap with SIGKILL while it fills the reporting database,
// restarts it, writes more (updates and deletions of every entity) and checks that the target
// tables then hold exactly the source's records.
func TestReportSinkSurvivesSIGKILL(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "crm.db")
	db, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &reportWorkload{db: db}
	w.create(t, 1600)
	w.change(t)
	target := pgtest.Database(t)
	if out, err := run(t, "subscriptions", "add", "--db", dbPath, "--name", "bi", "--sink", "postgres", "--url", target, "--schema", "bi"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	srv := startServer(t, dbPath, "--subscriptions-reload", "100ms")
	deadline := time.Now().Add(60 * time.Second)
	for targetCursor(t, target, "bi", "bi") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing delivered\n%s", srv.logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
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
}

// dropProxy forwards TCP connections to a target and, while dropping is on, cuts every open
// connection every few milliseconds: mid-transaction, mid-commit, between commit and reply.
type dropProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	cuts   int
}

func startDropProxy(t *testing.T, target string) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
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

func (p *dropProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// cut closes every open connection.
func (p *dropProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
		p.cuts++
	}
}

// TestReportSinkFlakyTarget delivers through a proxy that keeps cutting the target's connections,
// then checks that the target tables hold exactly the source's records.
func TestReportSinkFlakyTarget(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "crm.db")
	db, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &reportWorkload{db: db}
	w.create(t, 1200)
	target := pgtest.Database(t)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startDropProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	if out, err := run(t, "subscriptions", "add", "--db", dbPath, "--name", "bi", "--sink", "postgres", "--url", u.String()); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	srv := startServer(t, dbPath, "--subscriptions-reload", "100ms")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(5+i%40) * time.Millisecond):
				proxy.cut()
			}
		}
	}()
	w.change(t)
	time.Sleep(3 * time.Second)
	close(stop)
	<-done
	proxy.mu.Lock()
	cuts := proxy.cuts
	proxy.mu.Unlock()
	if cuts == 0 || !strings.Contains(srv.logs.String(), "push: delivery failed; retrying") {
		t.Fatalf("%d connections cut, and no failed delivery logged: the test proved nothing\n%s", cuts, srv.logs.String())
	}
	waitDelivered(t, db, srv, "bi", 120*time.Second)
	compareReport(t, db, target, "reporting")
	sub, err := db.GetSubscription(context.Background(), "bi")
	if err != nil || sub.State != store.SubActive {
		t.Fatalf("subscription %+v, %v", sub, err)
	}
}
