package device

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Teltonika codec ids and the AVL IDs a record carries.
const (
	codec8  = 0x08
	codec8E = 0x8E

	avlIgnition = 239
	avlMovement = 240
	avlGSM      = 21
	avlExtVolt  = 66 // mV
	avlBattVolt = 67 // mV
	avlPDOP     = 181
	avlHDOP     = 182
	avlOdometer = 16 // m
)

type teltonikaSession struct {
	imei     string
	udp      bool
	codec    byte
	packetID uint16 // UDP: per datagram
	avlID    uint8  // UDP: per AVL packet
	body     []byte // scratch for the AVL body
}

func newTeltonika(ident string, o Options) (*teltonikaSession, error) {
	if len(ident) != 15 || !isDigits(ident) {
		return nil, fmt.Errorf("%w: teltonika needs a 15-digit IMEI, got %q", ErrIdent, ident)
	}
	t := &teltonikaSession{imei: ident, udp: o.UDP, codec: codec8}
	switch o.Packet {
	case "", "8":
	case "8e", "8E":
		t.codec = codec8E
	default:
		return nil, fmt.Errorf("%w: teltonika packet %q (8 or 8e)", ErrPacket, o.Packet)
	}
	return t, nil
}

func (t *teltonikaSession) Protocol() string { return Teltonika }
func (t *teltonikaSession) Ident() string    { return t.imei }
func (t *teltonikaSession) MaxRecords() int  { return 255 } // N1 and N2 are one byte

// Login is the IMEI packet, 00 0F and the digits; the server accepts with
// 01.
func (t *teltonikaSession) Login(p *Packet) bool {
	if t.udp {
		return false
	}
	p.Bytes = append(binary.BigEndian.AppendUint16(p.Bytes[:0], uint16(len(t.imei))), t.imei...)
	p.Ack = append(p.Ack[:0], 1)
	return true
}

// Data is a TCP AVL packet (00000000, length, body, CRC-16/ARC of the body
// as u32), answered with the record count as u32; or a UDP datagram
// (length, packet id, 01, AVL packet id, IMEI, body), answered 00 05,
// packet id, 01, AVL packet id, count.
func (t *teltonikaSession) Data(p *Packet, pts []Point, _ bool) error {
	if len(pts) == 0 || len(pts) > t.MaxRecords() {
		return fmt.Errorf("%w: %d records (1 to %d)", ErrTooMany, len(pts), t.MaxRecords())
	}
	t.body = t.appendBody(t.body[:0], pts)
	n := byte(len(pts))
	if !t.udp {
		b := append(p.Bytes[:0], 0, 0, 0, 0)
		b = binary.BigEndian.AppendUint32(b, uint32(len(t.body)))
		b = append(b, t.body...)
		p.Bytes = binary.BigEndian.AppendUint32(b, uint32(crc16.ARC.Checksum(t.body)))
		p.Ack = append(p.Ack[:0], 0, 0, 0, n)
		return nil
	}
	t.packetID++
	t.avlID++
	b := binary.BigEndian.AppendUint16(p.Bytes[:0], uint16(2+1+1+2+len(t.imei)+len(t.body)))
	b = binary.BigEndian.AppendUint16(b, t.packetID)
	b = append(b, 0x01, t.avlID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.imei)))
	b = append(b, t.imei...)
	p.Bytes = append(b, t.body...)
	ack := append(p.Ack[:0], 0, 5)
	ack = binary.BigEndian.AppendUint16(ack, t.packetID)
	p.Ack = append(ack, 0x01, t.avlID, n)
	return nil
}

// appendBody appends codec id, N1, the records and N2.
func (t *teltonikaSession) appendBody(b []byte, pts []Point) []byte {
	b = append(b, t.codec, byte(len(pts)))
	for i := range pts {
		b = t.appendRecord(b, &pts[i])
	}
	return append(b, byte(len(pts)))
}

// appendRecord appends one AVL record: time (ms), priority, GPS element,
// event IO ID, and the IO elements grouped by width (1-byte IDs and counts
// in Codec 8, 2-byte in Codec 8 Extended, which also ends with an empty
// group of variable-length elements).
func (t *teltonikaSession) appendRecord(b []byte, p *Point) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(p.Time.UnixMilli()))
	b = append(b, 0) // priority: low
	b = binary.BigEndian.AppendUint32(b, uint32(int32(math.Round(p.Longitude*1e7))))
	b = binary.BigEndian.AppendUint32(b, uint32(int32(math.Round(p.Latitude*1e7))))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(math.Round(p.Altitude))))
	b = binary.BigEndian.AppendUint16(b, uint16(int(math.Round(p.Heading))%360))
	b = append(b, byte(min(p.Satellites, 255)))
	b = binary.BigEndian.AppendUint16(b, uint16(math.Round(p.Speed)))
	event := 0
	if p.IgnitionChanged {
		event = avlIgnition
	}
	ext := t.codec == codec8E
	id := func(b []byte, v int) []byte {
		if ext {
			return binary.BigEndian.AppendUint16(b, uint16(v))
		}
		return append(b, byte(v))
	}
	b = id(b, event)
	b = id(b, 8) // elements in all
	b = id(b, 3) // 1-byte
	b = append(id(b, avlIgnition), boolByte(p.Ignition))
	b = append(id(b, avlMovement), boolByte(p.Moving))
	b = append(id(b, avlGSM), byte(p.GSMLevel))
	b = id(b, 4) // 2-byte
	b = binary.BigEndian.AppendUint16(id(b, avlExtVolt), uint16(math.Round(p.ExternalVoltage*1000)))
	b = binary.BigEndian.AppendUint16(id(b, avlBattVolt), uint16(math.Round(p.BatteryVoltage*1000)))
	b = binary.BigEndian.AppendUint16(id(b, avlPDOP), uint16(math.Round(p.PDOP*10)))
	b = binary.BigEndian.AppendUint16(id(b, avlHDOP), uint16(math.Round(p.HDOP*10)))
	b = id(b, 1) // 4-byte
	b = binary.BigEndian.AppendUint32(id(b, avlOdometer), uint32(math.Round(p.Odometer)))
	b = id(b, 0) // 8-byte
	if ext {
		b = binary.BigEndian.AppendUint16(b, 0) // variable-length
	}
	return b
}

// SplitReply: Teltonika's replies have no framing; the device reads as
// many bytes as the reply it waits for (01 after the IMEI, a u32 after
// data), except that a reply starting 01 is a login's.
func (t *teltonikaSession) SplitReply(data, want []byte) (int, []byte, error) {
	n := max(len(want), 1)
	if len(data) > 0 && data[0] == 1 {
		// A data ACK (a count below 2^24) starts with 00: a leading 01 is
		// a login accepted, the late answer to a resent IMEI.
		n = 1
	}
	if len(data) < n {
		return 0, nil, nil
	}
	return n, data[:n], nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
