package arnavi

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchFrame is the PACKAGE of testdata/traccar-06.txtar: one record of 12
// tags (coordinates, navigation, HDOP, cell, status, voltages, fuel
// sensors).
const (
	benchHeader = "ff23f30c45f5c90f0300"
	benchFrame  = "5b01013c00fd5aaa5a03958b5e42048fd51442050015770097db000000075fd69b130802fa00180900d0c564010f11ea3a5b070009015c00009c005d00008c00fa32010000a65d"
)

// BenchmarkDecode decodes one PACKAGE into a reused Result, the
// confirmation included.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Setup: [][]byte{protocoltest.Hex(b, benchHeader)}, Frame: protocoltest.Hex(b, benchFrame), Messages: 1, Reply: true})
}

// BenchmarkSplitDecode adds framing: what a channel does per frame.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Setup: [][]byte{protocoltest.Hex(b, benchHeader)}, Frame: protocoltest.Hex(b, benchFrame), Split: true})
}

// BenchmarkDecodeText decodes one "$AV,V4" position sentence.
func BenchmarkDecodeText(b *testing.B) {
	frame := []byte("$AV,V4,85164,20709,1148,418,-1,0,1,192,0,0,0,0,0,0,,,000023,0000.0000N,00000.0000E,0.0,0.0,060180,0,0,32767,*4F")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame})
}
