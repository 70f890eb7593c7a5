package latency

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prevHi := uint64(0)
	for b := range buckets - 1 {
		lo, hi := bounds(b)
		if lo != prevHi || hi <= lo {
			t.Fatalf("bucket %d: [%d, %d) after %d", b, lo, hi, prevHi)
		}
		for _, v := range []uint64{lo, hi - 1, (lo + hi) / 2} {
			if got := bucket(v); got != b {
				t.Fatalf("bucket(%d) = %d, want %d", v, got, b)
			}
		}
		if lo >= sub && float64(hi-lo)/float64(lo) > 1.0/sub+1e-12 {
			t.Fatalf("bucket %d: [%d, %d) wider than 1/%d of its value", b, lo, hi, sub)
		}
		prevHi = hi
	}
}

func TestQuantilesAgainstSorting(t *testing.T) {
	var h Histogram
	var all []time.Duration
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			var mine []time.Duration
			for range 25000 {
				// Log-normal-ish: most around a millisecond, a tail to seconds.
				d := time.Duration(float64(time.Millisecond) * (0.2 + r.ExpFloat64()*r.ExpFloat64()*2))
				h.Record(d)
				mine = append(mine, d)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	s := h.Snapshot()
	if s.Count() != uint64(len(all)) || s.Max() != all[len(all)-1] {
		t.Fatalf("count %d max %v, want %d %v", s.Count(), s.Max(), len(all), all[len(all)-1])
	}
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
		want := all[min(len(all)-1, int(q*float64(len(all))))]
		got := s.Quantile(q)
		if diff := float64(got-want) / float64(want); diff > 0.035 || diff < -0.035 {
			t.Errorf("q%.3f: %v, sorting gives %v (%.1f%%)", q, got, want, 100*diff)
		}
	}
}

func TestSub(t *testing.T) {
	var h Histogram
	for range 100 {
		h.Record(50 * time.Millisecond)
	}
	before := h.Snapshot()
	for range 100 {
		h.Record(2 * time.Millisecond)
	}
	h.Record(-time.Second)
	win := h.Snapshot().Sub(before)
	if win.Count() != 101 {
		t.Fatalf("window count %d", win.Count())
	}
	if p99 := win.Quantile(0.99); p99 < 1900*time.Microsecond || p99 > 2100*time.Microsecond {
		t.Errorf("window p99 %v, want ~2ms (the 50ms samples came before)", p99)
	}
	if m := win.Max(); m < 2*time.Millisecond || m > 2200*time.Microsecond {
		t.Errorf("window max %v", m)
	}
	if q := (&Snapshot{}).Quantile(0.5); q != 0 {
		t.Errorf("empty quantile %v", q)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := time.Duration(1)
		for pb.Next() {
			d = d*7%time.Second + time.Microsecond
			h.Record(d)
		}
	})
}
