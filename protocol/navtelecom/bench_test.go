package navtelecom

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// The stream of testdata/traccar-06-flex20-t.txtar: handshake, FLEX 2.0
// negotiation (24 fields), then the ~T record benchmarked.
const (
	benchHandshake   = "404e544301000000c9b5f602130046c52a3e533a383639363936303439373232383235"
	benchNegotiation = "404e544301000000a9eef6021a003f8e2a3e464c4558b014147afffff008080800000e00000000000000"
	benchFrame       = "7e5428000000280000002111d16b435c00a900154bd16b435ce19e030259f6920133050000b7623e429300c9e7f03f2ba45a3e1f001f007b6c5910850f0100001629080a000000000000060947"
)

// BenchmarkDecode decodes one FLEX 2.0 ~T record into a reused Result,
// the answer included.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Setup: [][]byte{protocoltest.Hex(b, benchHandshake), protocoltest.Hex(b, benchNegotiation)}, Frame: protocoltest.Hex(b, benchFrame), Messages: 1, Reply: true})
}

// BenchmarkSplitDecode adds framing: what a channel does per frame (the
// session's Split: the negotiated FLEX fields decide the record's length).
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Setup: [][]byte{protocoltest.Hex(b, benchHandshake), protocoltest.Hex(b, benchNegotiation)}, Frame: protocoltest.Hex(b, benchFrame), Split: true})
}
