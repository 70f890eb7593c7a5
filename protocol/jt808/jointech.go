package jt808

import (
	"math"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// jointech decodes Jointech's 0x5501 (real time) and 0x5502 (blind area)
// locations, which carry the JT600 binary location under a JT/T 808
// header: date DDMMYY and time hhmmss (BCD, UTC), latitude ddmm.mmmm and
// longitude dddmm.mmmm (BCD, 8 and 9 digits), a flags nibble (bit 0
// valid, bit 1 north, bit 2 east), speed (BCD, knots), course / 2, then
// signal, satellites, odometer (km), battery (%, 0xAA/0xAB charging), cell
// id, LAC, product type, status and alarm words, and items (ID, length,
// value; 0x02 the altitude). A body that does not fit is kept raw.
func (s *Session) jointech(h *header, r *protocol.Result) {
	b := h.body
	if len(b) < 35 {
		s.raw(h, r)
		return
	}
	var d [6]int
	for i := range 6 {
		v, ok := bcd(b[i])
		if !ok {
			s.raw(h, r)
			return
		}
		d[i] = v
	}
	lat, ok1 := bcdDigits(b[6:10], 8)
	lon, ok2 := bcdDigits(b[10:15], 9)
	speed, ok3 := bcd(b[15])
	if !ok1 || !ok2 || !ok3 || d[1] < 1 || d[1] > 12 || d[0] < 1 || d[0] > 31 {
		s.raw(h, r)
		return
	}
	flags := b[14] & 0x0F
	latDeg := float64(lat/1000000) + float64(lat%1000000)/10000/60
	lonDeg := float64(lon/1000000) + float64(lon%1000000)/10000/60
	if flags&0x02 == 0 && latDeg != 0 {
		latDeg = -latDeg
	}
	if flags&0x04 == 0 && lonDeg != 0 {
		lonDeg = -lonDeg
	}
	m := s.begin(r)
	ts := time.Date(2000+d[2], time.Month(d[1]), d[0], d[3], d[4], d[5], 0, time.UTC).Unix()
	m.Add(protocol.ParamTimestamp, protocol.Int(ts))
	if latDeg >= -90 && latDeg <= 90 && lonDeg >= -180 && lonDeg <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(math.Round(latDeg*1e7)/1e7))
		m.Add(protocol.ParamLongitude, protocol.Float(math.Round(lonDeg*1e7)/1e7))
	}
	m.Add(protocol.ParamValid, protocol.Bool(flags&0x01 != 0))
	m.Add(protocol.ParamSpeed, protocol.Float(math.Round(float64(speed)*1.852*100)/100))
	m.Add(protocol.ParamDirection, protocol.Int(int64(b[16])*2))
	m.Add(paramSignal, protocol.Int(int64(b[17])))
	m.Add(protocol.ParamSatellites, protocol.Int(int64(b[18])))
	m.Add(paramMileage, protocol.Int(int64(be32(b[19:]))))
	switch bat := b[23]; {
	case bat <= 100:
		m.Add("battery.level", protocol.Int(int64(bat)))
	case bat == 0xAA || bat == 0xAB:
		m.Add("battery.charging.status", protocol.Bool(true))
	}
	m.Add("gsm.cellid", protocol.Int(int64(be32(b[24:]))))
	m.Add("gsm.lac", protocol.Int(int64(be16(b[28:]))))
	m.Add(paramProduct, protocol.Int(int64(b[30])))
	m.Add(paramStatusBits, protocol.Int(int64(be16(b[31:]))))
	m.Add(paramJointechAlarm, protocol.Int(int64(be16(b[33:]))))
	if h.id == msgJointechBlind {
		m.Add(paramBuffered, protocol.Bool(true))
	}
	// Jointech's own items: 0x02 is the altitude (m, signed); the others
	// are kept as custom.param.<id>.
	rest := b[35:]
	for len(rest) >= 2 && 2+int(rest[1]) <= len(rest) {
		id, v := rest[0], rest[2:2+int(rest[1])]
		if id == 0x02 && len(v) == 2 {
			m.Set(protocol.ParamAltitude, protocol.Int(int64(int16(be16(v)))))
		} else {
			customItem(m.Set, id, v)
		}
		rest = rest[2+len(v):]
	}
	if len(rest) > 0 {
		m.Set(paramTail, protocol.String(binfield.HexString(rest)))
	}
	s.end(m, h)
}

func bcd(c byte) (int, bool) {
	hi, lo := c>>4, c&0x0F
	return int(hi)*10 + int(lo), hi <= 9 && lo <= 9
}

// bcdDigits reads n BCD digits from b, high nibble first.
func bcdDigits(b []byte, n int) (int, bool) {
	v := 0
	for i := range n {
		d := b[i/2] >> 4
		if i%2 == 1 {
			d = b[i/2] & 0x0F
		}
		if d > 9 {
			return 0, false
		}
		v = v*10 + int(d)
	}
	return v, true
}
