package egts

import (
	"encoding/hex"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// benchFrame is testdata/traccar-05.txtar: one teledata record with
// EGTS_SR_POS_DATA, EXT_POS_DATA, STATE_DATA, AD_SENSORS_DATA, liquid level
// and counters.
const benchFrame = "0100020b004f00ae1101d24400ae1191af8304000202101800d9238213008dcea08070ec789338003c00000001008200001106001a740007020014050000180000041207000f000010000000130100001b0700010000af0f0000312a"

// BenchmarkDecode decodes one packet into a reused Result, the
// EGTS_PT_RESPONSE included.
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

// BenchmarkSplitDecode adds framing: what a channel does per packet.
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
