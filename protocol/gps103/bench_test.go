package gps103

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// BenchmarkDecode decodes a "tracker" report with ACC, door, fuel and
// temperature (a real capture) into a reused Result.
func BenchmarkDecode(b *testing.B) {
	s := (&Codec{}).NewSession(protocol.TCP)
	frame := []byte("imei:359710047424644,tracker,150506224036,,F,154037.000,A,0335.2785,N,09841.1543,E,3.03,337.54,,0,0,45.16%,,;")
	var r protocol.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		if err := s.Decode(frame, &r); err != nil || len(r.Messages) != 1 {
			b.Fatal(err)
		}
	}
}
