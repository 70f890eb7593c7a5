package h02

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// BenchmarkDecode decodes a V1 position report with base station data (the
// V1.0.3 document's example) into a reused Result, as a channel does.
func BenchmarkDecode(b *testing.B) {
	frame := []byte("*HQ,353505910449999,V1,052825,A,2239.4210,N,11400.8825,E,0.00,348,180814,FFFFFFFF,90,3,460,0,9376,8532,0,0,0,0#")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{Now: fixedNow}, Frame: frame, Messages: 1})
}

// BenchmarkDecodeBinary decodes a 45-byte binary record with base station
// data.
func BenchmarkDecodeBinary(b *testing.B) {
	frame := []byte("\x24\x41\x09\x11\x44\x27\x12\x22\x47\x01\x12\x14\x22\x33\x98\x30\x06\x11\x40\x26\x52\x0e\x00\x00\x00\xff\xff\xfb\xff\xff\x00\x14\x06\x00\x00\x00\x00\x01\xcc\x00\x26\x2b\x0f\x17\x0a")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame, Messages: 1})
}
