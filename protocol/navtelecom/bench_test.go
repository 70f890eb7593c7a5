package navtelecom

import (
	"encoding/hex"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// The stream of testdata/traccar-06-flex20-t.txtar: handshake, FLEX 2.0
// negotiation (24 fields), then the ~T record benchmarked.
const (
	benchHandshake   = "404e544301000000c9b5f602130046c52a3e533a383639363936303439373232383235"
	benchNegotiation = "404e544301000000a9eef6021a003f8e2a3e464c4558b014147afffff008080800000e00000000000000"
	benchFrame       = "7e5428000000280000002111d16b435c00a900154bd16b435ce19e030259f6920133050000b7623e429300c9e7f03f2ba45a3e1f001f007b6c5910850f0100001629080a000000000000060947"
)

func benchSession(b *testing.B) (*Session, []byte) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	for _, h := range []string{benchHandshake, benchNegotiation} {
		f, _ := hex.DecodeString(h)
		if err := s.Decode(f, &r); err != nil {
			b.Fatal(err)
		}
	}
	f, _ := hex.DecodeString(benchFrame)
	return s, f
}

// BenchmarkDecode decodes one FLEX 2.0 ~T record into a reused Result,
// the answer included.
func BenchmarkDecode(b *testing.B) {
	s, frame := benchSession(b)
	var r protocol.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		if err := s.Decode(frame, &r); err != nil {
			b.Fatal(err)
		}
	}
	if len(r.Messages) != 1 || len(r.Reply) == 0 {
		b.Fatalf("decoded %d messages", len(r.Messages))
	}
}

// BenchmarkSplitDecode adds framing: what a channel does per frame.
func BenchmarkSplitDecode(b *testing.B) {
	s, frame := benchSession(b)
	var r protocol.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		_, f, err := s.Split(frame, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Decode(f, &r); err != nil {
			b.Fatal(err)
		}
	}
}
