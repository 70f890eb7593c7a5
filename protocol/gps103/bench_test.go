package gps103

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// BenchmarkDecode decodes a "tracker" report with ACC, door, fuel and
// temperature (a real capture) into a reused Result.
func BenchmarkDecode(b *testing.B) {
	frame := []byte("imei:359710047424644,tracker,150506224036,,F,154037.000,A,0335.2785,N,09841.1543,E,3.03,337.54,,0,0,45.16%,,;")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame, Messages: 1})
}
