package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"testing"
)

func TestSetGCPercent(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	limitBefore := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(limitBefore)
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	setGCPercent(250, 1<<30, env(nil), log)
	if got := debug.SetGCPercent(100); got != 250 {
		t.Errorf("--gc-percent 250 without GOGC: the collector's target is %d, want 250", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 2<<30 {
		t.Errorf("--memory-budget 1 GiB: soft memory limit %d, want 2 GiB", got)
	}

	debug.SetMemoryLimit(limitBefore)
	setGCPercent(250, 1<<30, env(map[string]string{"GOGC": "50"}), log)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("--gc-percent 250 with GOGC=50: the target became %d, want it left at 100", got)
	}
	setGCPercent(250, 1<<30, env(map[string]string{"GOMEMLIMIT": "1GiB"}), log)
	if got := debug.SetMemoryLimit(-1); got != limitBefore {
		t.Errorf("with GOMEMLIMIT set: soft memory limit %d, want it left at %d", got, limitBefore)
	}
}

func TestServeFlags_GCPercent(t *testing.T) {
	m := &Main{Stderr: io.Discard, Getenv: func(string) string { return "" }}
	cfg, err := m.serveFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.gcPercent != defaultGCPercent {
		t.Errorf("default --gc-percent %d, want %d", cfg.gcPercent, defaultGCPercent)
	}
	for _, bad := range []string{"0", "-2"} {
		_, err := m.serveFlags([]string{"--gc-percent", bad})
		if err == nil || !strings.Contains(err.Error(), "--gc-percent "+bad) {
			t.Errorf("--gc-percent %s: %v, want an error naming it", bad, err)
		}
	}
	if cfg, err := m.serveFlags([]string{"--gc-percent", "-1"}); err != nil || cfg.gcPercent != -1 {
		t.Errorf("--gc-percent -1 (off): %d, %v", cfg.gcPercent, err)
	}
}
