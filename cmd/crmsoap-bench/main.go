// Command crmsoap-bench is the load generator: it starts crmsoap servers (or
// targets a running one), loads them with unsigned and WS-Security signed
// requests and prints a Markdown report (docs/BENCHMARKS.md). It is not part of
// the server binary; nothing imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr}
	err := m.Run(ctx, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crmsoap-bench:", err)
		os.Exit(1)
	}
}

// Main runs the load generator (or, as a child of it, the ceiling server) with
// the given standard streams.
type Main struct {
	Stdout, Stderr io.Writer
}

// config is what `crmsoap-bench` was asked to do.
type config struct {
	args       []string // as given, for the report
	url        string   // an already running server; empty: start children on loopback
	postgres   string   // a PostgreSQL server for the started servers' databases; empty: SQLite files
	besidePG   string   // --beside-postgres: SQLite and PostgreSQL side by side; "start" or a server's URL
	customers  int
	conns      []int
	duration   time.Duration
	warmup     time.Duration
	maxSigned  int
	serverBin  string
	keyFile    string // --url only: key and certificate of a client registered on the target
	certFile   string
	ecdsa      bool
	scenarios  map[string]bool
	profileDir string // save a CPU profile of the server per timed window here
	loadBefore string // /proc/loadavg when the run started

	peerCmd, peerSignedCmd string // a peer server measured side by side (peer.go); "" for none
	peerName               string
	pairs                  int // alternating windows per side with a peer

	batch       int // items per UpsertCustomers call of the bulk scenarios
	batchConns  int // most connections of the bulk scenarios
	feedRecords int // customers in the big database of the feed and search scenarios
}

const usage = `Usage: crmsoap-bench [flags]

Starts crmsoap serve on a temporary database (two child processes on 127.0.0.1: one
with --insecure-no-auth for the unsigned scenarios, one checking signatures), a bare
net/http handler as the ceiling C, and runs each scenario at each --conns level:

  get             GetCustomer, unsigned
  add             AddCustomer, unsigned (the durable write path alone)
  get-signed      GetCustomer, WS-Security signed (RSA-2048 unless --ecdsa)
  add-signed      AddCustomer, signed
  update-signed   UpdateCustomer, signed
  mix-signed      80% GetCustomer, 10% AddCustomer, 10% UpdateCustomer, signed

Opt-in scenarios of the ERP-sync operations (name them in --scenarios):

  upsert-bulk         UpsertCustomers of --batch new customers per call, unsigned, durable,
                      at most --batch-conns connections; reports records/s
  upsert-bulk-signed  the same, signed (fewer, larger envelopes, pre-signed)
  feed                one reader follows GetChanges (5,000 per call) from the beginning
                      over a database of --feed-records customers, seeded in its file
                      before its server starts; reports changes/s and the server's peak
                      RSS; --conns, --warmup and --duration do not apply
  search-first        SearchCustomers, the first page of 100 of that database
  search-deep         the page of 100 after customer --feed-records - 100 (its token
                      comes from paging through once before the window)

  order-signed        PlaceOrder of 5 lines (quantity 1), signed, durable, over 1,000
                      products seeded with ample stock in the database file before its
                      server starts
  order-contended-signed  the same, every order's lines from the same 10 products; the
                      note compares the stock removed (GetProduct before and after) with
                      the quantities of the orders placed

  crmsoap-bench --scenarios feed,search-first,search-deep --feed-records 1000000

SQLite and PostgreSQL side by side (same run, alternating windows, a durable PostgreSQL
started on this machine; round trips per request from the pool's metrics):

  crmsoap-bench --beside-postgres start --scenarios get,add,get-signed,add-signed

Signed envelopes are all distinct and signed before each timed window starts.
Prints a Markdown table: requests/s, fraction of C, p50/p95/p99 latency, errors,
server CPU seconds per 1,000 requests.

Flags:
`

// scenarioIDs is the default --scenarios; erpScenarioIDs run only when named.
var (
	scenarioIDs    = []string{"get", "add", "get-signed", "add-signed", "update-signed", "mix-signed"}
	erpScenarioIDs = []string{"upsert-bulk", "upsert-bulk-signed", "feed", "search-first", "search-deep",
		"order-signed", "order-contended-signed"}
)

