package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/keypair"
	"github.com/crmsoap/crmsoap/soap/wssec"
)

// soapPath is where crmsoap serve answers SOAP requests.
const soapPath = "/soap"

// signedTTL is Expires - Created of the pre-signed envelopes: the server's
// default maximum message age, so that an envelope signed at the start of a long
// signing batch is still valid at the end of the window (--duration plus
// --warmup is kept under 4 minutes for the same reason).
const signedTTL = wssec.DefaultTTL

// environment is what the scenarios run against.
type environment struct {
	tr       *http.Transport
	dir      string // temporary directory of started servers; "" with --url
	children []*child
	drops    []func() error // drop the PostgreSQL databases of started servers

	open, secure         *target // nil when unavailable: openNote, secureNote say why
	openNote, secureNote string
	openIDs, secureIDs   []int64
	ceiling              *target
	canned               int // size of the GetCustomer response the ceiling returns
	signer               *wssec.Signer
	keyDesc              string
	serverBin            string    // the crmsoap binary of started servers; "" with --url
	peer                 *peerSide // --peer-cmd's servers, or --beside-postgres's PostgreSQL ones; nil without
	selfName             string    // the name of the started servers beside a peer: crmsoap, or SQLite
	pg                   *besidePG // --beside-postgres's server; nil without

	big              *target // the server on the database of --feed-records customers; nil: bigNote says why
	bigN             int
	bigNote, bigSeed string // why there is no big server; how its database was seeded

	productIDs        []int64 // the products seeded in the signature-checking server's database; nil: ordersNote says why
	ordersNote        string
	deepTok, deepNote string // search-deep's page token and how it was obtained
}

func (e *environment) close(stderr io.Writer) {
	for _, c := range e.children {
		if err := c.stop(); err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v\n", c.name, err)
		}
	}
	for _, drop := range e.drops {
		if err := drop(); err != nil {
			fmt.Fprintf(stderr, "bench: drop database: %v\n", err)
		}
	}
	if e.pg != nil && e.pg.server != nil {
		if err := e.pg.server.Stop(); err != nil {
			fmt.Fprintf(stderr, "bench: postgres: %v\n", err)
		}
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// setup starts the servers and the ceiling (or probes --url) and creates the customers.
func (m *Main) setup(ctx context.Context, cfg *config, tr *http.Transport) (*environment, error) {
	env := &environment{tr: tr, selfName: "crmsoap"}
	var err error
	if cfg.url != "" {
		err = m.setupURL(ctx, cfg, env)
	} else {
		err = m.setupLocal(ctx, cfg, env)
	}
	if err != nil {
		return env, err
	}
	canned, err := env.cannedResponse()
	if err != nil {
		return env, err
	}
	env.canned = len(canned)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("crmsoap-bench-ceiling-%d.xml", os.Getpid()))
	if env.dir != "" {
		path = filepath.Join(env.dir, "ceiling-response.xml")
	}
	if err := os.WriteFile(path, canned, 0o600); err != nil {
		return env, err
	}
	if env.dir == "" {
		defer os.Remove(path) // the ceiling child has read it once it listens
	}
	self, err := os.Executable()
	if err != nil {
		return env, err
	}
	c, err := startChild("ceiling", self, []string{ceilingCmd, "--response", path})
	if err != nil {
		return env, err
	}
	env.children = append(env.children, c)
	env.ceiling = &target{url: &url.URL{Scheme: "http", Host: c.addr, Path: soapPath}, pid: c.pid()}
	return env, nil
}

