package wialonips_test

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// BenchmarkDecode decodes a 2.0 #D# line (the spec's example) with a reused
// Result, as a channel does on a logged-in connection.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{
		Codec:    &wialonips.Codec{},
		Setup:    [][]byte{[]byte("#L#2.0;860000000000000;NA;46D4")},
		Frame:    []byte("#D#231012;153959;5354.49260;N;02731.44990;E;0;0;300;7;1.1;0;0;1,0,0,0;NA;ign:1:1,dparam:2:3.14159265,tparam:3:lorem,iparam:1:-55,SOS:1:1;4BC3"),
		Messages: 1,
	})
}

// BenchmarkDecodeV11 decodes a 1.1 #D# line with numeric parameters only.
func BenchmarkDecodeV11(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{
		Codec: &wialonips.Codec{},
		Setup: [][]byte{[]byte("#L#860000000000000;NA")},
		Frame: []byte("#D#240123;141443;5557.5757;N;09512.0158;E;0;92;370;0;NA;257;NA;;NA;Distance:2:198377.203125,Power:2:28.184000,Battery:2:4.032000,GSM:1:1"),
	})
}
