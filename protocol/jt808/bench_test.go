package jt808

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchFrame is the JT/T 808-2013 location report of testdata/doc-2013-location.txtar:
// basic information and 11 additional items.
const benchFrame = "7e0200007a0133061391970804" +
	"00000000000c000302315c4406f57bd40020000000c62305010000340104000014bf0202000003020000140480000000150400000000160400000000170200002504000000002b040000000030011c310117eb17000800233037392e3330000300d400000600f880000000ef0d00000048000049249200001103" +
	"df7e"

// BenchmarkDecode decodes one location report (0x0200) into a reused
// Result, the 0x8001 answer included.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: protocoltest.Hex(b, benchFrame), Messages: 1, Reply: true})
}

// BenchmarkSplitDecode adds framing: what a channel does per frame.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: protocoltest.Hex(b, benchFrame), Split: true})
}
