package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmsoap/crmsoap/cmd/internal/natssink"
	"github.com/crmsoap/crmsoap/service/push"
	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl/notify"
)

// notificationsPath serves the contract SOAP listeners implement (?wsdl).
const notificationsPath = "/soap/notifications"

// pushConfig holds the serve flags of push subscriptions.
type pushConfig struct {
	maxDeliveryAge time.Duration
	reload         time.Duration
	listenerCA     string
	timeout        time.Duration
}

func (c *pushConfig) register(e *envFlags) {
	e.Duration(&c.maxDeliveryAge, "max-delivery-age", "CRMSOAP_MAX_DELIVERY_AGE", 24*time.Hour, "how long a subscription's failing delivery is retried before it turns FAILING (it keeps its cursor)")
	e.Duration(&c.reload, "subscriptions-reload", "CRMSOAP_SUBSCRIPTIONS_RELOAD", 2*time.Second, "how often the subscriptions are reread from the database")
	e.String(&c.listenerCA, "listener-ca", "CRMSOAP_LISTENER_CA", "", "PEM CA certificates trusted for https SOAP listeners (default: the system roots)")
	e.Duration(&c.timeout, "listener-timeout", "CRMSOAP_LISTENER_TIMEOUT", notify.DefaultTimeout, "time a SOAP listener has to acknowledge a batch")
}

func (c *pushConfig) check() error {
	if c.maxDeliveryAge <= 0 || c.reload <= 0 || c.timeout <= 0 {
		return errors.New("serve: --max-delivery-age, --subscriptions-reload and --listener-timeout want positive durations")
	}
	return nil
}

// startPush runs the delivery of the change feed to the subscriptions until ctx ends; wait returns
// once every delivery stopped (call it after ctx ended, before closing db). A backend that keeps no
// subscriptions (push.Store) runs none, saying so.
func startPush(ctx context.Context, c pushConfig, sec securityConfig, backend store.CustomerStore, reg prometheus.Registerer, log *slog.Logger) (wait func(), err error) {
	db, ok := backend.(push.Store)
	if !ok {
		log.Warn("push subscriptions are not delivered: this database backend does not keep them")
		return func() {}, nil
	}
	signer, err := responseSigner(sec)
	if err != nil {
		return nil, err
	}
	var roots *x509.CertPool
	if c.listenerCA != "" {
		pem, err := os.ReadFile(c.listenerCA)
		if err != nil {
			return nil, fmt.Errorf("--listener-ca: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--listener-ca %s: no PEM certificate in it", c.listenerCA)
		}
	}
	obs := newPushMetrics(reg)
	e := &push.Engine{
		Store: db,
		Sinks: map[string]push.SinkFactory{
			"soap": func(s store.Subscription) (push.Sink, error) { return soapSink(s, signer, roots, c.timeout) },
			"nats": natsSink,
		},
		Observer:       obs,
		Log:            log,
		MaxDeliveryAge: c.maxDeliveryAge,
		Reload:         c.reload,
	}
	e.Sinks["postgres"] = postgresSink // the reporting database
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	return func() { <-done }, nil
}

func soapSink(s store.Subscription, signer *wssec.Signer, roots *x509.CertPool, timeout time.Duration) (push.Sink, error) {
	var cfg sinkConfig
	if err := json.Unmarshal(s.SinkConfig, &cfg); err != nil {
		return nil, fmt.Errorf("stored sink configuration: %w", err)
	}
	return notify.New(cfg.URL, signer, roots, timeout), nil
}

func natsSink(s store.Subscription) (push.Sink, error) {
	var cfg sinkConfig
	if err := json.Unmarshal(s.SinkConfig, &cfg); err != nil {
		return nil, fmt.Errorf("stored sink configuration: %w", err)
	}
	return natssink.New(cfg.URL, cfg.Stream), nil
}

// notificationsWSDL serves the listener contract at notificationsPath?wsdl.
func notificationsWSDL() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !r.URL.Query().Has("wsdl") {
			http.Error(w, "GET "+notificationsPath+"?wsdl: the contract of a notification listener", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(notify.WSDL)
	})
}

// pushMetrics are the Prometheus series of the deliveries.
type pushMetrics struct {
	lag, lagSeconds *prometheus.GaugeVec
	deliveries      *prometheus.CounterVec
	retries         *prometheus.CounterVec
}

func newPushMetrics(reg prometheus.Registerer) *pushMetrics {
	m := &pushMetrics{
		lag:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "crmsoap_subscription_lag_changes", Help: "Changes of the feed not yet acknowledged by the subscription's sink."}, []string{"subscription"}),
		lagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "crmsoap_subscription_lag_seconds", Help: "Age of the oldest change not yet acknowledged by the subscription's sink."}, []string{"subscription"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmsoap_subscription_deliveries_total", Help: "Batch deliveries by outcome (ok, error, failing)."}, []string{"subscription", "outcome"}),
		retries:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmsoap_subscription_retries_total", Help: "Deliveries retried after a failure."}, []string{"subscription"}),
	}
	reg.MustRegister(m.lag, m.lagSeconds, m.deliveries, m.retries)
	return m
}

func (m *pushMetrics) Delivered(sub, outcome string, _ int) {
	m.deliveries.WithLabelValues(sub, outcome).Inc()
}
func (m *pushMetrics) Retry(sub string, _ time.Duration) { m.retries.WithLabelValues(sub).Inc() }
func (m *pushMetrics) Lag(sub string, changes int64, age time.Duration) {
	m.lag.WithLabelValues(sub).Set(float64(changes))
	m.lagSeconds.WithLabelValues(sub).Set(age.Seconds())
}
