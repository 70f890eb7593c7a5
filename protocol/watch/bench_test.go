package watch

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// benchUD is a location report with two cells (a Traccar capture), 140
// bytes.
var benchUD = []byte("[3G*4700222306*0077*UD,120316,140610,V,48.779045,N, 9.1574736,E,0.00,0.0,0.0,0,25,83,0,0,00000000,2,255,262,1,21041,9067,121,21041,5981,116]")

// BenchmarkDecode decodes one location report into a reused Result.
func BenchmarkDecode(b *testing.B) {
	s := (&Codec{}).NewSession(protocol.TCP)
	var r protocol.Result
	if err := s.Decode(benchUD, &r); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchUD)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		if err := s.Decode(benchUD, &r); err != nil {
			b.Fatal(err)
		}
	}
	if len(r.Messages) != 1 || r.Messages[0].Len() < 20 {
		b.Fatal(r.Messages)
	}
}

// BenchmarkSplitDecode adds framing.
func BenchmarkSplitDecode(b *testing.B) {
	c := &Codec{}
	s := c.NewSession(protocol.TCP)
	var r protocol.Result
	b.SetBytes(int64(len(benchUD)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		_, f, err := c.Split(benchUD, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Decode(f, &r); err != nil {
			b.Fatal(err)
		}
	}
}
