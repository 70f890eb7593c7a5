package egts

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchFrame is testdata/traccar-05.txtar: one teledata record with
// EGTS_SR_POS_DATA, EXT_POS_DATA, STATE_DATA, AD_SENSORS_DATA, liquid level
// and counters.
const benchFrame = "0100020b004f00ae1101d24400ae1191af8304000202101800d9238213008dcea08070ec789338003c00000001008200001106001a740007020014050000180000041207000f000010000000130100001b0700010000af0f0000312a"

// BenchmarkDecode decodes one packet into a reused Result, the
// EGTS_PT_RESPONSE included.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: protocoltest.Hex(b, benchFrame), Messages: 1, Reply: true})
}

// BenchmarkSplitDecode adds framing: what a channel does per packet.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: protocoltest.Hex(b, benchFrame), Split: true})
}
