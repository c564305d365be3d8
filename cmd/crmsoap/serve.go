package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/soap"
	"github.com/crmsoap/crmsoap/wsdl"
)

// soapPath is where the SOAP endpoint and its WSDL (?wsdl) are served.
const soapPath = "/soap"

type serveConfig struct {
	addr, adminAddr, db       string
	logFormat, logLevel       string
	maxBodyBytes              int64
	maxDepth, maxElements     int
	maxInFlight               int
	maxUploads                int
	minUploadRate             int64
	uploadGrace               time.Duration
	memoryBudget              int64
	soap12SenderStatus        int
	trustProxy                bool
	tlsCert, tlsKey           string
	tlsClientCA               string
	readHeaderTimeout         time.Duration
	readTimeout, writeTimeout time.Duration
	idleTimeout               time.Duration
	shutdownTimeout           time.Duration
	lowStockInterval          time.Duration
	gcPercent                 int
	security                  securityConfig
	sync                      syncConfig
	push                      pushConfig
}

func (m *Main) serveFlags(args []string) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	e := &envFlags{fs: fs, getenv: m.Getenv}
	e.String(&c.addr, "addr", "CRMSOAP_ADDR", "127.0.0.1:8080", "listen address HOST:PORT")
	e.String(&c.adminAddr, "admin-addr", "CRMSOAP_ADMIN_ADDR", "127.0.0.1:9090", "admin listener for /metrics, /healthz, /readyz, /debug/pprof (empty: off)")
	e.String(&c.db, "db", "CRMSOAP_DB", "./crm.db", dbHelp+" (a file is created if missing)")
	e.String(&c.logFormat, "log-format", "CRMSOAP_LOG_FORMAT", "text", "log format: text or json")
	e.String(&c.logLevel, "log-level", "CRMSOAP_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	e.Int64(&c.maxBodyBytes, "max-body-bytes", "CRMSOAP_MAX_BODY_BYTES", soap.DefaultMaxBodyBytes, "largest request body accepted")
	e.Int(&c.maxDepth, "max-depth", "CRMSOAP_MAX_DEPTH", soap.DefaultMaxDepth, "deepest XML element nesting accepted")
	e.Int(&c.maxElements, "max-elements", "CRMSOAP_MAX_ELEMENTS", soap.DefaultMaxElements, "most XML elements in one request")
	e.Int(&c.maxInFlight, "max-inflight", "CRMSOAP_MAX_INFLIGHT", 256, "requests handled at once; beyond it 503 with Retry-After (0: no bound)")
	e.Int(&c.maxUploads, "max-uploads", "CRMSOAP_MAX_UPLOADS", soap.DefaultMaxUploads, "request bodies received at once; beyond it 503 with Retry-After (0: no bound)")
	e.Int64(&c.minUploadRate, "min-upload-rate", "CRMSOAP_MIN_UPLOAD_RATE", 4096, "slowest a request body may arrive after --upload-grace, bytes/s on average; slower: 408 (0: off)")
	e.Duration(&c.uploadGrace, "upload-grace", "CRMSOAP_UPLOAD_GRACE", 5*time.Second, "time a request body may take before --min-upload-rate applies")
	e.Int64(&c.memoryBudget, "memory-budget", "CRMSOAP_MEMORY_BUDGET", soap.DefaultMemoryBudget, "bytes of memory for the request bodies and trees being handled at once; beyond it 503 with Retry-After (0: no bound)")
	e.Int(&c.soap12SenderStatus, "soap12-sender-status", "CRMSOAP_SOAP12_SENDER_STATUS", 400, "HTTP status of SOAP 1.2 Sender faults: 400 (the SOAP 1.2 spec) or 500 (for .NET WCF clients)")
	e.Bool(&c.trustProxy, "trust-proxy", "CRMSOAP_TRUST_PROXY", false, "trust X-Forwarded-Proto/Host for the WSDL's address")
	e.String(&c.tlsCert, "tls-cert", "CRMSOAP_TLS_CERT", "", "PEM certificate chain: serve HTTPS (TLS 1.2 or newer)")
	e.String(&c.tlsKey, "tls-key", "CRMSOAP_TLS_KEY", "", "PEM private key of --tls-cert")
	e.String(&c.tlsClientCA, "tls-client-ca", "CRMSOAP_TLS_CLIENT_CA", "", "PEM CA certificates: require and verify TLS client certificates")
	e.Duration(&c.readHeaderTimeout, "read-header-timeout", "CRMSOAP_READ_HEADER_TIMEOUT", 10*time.Second, "time to read request headers")
	e.Duration(&c.readTimeout, "read-timeout", "CRMSOAP_READ_TIMEOUT", 30*time.Second, "time to read a whole request")
	e.Duration(&c.writeTimeout, "write-timeout", "CRMSOAP_WRITE_TIMEOUT", 30*time.Second, "time to handle a request and write the response")
	e.Duration(&c.idleTimeout, "idle-timeout", "CRMSOAP_IDLE_TIMEOUT", 120*time.Second, "keep-alive idle time")
	e.Duration(&c.shutdownTimeout, "shutdown-timeout", "CRMSOAP_SHUTDOWN_TIMEOUT", 30*time.Second, "time to finish in-flight requests on SIGINT/SIGTERM")
	e.Int(&c.gcPercent, "gc-percent", "CRMSOAP_GC_PERCENT", defaultGCPercent, "heap growth between garbage collections, percent of the live heap (the runtime's GOGC; a GOGC variable in the environment wins; -1: off)")
	e.Duration(&c.lowStockInterval, "low-stock-interval", "CRMSOAP_LOW_STOCK_INTERVAL", 10*time.Second, "how often the crmsoap_products_low_stock metric is counted afresh")
	c.security.register(e)
	c.sync.register(e)
	c.push.register(e)
	if err := e.parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if c.maxUploads < 0 || c.minUploadRate < 0 || c.uploadGrace < 0 || c.memoryBudget < 0 {
		return c, errors.New("serve: --max-uploads, --min-upload-rate, --upload-grace and --memory-budget must not be negative")
	}
	if least := soap.MinMemoryBudget(c.maxBodyBytes, c.maxElements); c.memoryBudget > 0 && c.memoryBudget < least {
		return c, fmt.Errorf("serve: --memory-budget %d cannot hold one request of --max-body-bytes %d and --max-elements %d: "+
			"give it at least %d (or 0: no budget)", c.memoryBudget, c.maxBodyBytes, c.maxElements, least)
	}
	if err := c.push.check(); err != nil {
		return c, err
	}
	if err := c.sync.check(); err != nil {
		return c, err
	}
	if c.gcPercent < -1 || c.gcPercent == 0 {
		return c, fmt.Errorf("serve: --gc-percent %d: want a positive percentage or -1", c.gcPercent)
	}
	if c.lowStockInterval <= 0 {
		return c, fmt.Errorf("serve: --low-stock-interval %s: want a positive duration", c.lowStockInterval)
	}
	if c.soap12SenderStatus != 400 && c.soap12SenderStatus != 500 {
		return c, fmt.Errorf("serve: --soap12-sender-status %d: want 400 or 500", c.soap12SenderStatus)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("serve: --tls-cert and --tls-key go together")
	}
	if c.tlsClientCA != "" && c.tlsCert == "" {
		return c, errors.New("serve: --tls-client-ca needs --tls-cert and --tls-key")
	}
	return c, nil
}

