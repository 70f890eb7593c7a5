package telem

import (
	"strconv"
	"testing"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// BenchmarkMergeFleet is Table.Merge alone in the gateway's steady state:
// batches of 200 tracker messages (32 parameters), each of another of
// 19,000 devices that have all sent before, every message a second newer
// than its device's last. Per message: process CPU and allocations.
//
//	go test ./store/internal/telem -run '^$' -bench MergeFleet -benchtime=300000x -benchmem -count 3
func BenchmarkMergeFleet(b *testing.B) {
	const devices, batchSize = 19000, 200
	idents := make([]string, devices)
	for i := range idents {
		idents[i] = "3563070424" + strconv.Itoa(100000+i)
	}
	var t Table
	batch := make([]protocol.Message, batchSize)
	k := 0
	merge := func() {
		for j := range batch {
			storetest.SetTrackerMessage(&batch[j], idents[k%devices], 1.7e9+float64(k/devices), k)
			k++
		}
		t.Merge(batch)
	}
	for k < devices {
		merge()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	n := 0
	for ; n < b.N; n += batchSize {
		merge()
	}
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(n), "cpu-ns/msg")
}
