package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestServeFlags_EnvironmentAndFlags(t *testing.T) {
	env := map[string]string{
		"CRMSOAP_ADDR":           "0.0.0.0:9999",
		"CRMSOAP_DB":             "/var/lib/crm.db",
		"CRMSOAP_MAX_BODY_BYTES": "1024",
		"CRMSOAP_READ_TIMEOUT":   "5s",
		"CRMSOAP_TRUST_PROXY":    "true",
	}
	m := &Main{Stderr: io.Discard, Getenv: func(k string) string { return env[k] }}
	cfg, err := m.serveFlags([]string{"--addr", "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:1" || cfg.db != "/var/lib/crm.db" || cfg.maxBodyBytes != 1024 ||
		cfg.readTimeout != 5*time.Second || !cfg.trustProxy || cfg.adminAddr != "127.0.0.1:9090" {
		t.Errorf("config %+v: want the flag over the environment, the environment over defaults", cfg)
	}
	env["CRMSOAP_READ_TIMEOUT"] = "soon"
	if _, err := m.serveFlags(nil); err == nil || !strings.Contains(err.Error(), "CRMSOAP_READ_TIMEOUT") {
		t.Errorf("bad environment value: %v, want an error naming CRMSOAP_READ_TIMEOUT", err)
	}
	delete(env, "CRMSOAP_READ_TIMEOUT")
	if _, err := m.serveFlags([]string{"--tls-cert", "a.pem"}); err == nil {
		t.Errorf("--tls-cert without --tls-key was accepted")
	}
}
