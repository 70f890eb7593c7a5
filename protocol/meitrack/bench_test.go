package meitrack

import (
	"encoding/hex"
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchAAA is a typical position report of current firmware (protocol
// version 3: volts in hundredths, a temperature sensor), 175 bytes.
var benchAAA = []byte("$$V177,863835026871173,AAA,35,34.516428,10.470160,170915154043,A,9,12,68,74,0.9,9,1988259,525882,605|2|008C|0007B5A6,0200,0003|0000|0000|01A6|0571,00000001,,3,0000,010A92,360,511*74\r\n")

// BenchmarkDecode decodes one AAA position report into a reused Result.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchAAA, MinParams: 30})
}

// BenchmarkDecodeCCE decodes a one-packet binary CCE report (a Traccar
// capture) into a reused Result.
func BenchmarkDecodeCCE(b *testing.B) {
	frame, _ := hex.DecodeString("2424413132332c3836313538353034333230303836322c4343452c010000000100590015000305010609071b0b081c000939010a07000b1700199e011a9505921a0099c4089c5500c93e00405a000602a8b114000343f12e0604d18806270c654a2e000da20537009bb8963904010e0c0d020300aa7a0af69e0100002a35340d0a")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame, MinParams: 25})
}

// BenchmarkSplitDecode adds framing: what a channel does per frame.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchAAA, Split: true})
}
