package device

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

type wialonSession struct {
	ident    string
	password string
	udp      bool
	body     []byte // scratch: the text the CRC covers
}

func newWialon(ident string, o Options) (*wialonSession, error) {
	if ident == "" || len(ident) > 128 || strings.ContainsAny(ident, "#;+/|\r\n") {
		return nil, fmt.Errorf("%w: wialon-ips ident %q", ErrIdent, ident)
	}
	if strings.ContainsAny(o.Password, "#;\r\n") {
		return nil, fmt.Errorf("%w: wialon-ips password may not contain '#', ';' or a line break", ErrIdent)
	}
	switch strings.ToUpper(o.Packet) {
	case "", "D":
	default:
		return nil, fmt.Errorf("%w: wialon-ips packet %q (D)", ErrPacket, o.Packet)
	}
	return &wialonSession{ident: ident, password: o.Password, udp: o.UDP}, nil
}

func (w *wialonSession) Protocol() string { return WialonIPS }
func (w *wialonSession) Ident() string    { return w.ident }
func (w *wialonSession) MaxRecords() int  { return 5000 } // the spec's black-box limit

// Login is "#L#2.0;IMEI;password;CRC16", answered "#AL#1".
func (w *wialonSession) Login(p *Packet) bool {
	if w.udp {
		return false
	}
	pass := w.password
	if pass == "" {
		pass = "NA"
	}
	w.body = append(append(append(append(w.body[:0], "2.0;"...), w.ident...), ';'), pass...)
	w.body = append(w.body, ';')
	p.Bytes = w.packet(p.Bytes[:0], "L")
	p.Ack = append(p.Ack[:0], "#AL#1\r\n"...)
	return true
}

// Data is "#D#record;CRC16" for one point, answered "#AD#1", or
// "#B#record|record|…|CRC16" for several, answered "#AB#<count>". Over
// UDP each starts with "2.0;IMEI".
func (w *wialonSession) Data(p *Packet, pts []Point, _ bool) error {
	if len(pts) == 0 || len(pts) > w.MaxRecords() {
		return fmt.Errorf("%w: %d records (1 to %d)", ErrTooMany, len(pts), w.MaxRecords())
	}
	w.body = w.body[:0]
	if len(pts) == 1 {
		w.body = append(appendWialonRecord(w.body, &pts[0]), ';')
		p.Bytes = w.packet(p.Bytes[:0], "D")
		p.Ack = append(p.Ack[:0], "#AD#1\r\n"...)
		return nil
	}
	for i := range pts {
		w.body = append(appendWialonRecord(w.body, &pts[i]), '|')
	}
	p.Bytes = w.packet(p.Bytes[:0], "B")
	p.Ack = strconv.AppendInt(append(p.Ack[:0], "#AB#"...), int64(len(pts)), 10)
	p.Ack = append(p.Ack, '\r', '\n')
	return nil
}

// packet frames w.body: [2.0;IMEI]#TYPE#body CRC16 \r\n; the CRC-16/ARC
// covers the body, in four upper-case hex digits.
func (w *wialonSession) packet(b []byte, typ string) []byte {
	if w.udp {
		b = append(append(b, "2.0;"...), w.ident...)
	}
	b = append(append(append(b, '#'), typ...), '#')
	b = append(b, w.body...)
	const hex = "0123456789ABCDEF"
	crc := crc16.ARC.Checksum(w.body)
	return append(b, hex[crc>>12], hex[crc>>8&0xF], hex[crc>>4&0xF], hex[crc&0xF], '\r', '\n')
}

// appendWialonRecord appends the 16 fields of an extended data record:
// date and time (UTC), latitude and longitude (NMEA, five decimals of
// minutes), speed, course, altitude, satellites, HDOP, inputs (bit 0 the
// ignition), outputs, ADC (none), iButton (none) and parameters.
func appendWialonRecord(b []byte, p *Point) []byte {
	t := p.Time.UTC()
	b = appendDigits(b, t.Day(), 2)
	b = appendDigits(b, int(t.Month()), 2)
	b = appendDigits(b, t.Year()%100, 2)
	b = append(b, ';')
	b = appendDigits(b, t.Hour(), 2)
	b = appendDigits(b, t.Minute(), 2)
	b = appendDigits(b, t.Second(), 2)
	b = append(b, ';')
	b = appendNMEA(b, p.Latitude, 2, 'N', 'S')
	b = append(b, ';')
	b = appendNMEA(b, p.Longitude, 3, 'E', 'W')
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(math.Round(p.Speed)), 10)
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(math.Round(p.Heading))%360, 10)
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(math.Round(p.Altitude)), 10)
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(p.Satellites), 10)
	b = append(b, ';')
	b = strconv.AppendFloat(b, p.HDOP, 'f', 1, 64)
	b = append(b, ';')
	b = append(b, '0'+boolByte(p.Ignition))
	b = append(b, ";0;;NA;"...) // outputs, ADC, iButton
	b = append(b, "pwr_ext:2:"...)
	b = strconv.AppendFloat(b, p.ExternalVoltage, 'f', 2, 64)
	b = append(b, ",pwr_int:2:"...)
	b = strconv.AppendFloat(b, p.BatteryVoltage, 'f', 2, 64)
	b = append(b, ",gsm:1:"...)
	b = strconv.AppendInt(b, int64(p.GSMLevel), 10)
	b = append(b, ",odometer:2:"...)
	b = strconv.AppendFloat(b, p.Odometer/1000, 'f', 3, 64)
	b = append(b, ",pdop:2:"...)
	return strconv.AppendFloat(b, p.PDOP, 'f', 1, 64)
}

// appendNMEA writes degrees as DDMM.MMMMM (DDDMM.MMMMM for longitude) and
// the hemisphere.
func appendNMEA(b []byte, deg float64, degDigits int, pos, neg byte) []byte {
	h := pos
	if deg < 0 {
		h, deg = neg, -deg
	}
	const scale = 100000                         // five decimals of minutes
	total := int64(math.Round(deg * 60 * scale)) // in 1e-5 minutes
	b = appendDigits(b, int(total/(60*scale)), degDigits)
	rem := total % (60 * scale)
	b = appendDigits(b, int(rem/scale), 2)
	b = append(b, '.')
	b = appendDigits(b, int(rem%scale), 5)
	return append(b, ';', h)
}

func appendDigits(b []byte, v, width int) []byte {
	start := len(b)
	b = strconv.AppendInt(b, int64(v), 10)
	for len(b)-start < width {
		b = append(b, 0)
		copy(b[start+1:], b[start:])
		b[start] = '0'
	}
	return b
}

// SplitReply cuts one line, "\r\n" included.
func (w *wialonSession) SplitReply(data, _ []byte) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if len(data) > 1024 {
		return 0, nil, fmt.Errorf("%w: wialon-ips reply of more than 1 KiB without a line break", ErrReplyFormat)
	}
	return 0, nil, nil
}
