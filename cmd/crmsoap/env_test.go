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

func TestServeFlags_UploadAndMemoryLimits(t *testing.T) {
	env := map[string]string{
		"CRMSOAP_MAX_UPLOADS":     "10",
		"CRMSOAP_MIN_UPLOAD_RATE": "2048",
		"CRMSOAP_UPLOAD_GRACE":    "2s",
		"CRMSOAP_MEMORY_BUDGET":   "536870912",
	}
	m := &Main{Stderr: io.Discard, Getenv: func(k string) string { return env[k] }}
	cfg, err := m.serveFlags([]string{"--max-uploads", "20"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.maxUploads != 20 || cfg.minUploadRate != 2048 || cfg.uploadGrace != 2*time.Second || cfg.memoryBudget != 512<<20 {
		t.Errorf("config %+v: want --max-uploads 20 and the rest from the environment", cfg)
	}
	cfg, err = (&Main{Stderr: io.Discard, Getenv: func(string) string { return "" }}).serveFlags(nil)
	if err != nil || cfg.maxUploads != 1024 || cfg.memoryBudget != 1<<30 || cfg.minUploadRate <= 0 || cfg.uploadGrace <= 0 {
		t.Errorf("defaults %+v (%v): want 1024 uploads, a 1 GiB budget and a minimum upload rate", cfg, err)
	}
	if _, err := m.serveFlags([]string{"--memory-budget", "-1"}); err == nil {
		t.Errorf("a negative --memory-budget was accepted")
	}
	// A budget that cannot hold one largest request is refused at start.
	out, err := run(t, "serve", "--insecure-no-auth", "--addr", "127.0.0.1:0", "--admin-addr", "", "--db",
		t.TempDir()+"/crm.db", "--memory-budget", "1048576")
	if err == nil || !strings.Contains(out, "--memory-budget 1048576 cannot hold") {
		t.Errorf("serve with a 1 MiB budget: %v\n%s\nwant a start-up error naming the budget", err, out)
	}
}
