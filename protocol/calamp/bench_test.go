package calamp

import (
	"encoding/hex"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func benchDecode(b *testing.B, h string) {
	dgram, _ := hex.DecodeString(h)
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Transport: protocol.UDP, Frame: dgram, Messages: 1, MinParams: 20, Reply: true})
}

// BenchmarkDecode decodes an event report with two accumulators (a Traccar
// capture, 67 bytes) into a reused Result, with its ACK.
func BenchmarkDecode(b *testing.B) {
	benchDecode(b, "8308352648068863398f01070102039c5cfc4dcd5cfc4dcd19913f5dcce1291e000033fa0000005801110800019aff9d6f0e13003e0b02000000000000000000")
}

// BenchmarkDecodeMini decodes a mini event report with five accumulators.
func BenchmarkDecodeMini(b *testing.B) {
	benchDecode(b, "830543321494860101010a0c215608b6680ead5ada1bed88d300000049801f000500000300003cf33200000000000000008b0ce101")
}
