package galileosky

import (
	"encoding/binary"
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// benchPacket is a main packet with one record as a Galileosky v5.0 sends
// it by default: record number, time, coordinates, speed and direction,
// altitude, HDOP, status, voltages, temperature, outputs, inputs, four
// analog inputs, GPS mileage and the CAN engine data.
func benchPacket() []byte {
	b := []byte{0x10, 0x38, 0x45}
	b = append(b, 0x20)
	b = binary.LittleEndian.AppendUint32(b, 1700000000)
	b = append(b, 0x30, 0x0C)
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(59665656)))
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(69994000)))
	b = append(b, 0x33, 0x47, 0x04, 0x9E, 0x02) // 109.5 km/h, 67.0°
	b = append(b, 0x34, 0x40, 0x00, 0x35, 0x09)
	b = append(b, 0x40, 0x01, 0x32, 0x41, 0x50, 0x6B, 0x42, 0x8F, 0x10, 0x43, 0x22)
	b = append(b, 0x45, 0xF9, 0x00, 0x46, 0x04, 0xA0)
	b = append(b, 0x50, 0, 0, 0x51, 0, 0, 0x52, 0x9A, 0x6B, 0x53, 0, 0)
	b = append(b, 0xC1, 0xFA, 0x72, 0x50, 0x25) // the document's CAN_A1 example
	b = append(b, 0xD4)
	b = binary.LittleEndian.AppendUint32(b, 342937)
	return packet(hdrMain, false, b)
}

// BenchmarkDecode decodes one main packet (one record, 22 parameters) into
// a reused Result.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchPacket(), Messages: 1, MinParams: 20})
}

// BenchmarkSplitDecode adds framing: what a channel does per packet.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: benchPacket(), Split: true})
}
