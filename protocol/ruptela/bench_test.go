package ruptela

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchPacket is a command-1 packet with one record of 20 IO elements, as
// an FM-Eco4 sends them: inputs, GSM level, temperatures, voltages,
// odometer.
func benchPacket() []byte {
	rec := record1(1700000000, 546874321, 253101234, 7,
		[][2]byte{{2, 1}, {3, 0}, {4, 0}, {5, 1}, {27, 22}, {32, 31}, {173, 1}, {28, 1}},
		[][3]byte{{29, 0x30, 0xC5}, {30, 0x0F, 0xF0}, {22, 0x01, 0x02}, {23, 0, 0}, {78, 0, 0xEB}, {74, 0, 0xEA}, {170, 0, 0}})
	// four 4-byte elements: odometer, operator, DIN1 hours, LAC-less cell
	rec = rec[:len(rec)-2]
	rec = append(rec, 4, 65, 0, 0x0F, 0x42, 0x40, 150, 0, 0, 0x60, 0x1B, 45, 0, 0, 0, 60, 203, 0, 0, 0x27, 0x10, 0)
	return devicePacket(356307042441013, 1, append([]byte{0, 1}, rec...))
}

// BenchmarkDecode decodes one command-1 packet (one record, 20 IO
// elements) into a reused Result.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchPacket(), MinParams: 30})
}

// BenchmarkSplitDecode adds framing: what a channel does per packet.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchPacket(), Split: true})
}
