package wssec

import (
	"context"
	"runtime"
	"testing"
)

// The counted work treats a namespace probe, an attribute read and a canonical byte alike, but they do
// not cost alike: a probe that inserts into a map, or an attribute copied into a sortable record, costs a
// hundred times what a byte written to a hash does. Heap allocation catches those paths, so the cost model
// also bounds the bytes one verification allocates, per byte sent, against an honest request of the same
// size (same maxGrowth and maxHostileFactor), with allocSlack for the fixed part of a verification.
const allocSlack = 16 << 10

// allocatedBy is the number of heap bytes verifying text allocates (the document is parsed before).
func allocatedBy(tb testing.TB, text string) uint64 {
	tb.Helper()
	doc := parseDoc(tb, text)
	v := testVerifier(tb, nil)
	w := newWork(context.Background())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _ = v.verify(w, doc, testNow)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

var honestAllocCache = map[int]float64{}

// honestAllocPerByte is the heap bytes per request byte of an honest signed request of about size bytes.
func honestAllocPerByte(tb testing.TB, size int) float64 {
	tb.Helper()
	base := len(honestRequest(tb, 0))
	n := max(0, (size-base)/30)
	if v, ok := honestAllocCache[n]; ok {
		return v
	}
	text := honestRequest(tb, n)
	v := float64(allocatedBy(tb, text)) / float64(len(text))
	honestAllocCache[n] = v
	return v
}

func TestVerifyCost_Allocations(t *testing.T) {
	for _, f := range costFamilies() {
		t.Run(f.name, func(t *testing.T) {
			if f.allocSkip != "" && !*costSkipped {
				t.Skip(f.allocSkip)
			}
			small, large := f.build(t, f.n), f.build(t, 2*f.n)
			a1, a2 := allocatedBy(t, small), allocatedBy(t, large)
			perByte := float64(a2) / float64(len(large))
			honest := honestAllocPerByte(t, len(large))
			t.Logf("n=%d: %d bytes sent, %d allocated; 2n: %d sent, %d allocated, %.2f per byte (honest %.2f: %.1fx)",
				f.n, len(small), a1, len(large), a2, perByte, honest, perByte/honest)
			if float64(a2) > maxGrowth*float64(a1)+allocSlack {
				t.Errorf("doubling %s multiplies the allocation by %.2f (> %.1f)", f.name, float64(a2)/float64(a1), maxGrowth)
			}
			if float64(a2) > maxHostileFactor*honest*float64(len(large))+allocSlack {
				t.Errorf("%.2f bytes allocated per byte sent is %.1f times an honest request's %.2f (> %.0fx)",
					perByte, perByte/honest, honest, maxHostileFactor)
			}
		})
	}
}
