package main

import (
	"log/slog"
	"runtime/debug"
)

// defaultGCPercent is serve's heap growth between collections. The server's live heap is small (caches
// of a few MB and the requests in flight) while it allocates for every request, so at the runtime's
// default of 100 it collects hundreds of times a second under load; at 400 it collects a quarter as
// often for some tens of MB more heap. docs/BENCHMARKS.md has the measurement.
const defaultGCPercent = 400

// minMemoryLimit is the least soft memory limit setGCPercent sets.
const minMemoryLimit = 256 << 20

// setGCPercent applies --gc-percent unless the environment's GOGC has already set the collector's
// target, which is then left as the runtime read it. A heap of requests in flight as large as
// memoryBudget (--memory-budget) must not grow to five times its size before a collection: unless
// GOMEMLIMIT is set, the heap is held to twice the budget (a soft limit: the collector runs earlier near
// it), which is where the runtime's default target would have put it.
func setGCPercent(percent int, memoryBudget int64, getenv func(string) string, log *slog.Logger) {
	if v := getenv("GOGC"); v != "" {
		log.Debug("GOGC is set: --gc-percent ignored", "GOGC", v)
		return
	}
	debug.SetGCPercent(percent)
	if getenv("GOMEMLIMIT") == "" && memoryBudget > 0 {
		debug.SetMemoryLimit(max(2*memoryBudget, minMemoryLimit))
	}
}
