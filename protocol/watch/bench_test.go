package watch

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchUD is a location report with two cells (a Traccar capture), 140
// bytes.
var benchUD = []byte("[3G*4700222306*0077*UD,120316,140610,V,48.779045,N, 9.1574736,E,0.00,0.0,0.0,0,25,83,0,0,00000000,2,255,262,1,21041,9067,121,21041,5981,116]")

// BenchmarkDecode decodes one location report into a reused Result.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchUD, Messages: 1, MinParams: 20})
}

// BenchmarkSplitDecode adds framing.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchUD, Split: true})
}