func (m *Main) setupLocal(ctx context.Context, cfg *config, env *environment) error {
	bin, err := serverBinary(cfg)
	if err != nil {
		return err
	}
	env.serverBin = bin
	dir, err := os.MkdirTemp("", "crmsoap-bench-")
	if err != nil {
		return err
	}
	env.dir = dir
	key, err := keypair.New(cfg.ecdsa)
	if err != nil {
		return err
	}
	der, err := keypair.SelfSigned(key, "crmsoap-bench", 24*time.Hour)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	env.signer = &wssec.Signer{Key: key, Cert: cert, TTL: signedTTL}
	env.keyDesc = describeKey(key)

	has := serveHas(bin, "insecure-no-auth", "admin-addr")
	if cfg.profileDir != "" && !has["admin-addr"] {
		return errors.New("--profile needs a crmsoap serve with --admin-addr")
	}
	// startOn starts a server on c's backend; the products of the order scenarios go to cfg's only.
	startOn := func(c *config, name string, certDER []byte, extra ...string) (*target, []int64, error) {
		seedDB := func(db string) ([]int64, error) {
			m.progress("creating %d customers in %s", cfg.customers, db)
			ids, err := seed(ctx, db, cfg.customers, certDER)
			if err == nil && certDER != nil && cfg.ordersWanted() && c == cfg {
				m.progress("creating %d products in %s", orderProducts, db)
				env.productIDs, err = seedProducts(ctx, db, orderProducts)
				if errors.Is(err, errors.ErrUnsupported) {
					env.ordersNote, err = "skipped: this store cannot write products yet", nil
				}
			}
			return ids, err
		}
		return m.startServe(ctx, c, env, bin, name, seedDB, has["admin-addr"], extra...)
	}
	start := func(name string, certDER []byte, extra ...string) (*target, []int64, error) {
		return startOn(cfg, name, certDER, extra...)
	}
	if cfg.bigWanted() {
		if err := m.startBig(ctx, cfg, env, bin, has); err != nil {
			return err
		}
	}
	if !has["insecure-no-auth"] {
		// A server without the flag predates signature checks: it serves unsigned requests only.
		env.secureNote = "skipped: this `crmsoap serve` has no --insecure-no-auth flag, so it does not check WS-Security signatures yet"
		env.open, env.openIDs, err = start("open", nil)
		return err
	}
	if cfg.unsignedWanted() || !cfg.signedWanted() {
		if env.open, env.openIDs, err = start("open", nil, "--insecure-no-auth"); err != nil {
			return err
		}
	}
	if cfg.signedWanted() {
		if env.secure, env.secureIDs, err = start("secure", der); err != nil {
			return err
		}
	}
	if cfg.peerCmd != "" {
		return m.setupPeer(ctx, cfg, env, der)
	}
	if cfg.besidePG != "" {
		return m.setupBesidePostgres(ctx, cfg, env, startOn, der)
	}
	return nil
}

// startBig seeds the big database and starts an unsigned server on it.
func (m *Main) startBig(ctx context.Context, cfg *config, env *environment, bin string, has map[string]bool) error {
	if !has["insecure-no-auth"] {
		env.bigNote = "skipped: this `crmsoap serve` has no --insecure-no-auth flag"
		return nil
	}
	seedDB := func(db string) ([]int64, error) {
		m.progress("creating %d customers in %s (WriteCustomers, %d per call)", cfg.feedRecords, db, seedBatch)
		start := time.Now()
		if err := seedBig(ctx, db, cfg.feedRecords); err != nil {
			return nil, err
		}
		d := time.Since(start)
		env.bigSeed = fmt.Sprintf("%d customers with externalIds and their feed entries, written into the database "+
			"before its server started (store WriteCustomers, %d per call: %s, %.0f records/s)",
			cfg.feedRecords, seedBatch, d.Round(100*time.Millisecond), float64(cfg.feedRecords)/d.Seconds())
		m.progress("%s", env.bigSeed)
		return nil, nil
	}
	var err error
	env.big, _, err = m.startServe(ctx, cfg, env, bin, "big", seedDB, has["admin-addr"], "--insecure-no-auth")
	env.bigN = cfg.feedRecords
	return err
}

// startServe seeds the database name.db (or a fresh one on --postgres) with
// seedDB and starts `crmsoap serve` on it as a child.
func (m *Main) startServe(ctx context.Context, cfg *config, env *environment, bin, name string, seedDB func(db string) ([]int64, error),
	hasAdmin bool, extra ...string) (*target, []int64, error) {
	args := []string{"serve", "--log-format", "json", "--log-level", "warn"}
	admin := ""
	if hasAdmin {
		// As in production the admin listener is on; on a port of its own so that two servers can run.
		port, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		admin = "127.0.0.1:" + port
		args = append(args, "--admin-addr", admin)
	}
	db := filepath.Join(env.dir, name+".db")
	if cfg.postgres != "" {
		url, drop, err := createPostgresDB(ctx, cfg.postgres, name)
		if err != nil {
			return nil, nil, err
		}
		env.drops = append(env.drops, drop)
		db = url
	}
	ids, err := seedDB(db)
	if err != nil {
		return nil, nil, err
	}
	args = append(append(args, "--db", db), extra...)
	c, err := startChild(name, bin, args)
	if err != nil {
		return nil, nil, err
	}
	env.children = append(env.children, c)
	m.progress("%s: crmsoap %s on %s (pid %d)", name, strings.Join(args, " "), c.addr, c.pid())
	return &target{url: &url.URL{Scheme: "http", Host: c.addr, Path: soapPath}, pid: c.pid(), admin: admin}, ids, nil
}

