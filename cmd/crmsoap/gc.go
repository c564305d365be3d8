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

// setGCPercent applies --gc-percent unless the environment's GOGC (goenv) has already set the
// collector's target, which is then left as the runtime read it.
func setGCPercent(percent int, goenv string, log *slog.Logger) {
	if goenv != "" {
		log.Debug("GOGC is set: --gc-percent ignored", "GOGC", goenv)
		return
	}
	debug.SetGCPercent(percent)
}
