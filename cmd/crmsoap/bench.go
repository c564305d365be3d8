package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// benchConfig is what `crmsoap bench` was asked to do.
type benchConfig struct {
	args       []string // as given, for the report
	url        string   // an already running server; empty: start children on loopback
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
}

const benchUsage = `Usage: crmsoap bench [flags]

Starts crmsoap serve on a temporary database (two child processes on 127.0.0.1: one
with --insecure-no-auth for the unsigned scenarios, one checking signatures), a bare
net/http handler as the ceiling C, and runs each scenario at each --conns level:

  get             GetCustomer, unsigned
  add             AddCustomer, unsigned (the durable write path alone)
  get-signed      GetCustomer, WS-Security signed (RSA-2048 unless --ecdsa)
  add-signed      AddCustomer, signed
  update-signed   UpdateCustomer, signed
  mix-signed      80% GetCustomer, 10% AddCustomer, 10% UpdateCustomer, signed

Signed envelopes are all distinct and signed before each timed window starts.
Prints a Markdown table: requests/s, fraction of C, p50/p95/p99 latency, errors,
server CPU seconds per 1,000 requests.

Flags:
`

var benchScenarioIDs = []string{"get", "add", "get-signed", "add-signed", "update-signed", "mix-signed"}

func (m *Main) benchFlags(args []string) (*benchConfig, error) {
	c := &benchConfig{args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, benchUsage); fs.PrintDefaults() }
	var conns, scenarios string
	fs.StringVar(&c.url, "url", "", "target this running server (http://HOST:PORT/soap) instead of starting one")
	fs.IntVar(&c.customers, "customers", 1000, "customers created before the runs")
	fs.StringVar(&conns, "conns", "64", "concurrent connections; a comma-separated list runs every scenario at each")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "timed window of each scenario")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up before each timed window (signed scenarios: the rate calibration)")
	fs.IntVar(&c.maxSigned, "max-signed", 60000, "most envelopes pre-signed for one timed window; a run that uses them all stops early and says so")
	fs.StringVar(&c.serverBin, "server-bin", "", "crmsoap binary run as the server and ceiling children (default: this executable)")
	fs.StringVar(&c.keyFile, "key", "", "with --url: PEM private key of a client registered on the target, for the signed scenarios")
	fs.StringVar(&c.certFile, "cert", "", "with --url: PEM certificate of that client")
	fs.BoolVar(&c.ecdsa, "ecdsa", false, "sign with an ECDSA P-256 client key instead of RSA-2048 (started servers only)")
	fs.StringVar(&c.profileDir, "profile", "", "save a CPU profile of the server for each timed window in this directory (pprof from the admin listener)")
	fs.StringVar(&scenarios, "scenarios", strings.Join(benchScenarioIDs, ","), "scenarios to run, comma-separated")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("bench: --conns %q: want positive integers such as 64,8", conns)
		}
		c.conns = append(c.conns, n)
	}
	c.scenarios = map[string]bool{}
	for _, s := range strings.Split(scenarios, ",") {
		s = strings.TrimSpace(s)
		if !benchKnown(s) {
			return nil, fmt.Errorf("bench: unknown scenario %q (have %s)", s, strings.Join(benchScenarioIDs, ", "))
		}
		c.scenarios[s] = true
	}
	return c, c.check()
}

func benchKnown(id string) bool {
	for _, s := range benchScenarioIDs {
		if s == id {
			return true
		}
	}
	return false
}

func (c *benchConfig) check() error {
	switch {
	case c.customers < 1:
		return errors.New("bench: --customers must be at least 1")
	case c.duration <= 0 || c.warmup < 0:
		return errors.New("bench: --duration must be positive and --warmup not negative")
	case c.duration+c.warmup > 4*time.Minute && c.signedWanted():
		// The server refuses a message whose Created is more than its TTL (300 s) old.
		return errors.New("bench: signed envelopes must be used within the server's 300 s TTL: keep --duration plus --warmup under 4m")
	case c.maxSigned < 100:
		return errors.New("bench: --max-signed must be at least 100")
	case (c.keyFile == "") != (c.certFile == ""):
		return errors.New("bench: --key and --cert go together")
	case c.profileDir != "" && c.url != "":
		return errors.New("bench: --profile works with started servers only (use the target's own /debug/pprof)")
	case c.keyFile != "" && c.url == "":
		return errors.New("bench: --key and --cert are for --url; started servers get a fresh client key")
	}
	if c.url != "" {
		u, err := url.Parse(c.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bench: --url %q: want http://HOST:PORT/soap", c.url)
		}
	}
	return nil
}

func (c *benchConfig) signedWanted() bool {
	for id := range c.scenarios {
		if strings.HasSuffix(id, "-signed") {
			return true
		}
	}
	return false
}

func (c *benchConfig) unsignedWanted() bool {
	return c.scenarios["get"] || c.scenarios["add"]
}

func (c *benchConfig) maxConns() int {
	n := 0
	for _, v := range c.conns {
		n = max(n, v)
	}
	return n
}

// bench runs the load generator: it starts the servers (or targets --url),
// measures the ceiling and every scenario at every --conns level, and prints
// the Markdown report on Stdout; progress goes to Stderr.
func (m *Main) bench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == benchCeilingCmd {
		return m.benchCeiling(ctx, args[1:])
	}
	cfg, err := m.benchFlags(args)
	if err != nil {
		return err
	}
	cfg.loadBefore = benchLoadAvg()
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
	env, err := m.benchSetup(ctx, cfg, tr)
	if env != nil {
		defer env.close(m.Stderr)
	}
	if err != nil {
		return err
	}
	rows, err := m.benchRunAll(ctx, cfg, env)
	if err != nil {
		return err
	}
	return benchReport(m.Stdout, cfg, env, rows)
}

func (m *Main) benchProgress(format string, a ...any) {
	fmt.Fprintf(m.Stderr, "bench: "+format+"\n", a...)
}

// benchExecutable is the binary the children run unless --server-bin says otherwise.
func benchExecutable(cfg *benchConfig) (string, error) {
	if cfg.serverBin != "" {
		return cfg.serverBin, nil
	}
	return os.Executable()
}
