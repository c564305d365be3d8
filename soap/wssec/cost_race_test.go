//go:build race

package wssec

// raceEnabled: the race detector makes sync.Pool drop items and instruments memory, so allocation counts
// are not meaningful.
const raceEnabled = true