// serve runs the SOAP server until ctx is cancelled, then drains in-flight
// requests and closes the database.
func (m *Main) serve(ctx context.Context, args []string) (err error) {
	cfg, err := m.serveFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(m.Stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	setGCPercent(cfg.gcPercent, cfg.memoryBudget, m.Getenv, log)
	db, err := openDB(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	ctx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()

	met := newMetrics()
	registerPoolMetrics(met.registry, db)
	counted := make(chan struct{})
	go func() { defer close(counted); met.refreshLowStock(ctx, db, cfg.lowStockInterval, log) }()
	defer func() { stopBackground(); <-counted }() // the count ends before the database closes
	handler, err := buildHandler(ctx, cfg, db, met, log)
	if err != nil {
		return err
	}
	waitPush, err := startPush(ctx, cfg.push, cfg.security, db, met.registry, log)
	if err != nil {
		return err
	}
	defer func() { stopBackground(); waitPush() }() // deliveries end before the database closes
	tlsConfig, err := serverTLS(cfg)
	if err != nil {
		return err
	}
	ready := &readiness{check: db.Ready}
	if cfg.adminAddr != "" {
		admin, aln, err := startAdmin(cfg.adminAddr, adminHandler(met, ready, log), log)
		if err != nil {
			return fmt.Errorf("admin listener on %s: %w (choose another with --admin-addr, or --admin-addr \"\" to turn it off)", cfg.adminAddr, err)
		}
		defer admin.Close()
		log.Info("admin listening", "addr", aln.Addr().String())
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	mux := http.NewServeMux()
	mux.Handle(soapPath, handler)
	mux.Handle(notificationsPath, notificationsWSDL())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.readHeaderTimeout,
		ReadTimeout:       cfg.readTimeout,
		WriteTimeout:      cfg.writeTimeout,
		IdleTimeout:       cfg.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := scheme + "://" + ln.Addr().String() + soapPath
	log.Info("serving", "addr", ln.Addr().String(), "url", url, "wsdl", url+"?wsdl", "db", dbForLog(cfg.db),
		"auth", !cfg.security.insecureNoAuth, "version", version)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	ready.shuttingDown.Store(true)
	log.Info("shutting down", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown incomplete", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// buildHandler wires service, security and observability into the SOAP handler.
func buildHandler(ctx context.Context, cfg serveConfig, db database, met *metrics, log *slog.Logger) (*soap.Handler, error) {
	svc := service.New(db)
	svc.OnStoreError = func(error) { met.dbErrors.Inc() }
	svc.OnOrderStatus = func(status string) { met.orders.WithLabelValues(status).Inc() }
	cfg.sync.apply(ctx, svc, log)
	security, signer, err := newSecurity(ctx, cfg.security, db, log)
	if err != nil {
		return nil, err
	}
	hc := soap.Config{
		WSDL:           wsdl.Document,
		Operations:     wsdl.Operations(wsdl.NewAdapter(svc)),
		Detail:         wsdl.FaultDetail,
		Scalars:        wsdl.Scalars,
		Leaves:         wsdl.Leaves,
		Security:       security,
		MaxBodyBytes:   cfg.maxBodyBytes,
		MaxDepth:       cfg.maxDepth,
		MaxElements:    cfg.maxElements,
		MaxInFlight:    cfg.maxInFlight,
		MaxUploads:     cfg.maxUploads,
		MinUploadRate:  cfg.minUploadRate,
		UploadGrace:    cfg.uploadGrace,
		MemoryBudget:   cfg.memoryBudget,
		SenderStatus12: cfg.soap12SenderStatus,
		TrustProxy:     cfg.trustProxy,
		Logger:         log,
		Observer:       met,
	}
	if signer != nil {
		hc.SignResponse = signer.Sign
	}
	return soap.NewHandler(hc)
}

// serverTLS returns the TLS configuration, nil when serving plain HTTP.
func serverTLS(cfg serveConfig) (*tls.Config, error) {
	if cfg.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("TLS key pair: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if cfg.tlsClientCA != "" {
		pemBytes, err := os.ReadFile(cfg.tlsClientCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificates", cfg.tlsClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}
