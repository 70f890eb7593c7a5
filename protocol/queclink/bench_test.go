package queclink

import (
	"encoding/hex"
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// BenchmarkDecode decodes a GV300 +RESP:GTFRI with one fix, external
// power, mileage, hour meter, analog inputs and device status (a field
// capture) into a reused Result.
func BenchmarkDecode(b *testing.B) {
	frame := []byte("+RESP:GTFRI,060228,862894020180553,,14827,10,1,1,3.4,199,409.6,-63.174466,-17.739317,20170407121823,0000,0000,0000,0000,00,15989.5,01070:43:13,13,180,0,220101,,,,20170407081824,9607$")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame, Messages: 1})
}

// BenchmarkDecodeBinary decodes a GB100 +RSP position report.
func BenchmarkDecodeBinary(b *testing.B) {
	frame, _ := hex.DecodeString("2b5253500700fc1fbf005d4501020209563254030003430564377e42071001000000000000007eff75a151025c6a8107e10801081a2a02680003189c1ac500000000000002100700000000000000000007e1080108241019e17ebe0d0a")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame, Messages: 1})
}
