// Package latency records durations in a fixed-size histogram for load
// generators: recording is lock-free and never allocates, so a run of
// millions of samples costs the same memory as a run of ten, and
// quantiles are within 3 % of the true value.
//
//	var h latency.Histogram
//	h.Record(time.Since(sent))           // from any goroutine
//	prev := h.Snapshot()                 // later: what the last second saw
//	now := h.Snapshot()
//	fmt.Println(now.Sub(prev).Quantile(0.99), now.Quantile(0.5), now.Max())
package latency

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Buckets are log-linear in microseconds: values below 2^subBits µs have a
// bucket each; above, every power of two is cut into 2^subBits equal
// buckets, so a bucket is at most 1/16 of its value wide and its middle
// within 3.1 % of any value in it.
const (
	subBits = 4
	sub     = 1 << subBits
	buckets = (64 - subBits) * sub
)

// Histogram is a set of durations. The zero value is empty and ready to
// use; it is safe for concurrent use and must not be copied after first
// use.
type Histogram struct {
	counts [buckets]atomic.Uint64
	max    atomic.Int64
}

func bucket(us uint64) int {
	if us < sub {
		return int(us)
	}
	shift := bits.Len64(us) - 1 - subBits
	return (shift+1)*sub + int(us>>uint(shift)&(sub-1))
}

// bounds returns the smallest value of bucket b and the smallest of the
// next, in microseconds.
func bounds(b int) (lo, hi uint64) {
	if b < sub {
		return uint64(b), uint64(b) + 1
	}
	shift := uint(b/sub - 1)
	lo = (sub + uint64(b%sub)) << shift
	return lo, lo + 1<<shift
}

// Record adds d; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	h.counts[min(bucket(uint64(d/time.Microsecond)), buckets-1)].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Snapshot copies the histogram's state. Samples recorded during the copy
// may or may not be in it.
func (h *Histogram) Snapshot() *Snapshot {
	s := &Snapshot{max: time.Duration(h.max.Load())}
	for i := range h.counts {
		c := h.counts[i].Load()
		s.counts[i] = c
		s.n += c
	}
	return s
}

// Snapshot is a histogram's state at one moment, or the difference of two
// ([Snapshot.Sub]). Its methods do not modify it.
type Snapshot struct {
	counts [buckets]uint64
	n      uint64
	max    time.Duration
}

// Count returns the number of samples.
func (s *Snapshot) Count() uint64 { return s.n }

// Max returns the largest sample: exact for a histogram's snapshot, the
// upper bound of the highest non-empty bucket for a difference.
func (s *Snapshot) Max() time.Duration { return s.max }

// Sub returns the samples recorded between prev and s, two snapshots of
// one histogram, prev the earlier.
func (s *Snapshot) Sub(prev *Snapshot) *Snapshot {
	d := &Snapshot{}
	top := -1
	for i := range s.counts {
		c := s.counts[i] - min(prev.counts[i], s.counts[i])
		d.counts[i] = c
		d.n += c
		if c > 0 {
			top = i
		}
	}
	if top >= 0 {
		_, hi := bounds(top)
		d.max = min(time.Duration(hi)*time.Microsecond, s.max)
	}
	return d
}

// Quantile returns the q-quantile (0 < q ≤ 1) as the middle of the bucket
// that holds it, never above Max; 0 when there are no samples.
func (s *Snapshot) Quantile(q float64) time.Duration {
	if s.n == 0 {
		return 0
	}
	rank := max(uint64(q*float64(s.n)+0.5), 1)
	var seen uint64
	for b, c := range s.counts {
		if seen += c; seen >= rank {
			lo, hi := bounds(b)
			if b < sub {
				return min(time.Duration(lo)*time.Microsecond, s.max)
			}
			return min(time.Duration(lo+hi)*time.Microsecond/2, s.max)
		}
	}
	return s.max
}

// Millis is d in milliseconds with microsecond precision: how summaries
// report latencies.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
