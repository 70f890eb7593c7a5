package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram records latencies in log-linear buckets: 16 linear sub-buckets
// per power of two of microseconds, so quantiles are within about 6 %. It
// is safe for concurrent use and never allocates after creation: a fan-out
// run records a million samples without keeping them.
type histogram struct {
	counts [64 * subBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const subBits = 4
const subBuckets = 1 << subBits

func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - 1 - subBits // ≥ 0
	sub := (us >> uint(exp)) & (subBuckets - 1)
	return (exp+1)*subBuckets + int(sub)
}

// lowerBound is the smallest value in bucket b, in microseconds.
func lowerBound(b int) uint64 {
	if b < subBuckets {
		return uint64(b)
	}
	exp := b/subBuckets - 1
	sub := uint64(b % subBuckets)
	return (subBuckets + sub) << uint(exp)
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0 // clocks of one machine; guards against a skewed remote sender
	}
	us := uint64(d / time.Microsecond)
	b := bucketOf(us)
	if b >= len(h.counts) {
		b = len(h.counts) - 1
	}
	h.counts[b].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

// quantile returns the q-quantile (0 < q ≤ 1): the middle of its bucket.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			lo, hi := lowerBound(b), lowerBound(b+1)
			mid := time.Duration((lo+hi)/2) * time.Microsecond
			return min(mid, time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}
