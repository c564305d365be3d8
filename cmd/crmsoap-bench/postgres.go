package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// openStore opens the --db value of a started server: a postgres:// URL or an SQLite file.
func openStore(ctx context.Context, db string) (store.Store, error) {
	if isPostgresURL(db) {
		return postgres.Open(ctx, db, postgres.Options{})
	}
	return sqlite.Open(ctx, db, sqlite.Options{})
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// createPostgresDB creates a fresh database for the started server name on the --postgres server and
// returns its URL and a function that drops it.
func createPostgresDB(ctx context.Context, server, name string) (string, func() error, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: not a URL")
	}
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	defer admin.Close(context.Background())
	db := fmt.Sprintf("crmsoap_bench_%s_%d", name, os.Getpid())
	ident := pgx.Identifier{db}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("--postgres: create database %s: %w", db, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		return err
	}
	u.Path = "/" + db
	return u.String(), drop, nil
}

// besidePG is the PostgreSQL server of --beside-postgres.
type besidePG struct {
	server   *pgtest.Server // started by the run; nil for a given URL
	url      string
	pid      int    // the postmaster's process id when started here; 0: its CPU is not measured
	settings string // its durability and memory settings, for the report
}

// pgSettingNames are the settings the report shows of the PostgreSQL server.
var pgSettingNames = []string{"server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method",
	"shared_buffers", "max_connections"}

// setupBesidePostgres starts (or connects to) the PostgreSQL server of --beside-postgres and starts the same
// servers as on SQLite on fresh databases there, as the peer side: every single-record scenario then runs on
// both in alternating windows.
func (m *Main) setupBesidePostgres(ctx context.Context, cfg *config, env *environment,
	startOn func(c *config, name string, certDER []byte, extra ...string) (*target, []int64, error), certDER []byte) error {
	pg := &besidePG{url: cfg.besidePG}
	env.pg = pg
	if cfg.besidePG == "start" {
		m.progress("starting a durable PostgreSQL server")
		s, err := pgtest.StartDurable()
		if err != nil {
			return fmt.Errorf("--beside-postgres start: %w", err)
		}
		pg.server, pg.url, pg.pid = s, s.URL, s.PID()
	}
	var err error
	if pg.settings, err = pgSettings(ctx, pg.url); err != nil {
		return err
	}
	m.progress("PostgreSQL: %s", pg.settings)
	pgcfg := *cfg
	pgcfg.postgres = pg.url
	side := &peerSide{name: "PostgreSQL"}
	if cfg.unsignedWanted() || !cfg.signedWanted() {
		if side.open, side.openIDs, err = startOn(&pgcfg, "pg-open", nil, "--insecure-no-auth"); err != nil {
			return err
		}
		side.open.dbPID = pg.pid
	}
	if cfg.signedWanted() {
		if side.secure, side.secureIDs, err = startOn(&pgcfg, "pg-secure", certDER); err != nil {
			return err
		}
		side.secure.dbPID = pg.pid
	}
	env.peer, env.selfName = side, "SQLite"
	return nil
}

// pgSettings reads pgSettingNames from the server at url as "name=value, ...".
func pgSettings(ctx context.Context, url string) (string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("--beside-postgres: %w", err)
	}
	defer conn.Close(context.Background())
	parts := make([]string, 0, len(pgSettingNames))
	for _, name := range pgSettingNames {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			return "", fmt.Errorf("--beside-postgres: %s: %w", name, err)
		}
		parts = append(parts, name+"="+v)
	}
	return strings.Join(parts, ", "), nil
}

// treeCPU is the user+system CPU seconds of process pid and of all its children, living or ended
// (PostgreSQL's postmaster and its backends).
func treeCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	f := statFields(b)
	if len(f) < 15 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// utime, stime, cutime, cstime (fields 14 to 17): the process and its waited-for children.
	total := 0.0
	for _, v := range f[11:15] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
		}
		total += n
	}
	total /= clockTicks()
	procs, _ := os.ReadDir("/proc")
	parent := strconv.Itoa(pid)
	for _, p := range procs {
		child, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + p.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		if f := statFields(b); len(f) > 1 && f[1] == parent {
			if c, err := processCPU(child); err == nil {
				total += c
			}
		}
	}
	return total, nil
}

// statFields are the fields of /proc/PID/stat after the command name: f[0] is field 3 (state).
func statFields(b []byte) []string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// dbCPU is the CPU seconds of t's PostgreSQL server so far; -1 when not measured.
func dbCPU(t target) float64 {
	if t.dbPID <= 0 {
		return -1
	}
	v, err := treeCPU(t.dbPID)
	if err != nil {
		return -1
	}
	return v
}

// roundTripsMetric is the counter of a crmsoap server on PostgreSQL: requests sent to the database.
const roundTripsMetric = "crmsoap_db_round_trips_total"

// roundTrips reads t's round trips to the database so far from its admin listener's /metrics; -1 when
// unknown (no admin listener, or a server on SQLite, which has no such counter).
func roundTrips(ctx context.Context, t target) float64 {
	if t.admin == "" {
		return -1
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.admin+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), roundTripsMetric+" "); ok {
			if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// writeBesidePostgres writes the table of --beside-postgres: per scenario the medians of each backend's
// alternating windows, with the CPU of crmsoap and of PostgreSQL and the round trips per request.
func writeBesidePostgres(w io.Writer, cfg *config, env *environment, pairs []pairRow) {
	where := "a PostgreSQL server at " + redactURL(env.pg.url)
	if env.pg.server != nil {
		where = "a PostgreSQL server started by the run on this machine (initdb, stock settings, TCP on 127.0.0.1)"
	}
	fmt.Fprintf(w, "\nSQLite and PostgreSQL side by side (--beside-postgres): the same crmsoap binary on a temporary "+
		"SQLite file and on a fresh database of %s (%s); %d windows per backend, alternating which goes first; "+
		"medians. crmsoap CPU is the server process's; PostgreSQL CPU is its postmaster and every backend's; "+
		"round trips are the PostgreSQL pool's (`%s`).\n\n", where, env.pg.settings, cfg.pairs, roundTripsMetric)
	fmt.Fprintln(w, "| scenario | conns | SQLite req/s | PostgreSQL req/s | PostgreSQL / SQLite | SQLite crmsoap CPU µs/req | "+
		"PostgreSQL crmsoap CPU µs/req | PostgreSQL server CPU µs/req | round trips/req | windows (req/s) |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, p := range pairs {
		if len(p.runs[0]) == 0 || len(p.runs[1]) == 0 {
			fmt.Fprintf(w, "| %s | %d | – | – | – | – | – | – | – | %s |\n", p.title, p.conns, p.note)
			continue
		}
		a, acpu := medianRate(p.runs[0])
		b, bcpu := medianRate(p.runs[1])
		ratio := "–"
		if a > 0 {
			ratio = fmt.Sprintf("%.2f", b/a)
		}
		dbcpu := medianPer(p.runs[1], func(r *result) float64 { return perRequest(r.dbCPU, r) * 1e6 })
		trips := medianPer(p.runs[1], func(r *result) float64 { return perRequest(r.roundTrips, r) })
		tripStr := "n/a"
		if trips >= 0 {
			tripStr = fmt.Sprintf("%.3f", trips)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %s |\n", p.title, p.conns, a, b, ratio,
			micros(acpu), micros(bcpu), micros(dbcpu), tripStr, windowRates(p.runs))
	}
}

// redactURL hides a password in a URL for the report.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