func (m *Main) parseFlags(args []string) (*config, error) {
	c := &config{args: args}
	fs := flag.NewFlagSet("crmsoap-bench", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, usage); fs.PrintDefaults() }
	var conns, scenarios string
	fs.StringVar(&c.url, "url", "", "target this running server (http://HOST:PORT/soap) instead of starting one")
	fs.IntVar(&c.customers, "customers", 1000, "customers created before the runs")
	fs.StringVar(&c.postgres, "postgres", "", "postgres://... URL of a PostgreSQL server: each started server gets a fresh database on it (dropped afterwards) instead of an SQLite file")
	fs.StringVar(&c.besidePG, "beside-postgres", "", "run the single-record scenarios on SQLite and on PostgreSQL side by side, in alternating windows (--pairs): "+
		"\"start\" starts a PostgreSQL server with its stock durable settings in a temporary directory (Debian's postgresql package), "+
		"a postgres://... URL uses that server (fresh databases, dropped afterwards)")
	fs.StringVar(&conns, "conns", "64", "concurrent connections; a comma-separated list runs every scenario at each")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "timed window of each scenario")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up before each timed window (signed scenarios: the rate calibration)")
	fs.IntVar(&c.maxSigned, "max-signed", 60000, "most envelopes pre-signed for one timed window; a run that uses them all stops early and says so")
	fs.StringVar(&c.serverBin, "server-bin", "", "crmsoap binary run as the server children (default: crmsoap next to this executable, else on PATH)")
	fs.StringVar(&c.keyFile, "key", "", "with --url: PEM private key of a client registered on the target, for the signed scenarios")
	fs.StringVar(&c.certFile, "cert", "", "with --url: PEM certificate of that client")
	fs.BoolVar(&c.ecdsa, "ecdsa", false, "sign with an ECDSA P-256 client key instead of RSA-2048 (started servers only)")
	fs.StringVar(&c.profileDir, "profile", "", "save a CPU profile of the server for each timed window in this directory (pprof from the admin listener)")
	fs.StringVar(&c.peerCmd, "peer-cmd", "", "also run a peer server of the same contract side by side, alternating windows, in the single-record scenarios: command line with {port} and {db} (see peer.go)")
	fs.StringVar(&c.peerSignedCmd, "peer-signed-cmd", "", "the peer's signature-checking server for the signed scenarios: command line with {port}, {db} and {ca}")
	fs.StringVar(&c.peerName, "peer-name", "peer", "the peer's name in the report")
	fs.IntVar(&c.pairs, "pairs", 3, "with a peer: windows per side for each scenario, alternating which goes first")
	fs.StringVar(&scenarios, "scenarios", strings.Join(scenarioIDs, ","), "scenarios to run, comma-separated (also: "+
		strings.Join(erpScenarioIDs, ", ")+")")
	fs.IntVar(&c.batch, "batch", 1000, "customers per UpsertCustomers call in the upsert-bulk scenarios (1 to the server's --max-batch, 1000)")
	fs.IntVar(&c.batchConns, "batch-conns", 4, "most concurrent connections of the upsert-bulk scenarios (at each --conns level the smaller)")
	fs.IntVar(&c.feedRecords, "feed-records", 1000000, "customers in the database of the feed and search scenarios")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("--conns %q: want positive integers such as 64,8", conns)
		}
		c.conns = append(c.conns, n)
	}
	c.scenarios = map[string]bool{}
	for _, s := range strings.Split(scenarios, ",") {
		s = strings.TrimSpace(s)
		if !knownScenario(s) {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(append(scenarioIDs, erpScenarioIDs...), ", "))
		}
		c.scenarios[s] = true
	}
	return c, c.check()
}

func knownScenario(id string) bool {
	for _, s := range append(scenarioIDs, erpScenarioIDs...) {
		if s == id {
			return true
		}
	}
	return false
}

