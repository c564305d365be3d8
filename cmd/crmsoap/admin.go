package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/soap"
	"github.com/crmsoap/crmsoap/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series the server exports on the admin listener.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	security  *prometheus.CounterVec
	inFlight  prometheus.Gauge
	dbErrors  prometheus.Counter
	bytesIn   prometheus.Counter
	bytesOut  prometheus.Counter
	shedTotal prometheus.Counter
	signed    prometheus.Counter
	lowStock  prometheus.Gauge
	orders    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmsoap_requests_total", Help: "SOAP requests by operation and outcome (ok or fault code).",
		}, []string{"operation", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "crmsoap_request_duration_seconds",
			Help:    "Time from request received to response written, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		security: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmsoap_security_failures_total", Help: "Requests refused by the WS-Security checks, by reason.",
		}, []string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "crmsoap_requests_in_flight", Help: "SOAP requests being handled now.",
		}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crmsoap_database_errors_total", Help: "Unexpected database failures (each answered with an INTERNAL fault).",
		}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crmsoap_request_bytes_total", Help: "Request body bytes read.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crmsoap_response_bytes_total", Help: "Response body bytes written.",
		}),
		shedTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crmsoap_requests_shed_total", Help: "Requests refused with 503 because the server was at a limit (in flight, uploads, memory).",
		}),
		signed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crmsoap_responses_signed_total", Help: "Responses and faults signed with --sign-key (only for requests that passed the security checks).",
		}),
		lowStock: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "crmsoap_products_low_stock", Help: "Active products whose stock is at or below their low-stock threshold (refreshed every --low-stock-interval).",
		}),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmsoap_orders_total", Help: "Orders placed (PLACED) and moved to another status, by resulting status.",
		}, []string{"status"}),
	}
	for _, st := range []string{service.StatusPlaced, service.StatusPaid, service.StatusShipped, service.StatusDelivered, service.StatusCancelled} {
		m.orders.WithLabelValues(st)
	}
	m.registry.MustRegister(m.requests, m.latency, m.security, m.inFlight, m.dbErrors, m.bytesIn, m.bytesOut, m.shedTotal, m.signed,
		m.lowStock, m.orders,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// readiness reports whether the server can take traffic.
type readiness struct {
	shuttingDown atomic.Bool
	check        func(context.Context) error // database reachable, migrations applied
}

// adminHandler serves /metrics, /healthz, /readyz and /debug/pprof/.
func adminHandler(m *metrics, ready *readiness, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ready.shuttingDown.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready.check(ctx); err != nil {
			log.Warn("not ready", "err", err)
			http.Error(w, "database not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// startAdmin listens on addr and serves the admin handler until ctx ends.
func startAdmin(addr string, h http.Handler, log *slog.Logger) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	return srv, ln, nil
}

// Begin counts a request in flight (soap.Observer).
func (m *metrics) Begin() { m.inFlight.Inc() }

// End records a finished request (soap.Observer).
func (m *metrics) End(o soap.Observation) {
	m.inFlight.Dec()
	op := o.Operation
	if op == "" {
		op = "none"
	}
	m.requests.WithLabelValues(op, o.Outcome).Inc()
	m.latency.WithLabelValues(op).Observe(o.Duration.Seconds())
	m.bytesIn.Add(float64(o.BytesIn))
	m.bytesOut.Add(float64(o.BytesOut))
	if o.SecurityFailure != "" {
		m.security.WithLabelValues(o.SecurityFailure).Inc()
	}
	if o.Outcome == soap.CodeUnavailable {
		m.shedTotal.Inc()
	}
	if o.Signed {
		m.signed.Inc()
	}
}

// refreshLowStock sets the low-stock gauge from db now and then every interval until ctx ends. A
// backend without products (errors.ErrUnsupported) leaves the gauge alone; other failures are logged
// and retried at the next tick.
func (m *metrics) refreshLowStock(ctx context.Context, db store.ProductStore, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := db.CountLowStockProducts(ctx)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			return
		case err != nil && ctx.Err() == nil:
			log.Warn("low-stock count", "err", err)
		case err == nil:
			m.lowStock.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