func (m *Main) setupURL(ctx context.Context, cfg *config, env *environment) error {
	u, _ := url.Parse(cfg.url)
	env.bigNote = "skipped: needs a started server (its database of --feed-records customers is seeded in the file)"
	env.ordersNote = "skipped: needs a started server (its products are seeded in the database file)"
	remote := &target{url: u, pid: -1}
	if cfg.keyFile != "" {
		key, err := keypair.ReadPrivateKey(cfg.keyFile)
		if err != nil {
			return err
		}
		cert, err := keypair.ReadCertificate(cfg.certFile)
		if err != nil {
			return err
		}
		env.signer = &wssec.Signer{Key: key, Cert: cert, TTL: signedTTL}
		env.keyDesc = describeKey(key)
		env.secure = remote
	} else {
		env.secureNote = "skipped: give --key and --cert of a client registered on the target"
	}
	status, body, err := post(ctx, env.tr, u, addCustomer(0))
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", u, err)
	case status == http.StatusOK:
		env.open = remote
	case bytes.Contains(body, []byte("Security")) || bytes.Contains(body, []byte("UNAUTHORIZED")):
		env.openNote = "skipped: the target requires signatures"
	default:
		return fmt.Errorf("%s answered an unsigned AddCustomer with HTTP %d:\n%s", u, status, body)
	}
	if env.open == nil && env.secure == nil {
		return errors.New("the target requires signatures: give --key and --cert of a client registered on it")
	}
	m.progress("creating %d customers on %s", cfg.customers, u)
	var signer *wssec.Signer
	if env.open == nil {
		signer = env.signer
	}
	ids, err := env.createCustomersOn(ctx, env.anyTarget(), signer, cfg.customers)
	if err != nil {
		return err
	}
	env.openIDs, env.secureIDs = ids, ids
	return nil
}

var idPattern = regexp.MustCompile(`<(?:\w+:)?id>(\d+)</`)

// createCustomersOn adds n customers to t through SOAP (signed by signer
// unless it is nil) and returns their ids.
func (e *environment) createCustomersOn(ctx context.Context, t *target, signer *wssec.Signer, n int) ([]int64, error) {
	reqs := make([]request, n)
	for i := range reqs {
		reqs[i] = addCustomer(i)
	}
	if signer != nil {
		var err error
		if reqs, err = signAll(ctx, signer, n, func(i int) request { return reqs[i] }); err != nil {
			return nil, err
		}
	}
	ids := make([]int64, n)
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				status, body, err := post(ctx, e.tr, t.url, reqs[i])
				m := idPattern.FindSubmatch(body)
				if err == nil && (status != http.StatusOK || m == nil) {
					err = fmt.Errorf("AddCustomer: HTTP %d: %.600s", status, body)
				}
				if err != nil {
					once.Do(func() { first = err })
					return
				}
				ids[i], _ = strconv.ParseInt(string(m[1]), 10, 64)
			}
		})
	}
	wg.Wait()
	return ids, first
}

func (e *environment) anyTarget() *target {
	if e.open != nil {
		return e.open
	}
	return e.secure
}

// cannedResponse fetches a real GetCustomer response for the ceiling to return.
func (e *environment) cannedResponse() ([]byte, error) {
	req := getCustomer(e.openOrSecureIDs()[0])
	if e.open == nil {
		signed, err := signOne(e.signer, req)
		if err != nil {
			return nil, err
		}
		req = signed
	}
	status, body, err := post(context.Background(), e.tr, e.anyTarget().url, req)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("HTTP %d: %.600s", status, body)
	}
	if err != nil {
		return nil, fmt.Errorf("GetCustomer for the ceiling's response: %w", err)
	}
	return body, nil
}

// post sends one request outside the timed windows.
func post(ctx context.Context, tr *http.Transport, u *url.URL, r request) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(r.body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = r.header.Clone()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

func describeKey(k crypto.Signer) string {
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d, RSA-SHA256", pub.Size()*8)
	case *ecdsa.PublicKey:
		return fmt.Sprintf("ECDSA %s, ECDSA-SHA256", pub.Curve.Params().Name)
	}
	return fmt.Sprintf("%T", k.Public())
}
