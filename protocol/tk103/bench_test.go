package tk103

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// BenchmarkDecode decodes a BR00 position report (a real capture with I/O
// state, mileage and temperature) into a reused Result.
func BenchmarkDecode(b *testing.B) {
	frame := []byte("(088046338039BR00160727A3354.7768N03540.7258E000.0140832068.4700000000L00BEB0D4+017.7)")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame, Messages: 1})
}
