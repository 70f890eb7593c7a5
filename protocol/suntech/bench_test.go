package suntech

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchLegacy is an ST300 status report with the hour meter, battery and
// message type (a Traccar capture), 140 bytes.
var benchLegacy = []byte("ST300STT;007238270;40;313;20190220;12:05:04;c99e48;+04.644623;-074.076922;010.390;202.77;20;1;997100;14.10;100000;2;8384;003634;4.1;1\r")

// benchUniversal is a universal-protocol status report with its assign
// fields (a Traccar capture), 165 bytes.
var benchUniversal = []byte("STT;0560001616;BFFFFF;56;1.0.15;1;20200219;20:52:25;00008D6C;334;20;0925;24;+20.741764;-103.430364;0.00;0.00;19;1;00000001;00000000;2;1;1765;00008003;0.0;12.14;136598\r")

// BenchmarkDecode decodes one ST300 status report into a reused Result.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchLegacy, MinParams: 20})
}

// BenchmarkDecodeUniversal decodes one universal-protocol status report.
func BenchmarkDecodeUniversal(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchUniversal, MinParams: 20})
}

// BenchmarkSplitDecode adds framing: what a channel does per report.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchLegacy, Split: true})
}
