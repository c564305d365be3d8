package main

import (
	"math/bits"
	"time"
)

// benchHist is a log-linear latency histogram in nanoseconds: 64 linear
// sub-buckets per power of two (below 1% error), a fixed array so that
// recording never allocates. Each worker owns one; they are merged at the end.
type benchHist struct {
	counts [benchHistBuckets]uint32
	n      int64
}

const (
	benchHistSub     = 64 // sub-buckets per power of two
	benchHistBuckets = 41 * benchHistSub
)

func benchBucket(ns uint64) int {
	if ns < 2*benchHistSub {
		return int(ns)
	}
	shift := bits.Len64(ns) - 7 // ns>>shift falls in [64, 128)
	i := shift*benchHistSub + int(ns>>shift)
	if i >= benchHistBuckets {
		return benchHistBuckets - 1
	}
	return i
}

// benchBucketValue is the middle of bucket i, in nanoseconds.
func benchBucketValue(i int) uint64 {
	if i < 2*benchHistSub {
		return uint64(i)
	}
	shift := i/benchHistSub - 1
	m := uint64(i - shift*benchHistSub)
	return m<<shift + (uint64(1)<<shift)/2
}

func (h *benchHist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[benchBucket(uint64(d))]++
	h.n++
}

func (h *benchHist) merge(o *benchHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the latency below which a fraction q of the samples fall
// (0 when there are none).
func (h *benchHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			return time.Duration(benchBucketValue(i))
		}
	}
	return time.Duration(benchBucketValue(benchHistBuckets - 1))
}
