package device

import (
	"fmt"
	"math"
	"strings"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// GT06 protocol numbers the device sends.
const (
	gt06Login     = 0x01
	gt06GPSLBS    = 0x12
	gt06Heartbeat = 0x13
	gt06GPSLBS2   = 0x22

	gt06MCC = 246 // Lithuania: the default area's network
	gt06MNC = 1
)

type gt06Session struct {
	imei   string
	id     [8]byte // terminal id: the IMEI in BCD with a leading 0
	proto  byte
	serial uint16 // of the last frame sent
}

func newGT06(ident string, o Options) (*gt06Session, error) {
	if o.UDP {
		return nil, fmt.Errorf("%w: gt06", ErrUDP)
	}
	if len(ident) > 16 || !isDigits(ident) {
		return nil, fmt.Errorf("%w: gt06 needs an IMEI of up to 16 digits, got %q", ErrIdent, ident)
	}
	g := &gt06Session{imei: ident, proto: gt06GPSLBS2}
	digits := strings.Repeat("0", 16-len(ident)) + ident
	for i := range g.id {
		g.id[i] = (digits[2*i]-'0')<<4 | (digits[2*i+1] - '0')
	}
	switch strings.ToLower(o.Packet) {
	case "", "0x22", "22":
	case "0x12", "12":
		g.proto = gt06GPSLBS
	default:
		return nil, fmt.Errorf("%w: gt06 packet %q (0x22 or 0x12)", ErrPacket, o.Packet)
	}
	return g, nil
}

func (g *gt06Session) Protocol() string { return GT06 }
func (g *gt06Session) Ident() string    { return g.imei }
func (g *gt06Session) MaxRecords() int  { return 1000 } // one frame each; a bound on one write

// Login is the 0x01 packet with the terminal id, acknowledged with its
// serial number.
func (g *gt06Session) Login(p *Packet) bool {
	g.serial++
	p.Bytes = appendGT06(p.Bytes[:0], gt06Login, g.id[:], g.serial)
	p.Ack = appendGT06(p.Ack[:0], gt06Login, nil, g.serial)
	return true
}

// Data is a location packet per point and a heartbeat; the heartbeat's ACK
// is the reply to wait for.
func (g *gt06Session) Data(p *Packet, pts []Point, resend bool) error {
	if len(pts) == 0 || len(pts) > g.MaxRecords() {
		return fmt.Errorf("%w: %d records (1 to %d)", ErrTooMany, len(pts), g.MaxRecords())
	}
	b := p.Bytes[:0]
	var content [48]byte
	for i := range pts {
		g.serial++
		b = appendGT06(b, g.proto, g.location(content[:0], &pts[i], resend), g.serial)
	}
	last := &pts[len(pts)-1]
	g.serial++
	b = appendGT06(b, gt06Heartbeat, heartbeat(content[:0], last), g.serial)
	p.Bytes = b
	p.Ack = appendGT06(p.Ack[:0], gt06Heartbeat, nil, g.serial)
	return nil
}

// location is the GPS block (date-time UTC, GPS info, latitude, longitude,
// speed, course and status), the cell (MCC, MNC, LAC, cell id) and, in
// 0x22, ACC, the upload mode (0: at a fixed interval) and the re-upload
// flag.
func (g *gt06Session) location(b []byte, p *Point, resend bool) []byte {
	t := p.Time.UTC()
	b = append(b, byte(t.Year()%100), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()))
	b = append(b, 0xC0|byte(min(p.Satellites, 15))) // 12 bytes of GPS information, satellites
	b = be32(b, uint32(math.Round(math.Abs(p.Latitude)*1800000)))
	b = be32(b, uint32(math.Round(math.Abs(p.Longitude)*1800000)))
	b = append(b, byte(min(math.Round(p.Speed), 255)))
	status := uint16(int(math.Round(p.Heading))%360) & 0x03FF
	if p.Latitude >= 0 {
		status |= 0x0400 // north
	}
	if p.Longitude < 0 {
		status |= 0x0800 // west
	}
	if p.Satellites > 0 {
		status |= 0x1000 // positioned
	}
	b = append(b, byte(status>>8), byte(status))
	lac, cell := cellAt(p)
	b = append(b, byte(gt06MCC>>8), byte(gt06MCC&0xFF), gt06MNC, byte(lac>>8), byte(lac))
	b = append(b, byte(cell>>16), byte(cell>>8), byte(cell))
	if g.proto == gt06GPSLBS2 {
		b = append(b, boolByte(p.Ignition), 0x00, boolByte(resend))
	}
	return b
}

// heartbeat is the status packet's content: terminal information (bit 1
// ACC, bit 2 charging, bit 6 GPS tracking on), voltage level (0-6), GSM
// signal level (0-4), alarm 0 and language 2 (English).
func heartbeat(b []byte, p *Point) []byte {
	info := byte(0x40)
	if p.Ignition {
		info |= 0x02
	}
	if p.ExternalVoltage > 9 {
		info |= 0x04
	}
	return append(b, info, voltageLevel(p.BatteryVoltage), byte(max(0, min(p.GSMLevel, 4))), 0x00, 0x02)
}

// voltageLevel maps the tracker battery's voltage to GT06's levels: 1
// extremely low … 6 very high (0 is no power).
func voltageLevel(v float64) byte {
	for i, limit := range []float64{3.55, 3.65, 3.75, 3.85, 4.0, 4.15} {
		if v < limit {
			return byte(i)
		}
	}
	return 6
}

// cellAt gives the serving cell of a position: cells of about a kilometre,
// so that a driving vehicle hands over from cell to cell.
func cellAt(p *Point) (lac uint16, cell uint32) {
	y, x := int64(math.Floor(p.Latitude*100)), int64(math.Floor(p.Longitude*60))
	lac = uint16(1000 + ((y/10*31+x/10)%9000+9000)%9000)
	cell = uint32(((y*7919+x*104729)%0xFFFFFF+0xFFFFFF)%0xFFFFFF) + 1
	return lac, cell
}

// appendGT06 frames a packet: 78 78, length (protocol number through CRC),
// protocol number, content, serial, CRC-16/X-25 of length through serial,
// 0D 0A.
func appendGT06(dst []byte, proto byte, content []byte, serial uint16) []byte {
	start := len(dst)
	dst = append(dst, 0x78, 0x78, byte(1+len(content)+2+2), proto)
	dst = append(dst, content...)
	dst = append(dst, byte(serial>>8), byte(serial))
	crc := crc16.X25.Checksum(dst[start+2:])
	return append(dst, byte(crc>>8), byte(crc), '\r', '\n')
}

func be32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// SplitReply cuts one "78 78" or "79 79" frame by its length field.
func (g *gt06Session) SplitReply(data, _ []byte) (int, []byte, error) {
	if len(data) < 2 {
		return 0, nil, nil
	}
	var n int
	switch {
	case data[0] == 0x78 && data[1] == 0x78:
		if len(data) < 3 {
			return 0, nil, nil
		}
		n = 3 + int(data[2]) + 2
	case data[0] == 0x79 && data[1] == 0x79:
		if len(data) < 4 {
			return 0, nil, nil
		}
		n = 4 + (int(data[2])<<8 | int(data[3])) + 2
	default:
		return 0, nil, fmt.Errorf("%w: gt06 frame starts % x", ErrReplyFormat, data[:2])
	}
	if len(data) < n {
		return 0, nil, nil
	}
	return n, data[:n], nil
}
