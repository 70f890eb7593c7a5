package jt808

import (
	"encoding/hex"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// benchFrame is the JT/T 808-2013 location report of testdata/doc-2013-location.txtar:
// basic information and 11 additional items.
const benchFrame = "7e0200007a0133061391970804" +
	"00000000000c000302315c4406f57bd40020000000c62305010000340104000014bf0202000003020000140480000000150400000000160400000000170200002504000000002b040000000030011c310117eb17000800233037392e3330000300d400000600f880000000ef0d00000048000049249200001103" +
	"df7e"

// BenchmarkDecode decodes one location report (0x0200) into a reused
// Result, the 0x8001 answer included.
func BenchmarkDecode(b *testing.B) {
	frame, _ := hex.DecodeString(benchFrame)
	s := (&Codec{}).NewSession(protocol.TCP)
	var r protocol.Result
	if err := s.Decode(frame, &r); err != nil {
		b.Fatal(err)
	}
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
	frame, _ := hex.DecodeString(benchFrame)
	c := &Codec{}
	s := c.NewSession(protocol.TCP)
	var r protocol.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		_, f, err := c.Split(frame, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Decode(f, &r); err != nil {
			b.Fatal(err)
		}
	}
}
