package jetstream_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/internal/natstest"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/jetstream"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// The append benchmarks run the same load against three engines in one
// process: store/pebble (fsync per group commit), store/jetstream on one
// nats-server (R1) and on a 3-node cluster with R3 streams, the servers
// started by the benchmark on loopback ports (natstest). Messages are
// storetest.Message: 13 parameters, 285 bytes encoded.

var (
	clusterOnce sync.Once
	single      *natstest.Cluster
	triple      *natstest.Cluster
	benchN      atomic.Int64
)

type engine struct {
	name string
	open func(b *testing.B) store.Store
}

func engines(b *testing.B) []engine {
	clusterOnce.Do(func() {
		// Kept for the whole run: benchmark functions run several times.
		single = natstest.StartCluster(&keep{b}, 1)
		triple = natstest.StartCluster(&keep{b}, 3)
	})
	nats := func(c *natstest.Cluster) func(b *testing.B) store.Store {
		return func(b *testing.B) store.Store {
			name := fmt.Sprintf("bench%d", benchN.Add(1))
			s, err := jetstream.Dial(context.Background(), c.URL(), &jetstream.Options{Name: name})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				s.Close()
				destroy(b, c.URL(), name)
			})
			return s
		}
	}
	return []engine{
		{"pebble", func(b *testing.B) store.Store {
			db, err := pebble.Open(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db
		}},
		{"nats-R1", nats(single)},
		{"nats-R3", nats(triple)},
	}
}

// keep lends a testing.TB whose cleanups never run: the servers outlive
// the first benchmark that starts them and die with the process.
type keep struct{ *testing.B }

func (k *keep) Cleanup(func()) {}
func (k *keep) TempDir() string {
	dir, err := mkdirTemp()
	if err != nil {
		k.B.Fatal(err)
	}
	return dir
}

func mkdirTemp() (string, error) {
	dir, err := os.MkdirTemp("", "natsbench")
	if err == nil {
		benchDirs = append(benchDirs, dir)
	}
	return dir, err
}

var benchDirs []string

// TestMain stops the benchmarks' servers when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range []*natstest.Cluster{single, triple} {
		if c != nil {
			c.Stop()
		}
	}
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// report adds throughput, process CPU per message (nats-server's CPU is
// not in it: it is another process) and acknowledgement latency
// percentiles.
func report(b *testing.B, n int64, cpu time.Duration, lat []time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(n), "cpu-ns/msg")
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

// 64 goroutines each appending one message per call (64 tracker
// connections): throughput comes from sharing a publish (or an fsync).
func BenchmarkAppendConcurrent64(b *testing.B) {
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			l := e.open(b).Log()
			ctx := context.Background()
			var id atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			cpu := cputime.Process()
			b.RunParallel(func(pb *testing.PB) {
				g := int(id.Add(1))
				msgs := []protocol.Message{storetest.Message("35630704244"+strconv.Itoa(1000+g), 1.7e9, g)}
				var mine []time.Duration
				for pb.Next() {
					start := time.Now()
					if _, err := l.Append(ctx, msgs); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			report(b, int64(b.N), cpu, lat)
		})
	}
}

// One goroutine appending one message at a time: the latency of one
// acknowledged append.
func BenchmarkAppendSerial(b *testing.B) {
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			l := e.open(b).Log()
			ctx := context.Background()
			msgs := []protocol.Message{storetest.Message("356307042441013", 1.7e9, 1)}
			var lat []time.Duration
			cpu := cputime.Process()
			for b.Loop() {
				start := time.Now()
				if _, err := l.Append(ctx, msgs); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			report(b, int64(b.N), cpu, lat)
		})
	}
}

// One goroutine appending batches of 100.
func BenchmarkAppendBatch100(b *testing.B) {
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			l := e.open(b).Log()
			ctx := context.Background()
			msgs := make([]protocol.Message, 100)
			for i := range msgs {
				msgs[i] = storetest.Message("356307042441013", 1.7e9+float64(i), i)
			}
			cpu := cputime.Process()
			for b.Loop() {
				if _, err := l.Append(ctx, msgs); err != nil {
					b.Fatal(err)
				}
			}
			report(b, int64(b.N)*100, cpu, nil)
		})
	}
}

// A consumer reading the log in pages of 1000 records into reused records
// (ReadInto), from a store opened afresh with no message cache, so that
// every page comes from the servers, as for a consumer far behind. The log
// was filled by another store either in groups of 100 records
// ("groups100": 200,000 records, as under load) or one record per message
// ("ones": 20,000 records, as a lone appender writes).
func BenchmarkConsumerRead(b *testing.B) {
	for _, e := range engines(b)[1:] {
		for _, shape := range []struct {
			name          string
			stored, group int
		}{{"groups100", 200_000, 100}, {"ones", 20_000, 1}} {
			b.Run(e.name+"/"+shape.name, func(b *testing.B) {
				c := map[string]*natstest.Cluster{"nats-R1": single, "nats-R3": triple}[e.name]
				ctx := context.Background()
				name := filled(b, c, e.name+shape.name, shape.stored, shape.group)
				r, err := jetstream.Dial(ctx, c.URL(), &jetstream.Options{Name: name, CacheBytes: -1})
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				l := r.Log()
				page := make([]store.Record, 1000)
				b.ReportAllocs()
				b.ResetTimer()
				cpu := cputime.Process()
				next := uint64(1)
				for read := 0; read < b.N; {
					n, err := l.ReadInto(ctx, next, page[:min(len(page), b.N-read)])
					if err != nil || n == 0 {
						b.Fatal(n, err)
					}
					read += n
					next += uint64(n)
					if next > uint64(shape.stored) {
						next = 1
					}
				}
				report(b, int64(b.N), cpu, nil)
			})
		}
	}
}

var (
	fillMu sync.Mutex
	fills  = map[string]string{} // engine → store name, filled once per run
)

// filled returns the name of a store on c holding n records appended in
// batches of group (1000 devices interleaved), filling it at the first call.
func filled(b *testing.B, c *natstest.Cluster, engine string, n, group int) string {
	fillMu.Lock()
	defer fillMu.Unlock()
	if name, ok := fills[engine]; ok {
		return name
	}
	name := fmt.Sprintf("read%d", benchN.Add(1))
	ctx := context.Background()
	w, err := jetstream.Dial(ctx, c.URL(), &jetstream.Options{Name: name})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	msgs := make([]protocol.Message, group)
	for i := 0; i < n; i += len(msgs) {
		for j := range msgs {
			msgs[j] = storetest.Message("35630704244"+strconv.Itoa(1000+(i+j)%1000), 1.7e9+float64(i+j), i+j)
		}
		if _, err := w.Log().Append(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	fills[engine] = name
	return name
}

// BenchmarkTelemetryUpdate: the history writer's telemetry step — batches
// of 200 messages from 1,000 devices (a busy gateway's log) merged into
// each device's latest values. Per message.
func BenchmarkTelemetryUpdate(b *testing.B) {
	const devices, batch = 1000, 200
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			tel := e.open(b).Telemetry()
			ctx := context.Background()
			msgs := make([]protocol.Message, batch)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cputime.Process()
			for i := 0; i < b.N; i += batch {
				for j := range msgs {
					k := i + j
					msgs[j] = storetest.Message("35000000"+strconv.Itoa(100000+k%devices), 1.7e9+float64(k), k)
				}
				if err := tel.Update(ctx, msgs); err != nil {
					b.Fatal(err)
				}
			}
			report(b, int64(b.N), cpu, nil)
		})
	}
}
