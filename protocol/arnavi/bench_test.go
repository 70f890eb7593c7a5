package arnavi

import (
	"encoding/hex"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// benchFrame is the PACKAGE of testdata/traccar-06.txtar: one record of 12
// tags (coordinates, navigation, HDOP, cell, status, voltages, fuel
// sensors).
const (
	benchHeader = "ff23f30c45f5c90f0300"
	benchFrame  = "5b01013c00fd5aaa5a03958b5e42048fd51442050015770097db000000075fd69b130802fa00180900d0c564010f11ea3a5b070009015c00009c005d00008c00fa32010000a65d"
)

func benchSession(b *testing.B) (protocol.Session, []byte) {
	s := (&Codec{}).NewSession(protocol.TCP)
	h, _ := hex.DecodeString(benchHeader)
	var r protocol.Result
	if err := s.Decode(h, &r); err != nil {
		b.Fatal(err)
	}
	f, _ := hex.DecodeString(benchFrame)
	return s, f
}

// BenchmarkDecode decodes one PACKAGE into a reused Result, the
// confirmation included.
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
	c := &Codec{}
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

// BenchmarkDecodeText decodes one "$AV,V4" position sentence.
func BenchmarkDecodeText(b *testing.B) {
	frame := []byte("$AV,V4,85164,20709,1148,418,-1,0,1,192,0,0,0,0,0,0,,,000023,0000.0000N,00000.0000E,0.0,0.0,060180,0,0,32767,*4F")
	s := (&Codec{}).NewSession(protocol.TCP)
	var r protocol.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		if err := s.Decode(frame, &r); err != nil {
			b.Fatal(err)
		}
	}
}
