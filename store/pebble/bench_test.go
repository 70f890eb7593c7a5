package pebble_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// Benchmarks use storetest.Message: 13 parameters, 285 bytes encoded, 345 as
// JSON. Every append is synced (a nil error means durable).

func openBench(b *testing.B, dir string) *pebble.DB {
	b.Helper()
	db, err := pebble.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// msgsPerSec reports wall-clock throughput, and the process CPU time per
// message (all goroutines, pebble's included) since cpuStart: on a shared,
// overloaded machine the second says what the code costs.
func msgsPerSec(b *testing.B, n int64, cpuStart time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(cputime.Process()-cpuStart)/float64(n), "cpu-ns/msg")
}

// 64 goroutines each appending one message per call: throughput comes from
// sharing fsyncs.
func BenchmarkAppendConcurrent64(b *testing.B) {
	db := openBench(b, b.TempDir())
	ctx := context.Background()
	var id atomic.Int64
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	b.RunParallel(func(pb *testing.PB) {
		g := int(id.Add(1))
		msgs := []protocol.Message{storetest.Message("35630704244"+strconv.Itoa(1000+g), 1.7e9, g)}
		for pb.Next() {
			if _, err := db.Log().Append(ctx, msgs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	msgsPerSec(b, int64(b.N), cpu)
}

// One goroutine appending one message at a time: the latency of a synced
// append, which group commit must not lengthen for a lone appender.
func BenchmarkAppendSerial(b *testing.B) {
	db := openBench(b, b.TempDir())
	ctx := context.Background()
	msgs := []protocol.Message{storetest.Message("356307042441013", 1.7e9, 1)}
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := db.Log().Append(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	msgsPerSec(b, int64(b.N), cpu)
}

// One goroutine appending batches of 100.
func BenchmarkAppendBatch100(b *testing.B) {
	db := openBench(b, b.TempDir())
	ctx := context.Background()
	msgs := make([]protocol.Message, 100)
	for i := range msgs {
		msgs[i] = storetest.Message("356307042441013", 1.7e9+float64(i), i)
	}
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := db.Log().Append(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	msgsPerSec(b, int64(b.N)*100, cpu)
}

var (
	readOnce sync.Once
	readDB   *pebble.DB
	readDir  string
	readDisk int64 // bytes of the log's tables once filled
)

// tableBytes sums the sizes of pebble's table files under dir.
func tableBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".sst") {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func TestMain(m *testing.M) {
	code := m.Run()
	if readDB != nil {
		readDB.Close()
		os.RemoveAll(readDir)
	}
	os.Exit(code)
}

func fillLog(b *testing.B, db *pebble.DB, n int) {
	ctx := context.Background()
	msgs := make([]protocol.Message, 1000)
	for i := 0; i < n; i += len(msgs) {
		for j := range msgs {
			// 1000 devices interleaved, as a busy channel's log is: no
			// two consecutive records share an ident.
			msgs[j] = storetest.Message(fmt.Sprintf("3563070424%05d", (i+j)%1000), 1.7e9+float64(i+j), i+j)
		}
		if _, err := db.Log().Append(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
}

// A consumer reading the log in pages of 1000 decoded records; one op is one
// message. "into" reuses one page of records (Log.ReadInto), as a consumer
// should; "alloc" gets fresh records from Log.Read.
func BenchmarkConsumerRead(b *testing.B) {
	const stored = 200_000
	// Filled once per process: the benchmark function runs several times.
	readOnce.Do(func() {
		dir, err := os.MkdirTemp("", "storebench")
		if err != nil {
			b.Fatal(err)
		}
		readDir = dir
		readDB, err = pebble.Open(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		fillLog(b, readDB, stored)
		readDisk = tableBytes(filepath.Join(dir, "log"))
	})
	l := readDB.Log()
	ctx := context.Background()
	for _, into := range []bool{true, false} {
		name := "alloc"
		if into {
			name = "into"
		}
		b.Run(name, func(b *testing.B) {
			page := make([]store.Record, 1000)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cputime.Process()
			next := uint64(1)
			for read := 0; read < b.N; {
				var n int
				var err error
				if into {
					n, err = l.ReadInto(ctx, next, page[:min(len(page), b.N-read)])
				} else {
					var recs []store.Record
					recs, err = l.Read(ctx, next, min(1000, b.N-read))
					n = len(recs)
				}
				if err != nil || n == 0 {
					b.Fatal(n, err)
				}
				read += n
				next += uint64(n)
				if next > stored {
					next = 1
				}
			}
			msgsPerSec(b, int64(b.N), cpu)
			reportMemory(b)
			b.ReportMetric(float64(readDisk)/(1<<20), "tables-MB")
		})
	}
}

// reportMemory reports the Go heap in use and the process's resident set:
// both should stay flat whatever the store's size.
func reportMemory(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			var kb int
			if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
				b.ReportMetric(float64(kb)/1024, "rss-MB")
			}
		}
	}
}

// A history query returning 1000 messages of one device out of a store of
// `stored` messages (2000 per device, devices interleaved in time as real
// traffic is). The key layout (device, then time) makes the query a
// seek plus 1000 sequential reads: its cost should not grow with stored.
// GNSSGATE_STORE_BENCH_HISTORY sets the store sizes (comma-separated;
// default "100000,1000000"); 10 million takes minutes to fill.
func BenchmarkHistoryQuery1000(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
	if env := os.Getenv("GNSSGATE_STORE_BENCH_HISTORY"); env != "" {
		sizes = nil
		var n int
		for _, f := range splitComma(env) {
			if _, err := fmt.Sscan(f, &n); err == nil && n > 0 {
				sizes = append(sizes, n)
			}
		}
	}
	for _, stored := range sizes {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			// Every device has 2000 messages; a bigger store has more
			// devices, interleaved in time as real traffic is.
			const perDevice = 2000
			devices := stored / perDevice
			db := openBench(b, b.TempDir())
			ctx := context.Background()
			start := time.Now()
			msgs := make([]protocol.Message, 0, 1000)
			for t := 0; t < perDevice; t++ {
				for d := 0; d < devices; d++ {
					msgs = append(msgs, storetest.Message(fmt.Sprintf("dev%06d", d), 1.7e9+float64(t), t))
					if len(msgs) == cap(msgs) {
						if err := db.Messages().Store(ctx, msgs); err != nil {
							b.Fatal(err)
						}
						msgs = msgs[:0]
					}
				}
			}
			b.Logf("filled %d messages in %v", stored, time.Since(start).Round(time.Millisecond))
			q := store.Query{From: 1.7e9 + float64(perDevice/2-500), Count: 1000}
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				got, err := db.Messages().Query(ctx, fmt.Sprintf("dev%06d", i%devices), q)
				if err != nil || len(got) != 1000 {
					b.Fatalf("query returned %d messages, %v", len(got), err)
				}
				i += 7
			}
			reportMemory(b)
		})
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// BenchmarkTelemetryUpdate: the history writer's telemetry merge of a
// batch of 200 messages of 200 devices (storetest.Message, 13 parameters,
// most of them changed by every message), synced; per message, pebble's
// flushes and compactions included in cpu-ns/msg.
func BenchmarkTelemetryUpdate(b *testing.B) {
	db := openBench(b, b.TempDir())
	ctx := context.Background()
	const devices = 200
	batch := make([]protocol.Message, devices)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := range b.N {
		for d := range batch {
			batch[d] = storetest.Message("35630704244"+strconv.Itoa(1000+d), 1.7e9+float64(i), i)
		}
		if err := db.Telemetry().Update(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	msgsPerSec(b, int64(b.N)*devices, cpu)
}
