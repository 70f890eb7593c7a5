package pebble

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// BenchmarkHistoryWriterLoad is the gateway's history writer under a fleet:
// batches of 200 messages, each of another device of
// GNSSGATE_BENCH_DEVICES (19,000), written to history and telemetry at
// once, synced. Per message: CPU with pebble's flushes and compactions
// (cpu-ns/msg), and the bytes the flushes and compactions of the state
// (history) and telemetry instances wrote, with their WALs (disk-B/msg):
// keys that overlap
// every table below them make compactions rewrite what they already wrote,
// and what compactions read, per instance.
//
//	go test ./store/pebble -run '^$' -bench HistoryWriterLoad -benchtime=1200000x -benchmem
func BenchmarkHistoryWriterLoad(b *testing.B) {
	d, idents := benchFleet(b)
	devices := len(idents)
	ctx := context.Background()
	const batchSize = 200
	batch := make([]protocol.Message, batchSize)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	n := 0
	for n < b.N {
		for j := range batch {
			k := n + j
			batch[j] = storetest.Message(idents[k%devices], 1.7e9+float64(k/devices), k)
		}
		var wg sync.WaitGroup
		var telErr error
		wg.Go(func() { telErr = d.tel.Update(ctx, batch) })
		err := d.hist.Store(ctx, batch)
		wg.Wait()
		if err != nil || telErr != nil {
			b.Fatal(err, telErr)
		}
		n += batchSize
	}
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(n), "cpu-ns/msg")
	var flushed, compacted uint64
	for _, e := range d.EngineStats()[1:] { // state (history) and telemetry
		flushed += e.WALBytes + e.FlushedBytes
		compacted += e.CompactedBytes
		b.ReportMetric(float64(e.CompactionReadBytes)/float64(n), e.Name+"-compaction-read-B/msg")
	}
	b.ReportMetric(float64(flushed+compacted)/float64(n), "disk-B/msg")
	b.ReportMetric(float64(compacted)/float64(max(flushed, 1)), "compacted/flushed")
}

// benchFleet opens a store in a temporary directory, closed when b ends,
// and makes the idents of GNSSGATE_BENCH_DEVICES devices (19,000).
func benchFleet(b *testing.B) (*DB, []string) {
	devices := 19000
	if s := os.Getenv("GNSSGATE_BENCH_DEVICES"); s != "" {
		devices, _ = strconv.Atoi(s)
	}
	d, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	idents := make([]string, devices)
	for i := range idents {
		idents[i] = "3563070424" + strconv.Itoa(100000+i)
	}
	return d, idents
}
