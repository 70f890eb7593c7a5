package wialonretranslator_test

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	wr "github.com/gnssgate/gnssgate/protocol/wialonretranslator"
)

// benchMessage is a typical forwarded message: a position, the table rows
// a tracker fills, and a few parameters of its own.
func benchMessage() protocol.Message {
	var m protocol.Message
	m.SetString("ident", "356307042441013")
	m.SetInt("timestamp", 1_700_000_000)
	m.SetFloat("position.latitude", 54.687156)
	m.SetFloat("position.longitude", 25.279651)
	m.SetFloat("position.altitude", 112)
	m.SetInt("position.speed", 63)
	m.SetInt("position.direction", 270)
	m.SetInt("position.satellites", 9)
	m.SetInt("din", 5)
	m.SetInt("dout", 1)
	m.SetFloat("external.powersource.voltage", 12.834)
	m.SetFloat("battery.voltage", 4.07)
	m.SetFloat("ain#1", 0.25)
	m.SetInt("gsm.signal.level", 4)
	m.SetBool("engine.ignition.status", true)
	m.SetFloat("vehicle.mileage", 123456.7)
	m.SetInt("custom.can1", 1234)
	m.SetString("custom.fw", "03.27.07")
	return m
}

// BenchmarkDecode decodes one packet of benchMessage (18 parameters) into
// a reused Result, as a channel does.
func BenchmarkDecode(b *testing.B) {
	m := benchMessage()
	pkt, err := wr.Append(nil, &m)
	if err != nil {
		b.Fatal(err)
	}
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &wr.Codec{}, Frame: pkt, Messages: 1, MinParams: m.Len()})
}

// BenchmarkDecodeDocumentExample decodes the document's 120-byte packet.
func BenchmarkDecodeDocumentExample(b *testing.B) {
	pkt := []byte("\x74\x00\x00\x00353976013445485\x00\x4b\x0b\xfb\x70\x00\x00\x00\x03" +
		"\x0b\xbb\x00\x00\x00\x27\x01\x02posinfo\x00\xa0\x27\xaf\xdf\x5d\x98\x48\x40\x3a\xc7\x25\x33\x83\xdd\x4b\x40\x00\x00\x00\x00\x00\x80\x5a\x40\x00\x36\x01\x46\x0b" +
		"\x0b\xbb\x00\x00\x00\x12\x00\x04pwr_ext\x00\x2b\x87\x16\xd9\xce\x97\x3b\x40" +
		"\x0b\xbb\x00\x00\x00\x11\x01\x03avl_inputs\x00\x00\x00\x00\x01")
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &wr.Codec{}, Frame: pkt})
}

// BenchmarkEncode encodes benchMessage into a reused buffer, as the
// Wialon sink does per message.
func BenchmarkEncode(b *testing.B) {
	m := benchMessage()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		out, err := wr.Append(buf[:0], &m)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.SetBytes(int64(n))
}