func (c *config) check() error {
	switch {
	case c.customers < 1:
		return errors.New("--customers must be at least 1")
	case c.duration <= 0 || c.warmup < 0:
		return errors.New("--duration must be positive and --warmup not negative")
	case c.duration+c.warmup > 4*time.Minute && c.signedWanted():
		// The server refuses a message whose Created is more than its TTL (300 s) old.
		return errors.New("signed envelopes must be used within the server's 300 s TTL: keep --duration plus --warmup under 4m")
	case c.maxSigned < 100:
		return errors.New("--max-signed must be at least 100")
	case c.batch < 1 || c.batch > 1000:
		return errors.New("--batch must be 1 to 1000 (the server's default --max-batch)")
	case c.batchConns < 1:
		return errors.New("--batch-conns must be at least 1")
	case c.bigWanted() && c.feedRecords < 2*searchPage:
		return fmt.Errorf("--feed-records must be at least %d", 2*searchPage)
	case (c.keyFile == "") != (c.certFile == ""):
		return errors.New("--key and --cert go together")
	case c.profileDir != "" && c.url != "":
		return errors.New("--profile works with started servers only (use the target's own /debug/pprof)")
	case c.besidePG != "" && (c.url != "" || c.postgres != "" || c.peerCmd != ""):
		return errors.New("--beside-postgres starts its own servers: not with --url, --postgres or --peer-cmd")
	case c.besidePG != "" && c.besidePG != "start" && !isPostgresURL(c.besidePG):
		return fmt.Errorf("--beside-postgres %q: want start or a postgres:// URL", c.besidePG)
	case c.keyFile != "" && c.url == "":
		return errors.New("--key and --cert are for --url; started servers get a fresh client key")
	}
	if err := c.checkPeer(); err != nil {
		return err
	}
	if c.url != "" {
		u, err := url.Parse(c.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--url %q: want http://HOST:PORT/soap", c.url)
		}
	}
	return nil
}

func (c *config) signedWanted() bool {
	for id := range c.scenarios {
		if strings.HasSuffix(id, "-signed") {
			return true
		}
	}
	return false
}

func (c *config) unsignedWanted() bool {
	return c.scenarios["get"] || c.scenarios["add"] || c.scenarios["upsert-bulk"]
}

// bigWanted: a scenario needs the server on the big database.
func (c *config) bigWanted() bool {
	return c.scenarios["feed"] || c.scenarios["search-first"] || c.scenarios["search-deep"]
}

func (c *config) maxConns() int {
	n := 0
	for _, v := range c.conns {
		n = max(n, v)
	}
	return n
}

// Run runs the load generator: it starts the servers (or targets --url),
// measures the ceiling and every scenario at every --conns level, and prints
// the Markdown report on Stdout; progress goes to Stderr.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == ceilingCmd {
		return m.serveCeiling(ctx, args[1:])
	}
	cfg, err := m.parseFlags(args)
	if err != nil {
		return err
	}
	cfg.loadBefore = loadAvg()
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return err
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // loopback or an explicit --url: never through a proxy
		MaxIdleConns:          0,   // no limit: evicting idle connections of one server would make others dial
		MaxIdleConnsPerHost:   cfg.maxConns(),
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
	}
	defer tr.CloseIdleConnections()
	env, err := m.setup(ctx, cfg, tr)
	if env != nil {
		defer env.close(m.Stderr)
	}
	if err != nil {
		return err
	}
	rows, pairs, err := m.runAll(ctx, cfg, env)
	if err != nil {
		return err
	}
	return writeReport(m.Stdout, cfg, env, rows, pairs)
}

func (m *Main) progress(format string, a ...any) {
	fmt.Fprintf(m.Stderr, "bench: "+format+"\n", a...)
}

// serverBinary is the crmsoap binary the server children run: --server-bin,
// else crmsoap in the directory of this executable (make bench builds both
// into bin/), else crmsoap on PATH.
func serverBinary(cfg *config) (string, error) {
	if cfg.serverBin != "" {
		return cfg.serverBin, nil
	}
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), "crmsoap"); isExecutable(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("crmsoap")
	if err != nil {
		return "", errors.New("no crmsoap binary next to this one or on PATH: build it (make bench does) or give --server-bin")
	}
	return p, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
