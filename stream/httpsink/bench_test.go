package httpsink_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/store/storetest"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/httpsink"
)

// countingReceiver accepts every POST and counts its messages from the ids
// header without decoding the body, so that the benchmark measures the
// stream and the sink, not a JSON parser in the same process.
type countingReceiver struct{ n atomic.Int64 }

func (c *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	c.n.Add(countIDs(r.Header.Get(httpsink.IDHeader)))
	w.WriteHeader(http.StatusNoContent)
}

// countIDs counts the ids of a compact "<log>:a-b,c" list.
func countIDs(s string) int64 {
	_, ranges, _ := strings.Cut(s, ":")
	var n int64
	for _, r := range strings.Split(ranges, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		if !isRange {
			n++
			continue
		}
		a, _ := strconv.ParseInt(lo, 10, 64)
		b, _ := strconv.ParseInt(hi, 10, 64)
		n += b - a + 1
	}
	return n
}

// fillLog appends n storetest messages (13 parameters, 345 bytes of JSON).
func fillLog(b *testing.B, db *pebble.DB, n int) {
	ctx := context.Background()
	batch := make([]protocol.Message, 0, 1000)
	for i := 0; i < n; i++ {
		batch = append(batch, storetest.Message("35630704244"+strconv.Itoa(1000+i%50), 1.7e9+float64(i), i))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := db.Log().Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// drain streams everything the log holds to rc and returns when the
// receiver has all of it (want messages).
func drain(b *testing.B, db *pebble.DB, url string, rc *countingReceiver, want int64, watch func()) {
	sink, err := httpsink.New(&httpsink.Config{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, _ := stream.New(db.Log(), sink, &stream.Config{Name: "bench", StartAt: stream.StartOldest, MaxBatch: 1000, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for rc.n.Load() < want {
		if watch != nil {
			watch()
		}
		time.Sleep(time.Millisecond)
	}
	// The last batch's commit follows its answer.
	for next, _ := db.Log().Cursor(ctx, s.Consumer()); next <= uint64(want); next, _ = db.Log().Cursor(ctx, s.Consumer()) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}

// BenchmarkHTTPFromPebble: the whole path of a stream, from a log on disk
// to an HTTP receiver on loopback — read, convert to JSON, POST 1,000
// messages per request, commit — per message.
func BenchmarkHTTPFromPebble(b *testing.B) {
	db, err := pebble.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fillLog(b, db, b.N)
	rc := &countingReceiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	drain(b, db, srv.URL, rc, int64(b.N), nil)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/msg")
}

// BenchmarkCatchUp: a target that was down while 1,000,000 messages
// accumulated comes back; the stream drains them at full rate with bounded
// memory. Reports the drain rate and the peak RSS during the drain next to
// the RSS before it. One iteration is the whole million.
func BenchmarkCatchUp(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		b.StopTimer()
		db, err := pebble.Open(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		fillLog(b, db, n)
		rc := &countingReceiver{}
		srv := httptest.NewServer(rc)
		runtime.GC()
		before := rssBytes()
		peak := before
		b.StartTimer()
		start := time.Now()
		drain(b, db, srv.URL, rc, n, func() { peak = max(peak, rssBytes()) })
		rate := float64(n) / time.Since(start).Seconds()
		b.StopTimer()
		srv.Close()
		db.Close()
		b.ReportMetric(rate, "msgs/s")
		b.ReportMetric(float64(before)/(1<<20), "rss-before-MiB")
		b.ReportMetric(float64(peak)/(1<<20), "rss-peak-MiB")
	}
}

// rssBytes reads the process's resident set size from /proc.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
