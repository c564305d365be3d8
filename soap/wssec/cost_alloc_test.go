package wssec

import (
	"context"
	"math"
	"runtime"
	"testing"

	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// The counted work treats a namespace probe, an attribute read and a canonical byte alike, but they do
// not cost alike: a probe that inserts into a map, or an attribute copied into a sortable record, costs a
// hundred times what a byte written to a hash does. Heap allocation catches those paths, so the cost model
// also bounds the bytes one verification allocates per byte sent (same maxGrowth), with allocSlack for the
// fixed part of a verification.
//
// The level is set by what an honest request of the same size costs the server in memory: parsing it (with
// package soap's parser) and verifying it. Verifying alone is no yardstick: it allocates a constant for an
// honest request (its scopes and scratch are sized once, for the largest element), so any structure linear
// in what it indexes, such as one entry per wsu:Id, would exceed a multiple of it. A hostile request may
// make verification allocate, per byte sent, at most maxAllocFactor times that honest cost: verification
// then at most doubles what accepting the request costs. (Rebuilding the declarations in scope from the
// root at every lookup allocated 130 bytes per byte sent, copying attributes into sortable records 31;
// an honest request costs about 20.)
const (
	allocSlack     = 16 << 10
	maxAllocFactor = 1.0
)

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

// honestAllocPerByte is the heap bytes per request byte that parsing (xmlparse, as package soap does) and
// verifying an honest signed request of about size bytes allocate.
func honestAllocPerByte(tb testing.TB, size int) float64 {
	tb.Helper()
	base := len(honestRequest(tb, 0))
	n := max(0, (size-base)/30)
	if v, ok := honestAllocCache[n]; ok {
		return v
	}
	text := []byte(honestRequest(tb, n))
	if _, err := xmlparse.Parse(text, math.MaxInt, math.MaxInt); err != nil { // warm the parser's pool
		tb.Fatal(err)
	}
	v := testVerifier(tb, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	doc, err := xmlparse.Parse(text, math.MaxInt, math.MaxInt)
	if err == nil {
		_, err = v.verify(newWork(context.Background()), doc, testNow)
	}
	runtime.ReadMemStats(&after)
	if err != nil {
		tb.Fatalf("honest request of %d items: %v", n, err)
	}
	perByte := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(text))
	honestAllocCache[n] = perByte
	return perByte
}

func TestVerifyCost_Allocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
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
			if float64(a2) > maxAllocFactor*honest*float64(len(large))+allocSlack {
				t.Errorf("%.2f bytes allocated per byte sent is %.1f times what an honest request costs to parse and verify, %.2f (> %.0fx)",
					perByte, perByte/honest, honest, maxAllocFactor)
			}
		})
	}
}
