package pebble

import (
	"context"
	"testing"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// BenchmarkTelemetryUpdateFleet is the telemetry write path of the
// gateway's history writer alone: batches of 200 tracker messages
// (storetest.SetTrackerMessage, 32 parameters), each of another device of
// GNSSGATE_BENCH_DEVICES (19,000), every device's message a second newer
// than its last, synced. Every device has sent once before the timer
// starts, so this is the steady state in which each message rewrites its
// device's record. Per message: process CPU (cpu-ns/msg), and B/op and
// allocs/op.
//
//	go test ./store/pebble -run '^$' -bench TelemetryUpdateFleet -benchtime=300000x -benchmem -count 3
func BenchmarkTelemetryUpdateFleet(b *testing.B) {
	d, idents := benchFleet(b)
	devices := len(idents)
	ctx := context.Background()
	const batchSize = 200
	batch := make([]protocol.Message, batchSize)
	k := 0
	write := func() {
		for j := range batch {
			storetest.SetTrackerMessage(&batch[j], idents[k%devices], 1.7e9+float64(k/devices), k)
			k++
		}
		if err := d.tel.Update(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	for k < devices {
		write()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	n := 0
	for ; n < b.N; n += batchSize {
		write()
	}
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(n), "cpu-ns/msg")
}
