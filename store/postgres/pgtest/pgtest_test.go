package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Two databases are separate: a table made in one is not in the other.
func TestDatabase_Isolated(t *testing.T) {
	ctx := context.Background()
	a, b := Database(t), Database(t)
	if a == b {
		t.Fatalf("Database returned %s twice", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("table made in %s is visible in %s", a, b)
	}
}

// A server of its own stops and leaves neither its directory nor its port behind.
func TestStart_StopRemovesEverything(t *testing.T) {
	if os.Getenv(EnvURL) != "" {
		t.Skip("an existing server is configured; this test is about the throwaway one")
	}
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.URL)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("directory %s still there: %v", s.dir, err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("something still listens on %s", u.Host)
	}
}

// The durable server keeps PostgreSQL's durability settings on; the throwaway one turns them off.
func TestStartDurable_Settings(t *testing.T) {
	for _, c := range []struct {
		start func() (*Server, error)
		want  string
	}{{StartDurable, "on"}, {Start, "off"}} {
		s, err := c.start()
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, s.URL)
		if err != nil {
			s.Stop()
			t.Fatal(err)
		}
		for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
			var v string
			if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
				t.Error(err)
			} else if v != c.want {
				t.Errorf("%s = %s, want %s", name, v, c.want)
			}
		}
		// PID is the postmaster's: the backend serving this connection is its child.
		var backend int
		if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
			t.Fatal(err)
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", backend))
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); f[1] != strconv.Itoa(s.PID()) {
			t.Errorf("backend %d has parent %s, PID says %d", backend, f[1], s.PID())
		}
		conn.Close(ctx)
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}
