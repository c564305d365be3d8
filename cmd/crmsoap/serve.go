package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/soap"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl"
)

// soapPath is where the SOAP endpoint and its WSDL (?wsdl) are served.
const soapPath = "/soap"

type serveConfig struct {
	addr, db                  string
	logFormat, logLevel       string
	maxBodyBytes              int64
	maxDepth                  int
	trustProxy                bool
	readHeaderTimeout         time.Duration
	readTimeout, writeTimeout time.Duration
	idleTimeout               time.Duration
	shutdownTimeout           time.Duration
}

func (m *Main) serveFlags(args []string) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	e := &envFlags{fs: fs, getenv: m.Getenv}
	e.String(&c.addr, "addr", "CRMSOAP_ADDR", "127.0.0.1:8080", "listen address HOST:PORT")
	e.String(&c.db, "db", "CRMSOAP_DB", "./crm.db", "SQLite database file (created if missing)")
	e.String(&c.logFormat, "log-format", "CRMSOAP_LOG_FORMAT", "text", "log format: text or json")
	e.String(&c.logLevel, "log-level", "CRMSOAP_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	e.Int64(&c.maxBodyBytes, "max-body-bytes", "CRMSOAP_MAX_BODY_BYTES", 4<<20, "largest request body accepted")
	e.Int(&c.maxDepth, "max-depth", "CRMSOAP_MAX_DEPTH", 64, "deepest XML element nesting accepted")
	e.Bool(&c.trustProxy, "trust-proxy", "CRMSOAP_TRUST_PROXY", false, "trust X-Forwarded-Proto/Host for the WSDL's address")
	e.Duration(&c.readHeaderTimeout, "read-header-timeout", "CRMSOAP_READ_HEADER_TIMEOUT", 10*time.Second, "time to read request headers")
	e.Duration(&c.readTimeout, "read-timeout", "CRMSOAP_READ_TIMEOUT", 30*time.Second, "time to read a whole request")
	e.Duration(&c.writeTimeout, "write-timeout", "CRMSOAP_WRITE_TIMEOUT", 30*time.Second, "time to handle a request and write the response")
	e.Duration(&c.idleTimeout, "idle-timeout", "CRMSOAP_IDLE_TIMEOUT", 120*time.Second, "keep-alive idle time")
	e.Duration(&c.shutdownTimeout, "shutdown-timeout", "CRMSOAP_SHUTDOWN_TIMEOUT", 30*time.Second, "time to finish in-flight requests on SIGINT/SIGTERM")
	if err := e.parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

// serve runs the SOAP server until ctx is cancelled, then drains in-flight
// requests and closes the database.
func (m *Main) serve(ctx context.Context, args []string) error {
	cfg, err := m.serveFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(m.Stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.db, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()

	svc := service.New(db)
	svc.Log = log
	svc.Caller = wsdl.Caller
	handler, err := soap.NewHandler(soap.Config{
		WSDL:         wsdl.Document,
		Operations:   wsdl.Operations(svc),
		Detail:       wsdl.FaultDetail,
		Scalars:      wsdl.Scalars,
		MaxBodyBytes: cfg.maxBodyBytes,
		MaxDepth:     cfg.maxDepth,
		TrustProxy:   cfg.trustProxy,
		Logger:       log,
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(soapPath, handler)

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.readHeaderTimeout,
		ReadTimeout:       cfg.readTimeout,
		WriteTimeout:      cfg.writeTimeout,
		IdleTimeout:       cfg.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+soapPath,
		"wsdl", "http://"+ln.Addr().String()+soapPath+"?wsdl", "db", cfg.db, "version", version)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown incomplete", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	log.Info("stopped")
	return nil
}
