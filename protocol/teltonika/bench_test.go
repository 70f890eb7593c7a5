package teltonika

import (
	"encoding/binary"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// ioVal is one fixed-width IO element for building test packets.
type ioVal struct {
	id    uint16
	width int
	v     uint64
}

// appendRecord8E appends one Codec 8E record with the given IO elements.
func appendRecord8E(b []byte, ms uint64, ios []ioVal) []byte {
	b = binary.BigEndian.AppendUint64(b, ms)
	b = append(b, 1)                                          // priority
	b = binary.BigEndian.AppendUint32(b, uint32(253_101_234)) // lon 25.3101234
	b = binary.BigEndian.AppendUint32(b, uint32(546_874_321)) // lat 54.6874321
	b = binary.BigEndian.AppendUint16(b, 112)                 // altitude
	b = binary.BigEndian.AppendUint16(b, 270)                 // angle
	b = append(b, 9)                                          // satellites
	b = binary.BigEndian.AppendUint16(b, 63)                  // speed
	b = binary.BigEndian.AppendUint16(b, 239)                 // event id
	b = binary.BigEndian.AppendUint16(b, uint16(len(ios)))
	for _, w := range []int{1, 2, 4, 8} {
		n := 0
		for _, io := range ios {
			if io.width == w {
				n++
			}
		}
		b = binary.BigEndian.AppendUint16(b, uint16(n))
		for _, io := range ios {
			if io.width != w {
				continue
			}
			b = binary.BigEndian.AppendUint16(b, io.id)
			for i := w - 1; i >= 0; i-- {
				b = append(b, byte(io.v>>(8*i)))
			}
		}
	}
	return binary.BigEndian.AppendUint16(b, 0) // NX
}

// tcpPacket wraps an AVL or GPRS body (codec id .. N2) in the TCP form.
func tcpPacket(body []byte) []byte {
	p := []byte{0, 0, 0, 0}
	p = binary.BigEndian.AppendUint32(p, uint32(len(body)))
	p = append(p, body...)
	return binary.BigEndian.AppendUint32(p, uint32(crc16.ARC.Checksum(body)))
}

// udpDatagram wraps an AVL body in the UDP channel header.
func udpDatagram(packetID uint16, avlID byte, imei string, body []byte) []byte {
	rest := binary.BigEndian.AppendUint16(nil, packetID)
	rest = append(rest, 1, avlID)
	rest = binary.BigEndian.AppendUint16(rest, uint16(len(imei)))
	rest = append(rest, imei...)
	rest = append(rest, body...)
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(rest))), rest...)
}

// benchIOs are 20 IO elements typical of an FMB130 record.
var benchIOs = []ioVal{
	{239, 1, 1}, {240, 1, 1}, {80, 1, 1}, {21, 1, 5}, {200, 1, 0}, {69, 1, 1}, {1, 1, 0}, {179, 1, 0},
	{181, 2, 9}, {182, 2, 6}, {66, 2, 13650}, {24, 2, 63}, {205, 2, 31445}, {206, 2, 1620}, {67, 2, 4083}, {68, 2, 0},
	{241, 4, 24602}, {16, 4, 123_456_789}, {199, 4, 512}, {11, 8, 893700218112},
}

func benchBody() []byte {
	body := []byte{codec8E, 1}
	body = appendRecord8E(body, 1_700_000_000_123, benchIOs)
	return append(body, 1)
}

// BenchmarkDecode decodes one Codec 8E TCP packet (one record, 20 IO
// elements) into a reused Result.
func BenchmarkDecode(b *testing.B) {
	login := append([]byte{0, 15}, "356307042441013"...)
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Setup: [][]byte{login}, Frame: tcpPacket(benchBody()), Messages: 1, MinParams: 30})
}

// BenchmarkSplitDecode adds framing: what a channel does per packet.
func BenchmarkSplitDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: tcpPacket(benchBody()), Split: true})
}

// BenchmarkDecodeUDP decodes one UDP datagram with the same record.
func BenchmarkDecodeUDP(b *testing.B) {
	d := udpDatagram(0xCAFE, 7, "352093086403655", benchBody())
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Transport: protocol.UDP, Frame: d})
}

// fm11Datagram is a real FM11xx Codec 8 UDP datagram with 4 records of 27
// IO elements each (filipkroca/teltonikaparser ExampleDecode; testdata
// doc-022-codec08.txtar).
const fm11Datagram = "01e4cafe0128000f333532303934303839333937343634080400000163c803eb02010a2524c01d4a377d00d3012f130032421b0a4503f00150051503ef01510052005900be00c1000ab50008b60006426fd8cd3d1ece605a5400005500007300005a0000c0000007c70000000df1000059d910002d33c65300000000570000000064000000f7bf000000000000000163c803e6e8010a2530781d4a316f00d40131130031421b0a4503f00150051503ef01510052005900be00c1000ab50008b60005426fcbcd3d1ece605a5400005500007300005a0000c0000007c70000000ef1000059d910002d33b95300000000570000000064000000f7bf000000000000000163c803df18010a2536961d4a2e4f00d50134130033421b0a4503f00150051503ef01510052005900be00c1000ab50008b6000542702bcd3d1ece605a5400005500007300005a0000c0000007c70000001ef1000059d910002d33aa5300000000570000000064000000f7bf000000000000000163c8039ce2010a25d8d41d49f42c00dc0123120058421b0a4503f00150051503ef01510052005900be00c1000ab50009b60005427031cd79d8ce605a5400005500007300005a0000c0000007c700000019f1000059d910002d32505300000000570000000064000000f7bf000000000004"

// BenchmarkDecodeUDP4 decodes the 4-record FM11xx datagram: the second
// frame of the side-by-side comparison in BENCHMARKS.md.
func BenchmarkDecodeUDP4(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Transport: protocol.UDP, Frame: protocoltest.Hex(b, fm11Datagram), Messages: 4})
}
