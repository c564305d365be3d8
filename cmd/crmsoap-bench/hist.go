package main

import (
	"math/bits"
	"time"
)

// histogram is a log-linear latency histogram in nanoseconds: 64 linear
// sub-buckets per power of two (below 1% error), a fixed array so that
// recording never allocates. Each worker owns one; they are merged at the end.
type histogram struct {
	counts [histBuckets]uint32
	n      int64
}

const (
	histSub     = 64 // sub-buckets per power of two
	histBuckets = 41 * histSub
)

func bucket(ns uint64) int {
	if ns < 2*histSub {
		return int(ns)
	}
	shift := bits.Len64(ns) - 7 // ns>>shift falls in [64, 128)
	i := shift*histSub + int(ns>>shift)
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketValue is the middle of bucket i, in nanoseconds.
func bucketValue(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	m := uint64(i - shift*histSub)
	return m<<shift + (uint64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the latency below which a fraction q of the samples fall
// (0 when there are none).
func (h *histogram) quantile(q float64) time.Duration {
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
			return time.Duration(bucketValue(i))
		}
	}
	return time.Duration(bucketValue(histBuckets - 1))
}
