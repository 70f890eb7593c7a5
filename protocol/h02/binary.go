package h02

import (
	"encoding/hex"

	"github.com/gnssgate/gnssgate/protocol"
)

// decodeBinaryRecords decodes a "$" or "X" frame. Over TCP, Split hands
// over one record. A UDP datagram may hold several records of one size
// (the LKGPS document: "length is the integral times of 32").
func (s *Session) decodeBinaryRecords(frame []byte, r *protocol.Result) error {
	size := len(frame)
	if s.transport == protocol.UDP {
		switch {
		case s.binSize > 0 && len(frame)%s.binSize == 0:
			size = s.binSize
		case len(frame)%sizeStandard == 0:
			size = sizeStandard
		case len(frame)%sizeCell == 0:
			size = sizeCell
		}
	}
	for off := 0; off < len(frame); off += size {
		end := min(off+size, len(frame))
		if err := s.binary(frame[off:end], r); err != nil {
			if de, ok := err.(*protocol.DecodeError); ok {
				de.Offset += off
			}
			return err
		}
	}
	return nil
}

// bcd returns the two decimal digits of a BCD byte.
func bcd(b byte) (int, bool) {
	hi, lo := b>>4, b&0x0F
	return int(hi)*10 + int(lo), hi <= 9 && lo <= 9
}

// binary decodes one record:
//
//	'$'  id(5 BCD)  hhmmss  ddmmyy  lat(DDMMmmmm)  battery  lon(DDDMMmmmm)+flags
//	     speed(3 digits, knots)+course(3 digits)  status(4)  tail
//
// A 42-byte record carries an 8-byte id (15 digits and a filler). The
// tail of a 32-byte record is the user alarm flag, a reserved byte and the
// record number; a 45-byte record adds GSM and GPS signal, mileage, MCC,
// MNC, LAC and cell id before its record number. An X-mode record has the
// mileage (5 BCD bytes, units of 0.51444 m) in place of the id, and a
// temperature in place of the battery byte.
func (s *Session) binary(rec []byte, r *protocol.Result) error {
	n := len(rec)
	if n < sizeStandard {
		return protocol.Errorf(Name, n, protocol.ErrTruncated, "binary record shorter than 32 bytes")
	}
	xmode := rec[0] == 'X'
	idLen := 5
	if n == sizeLongID && !xmode {
		idLen = 8
	}
	if !xmode {
		var digits [16]byte
		hex.Encode(digits[:], rec[1:1+idLen])
		id := digits[:2*idLen]
		if idLen == 8 {
			id = id[:15]
		}
		s.setIdent(id)
	}
	p := 1 + idLen
	if n < p+26 {
		return protocol.Errorf(Name, n, protocol.ErrTruncated, "binary record shorter than its layout")
	}
	m := s.begin(r)
	var t [6]int
	timeOK := true
	for i := range t {
		v, ok := bcd(rec[p+i])
		t[i] = v
		timeOK = timeOK && ok
	}
	if timeOK {
		s.timestamp(m, 2000+t[5], t[4], t[3], t[0], t[1], t[2])
	}
	p += 6
	lat, okLat := bcdCoordinate(rec[p:p+4], 2)
	battery := rec[p+4]
	lon, okLon := bcdCoordinate(rec[p+5:p+10], 3)
	flags := rec[p+9] & 0x0F
	p += 10
	if okLat && okLon && lat <= 90 && lon <= 180 {
		if flags&0x04 == 0 && lat != 0 {
			lat = -lat
		}
		if flags&0x08 == 0 && lon != 0 {
			lon = -lon
		}
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
		var sd [6]byte
		sdOK := true
		for i := range 3 {
			b := rec[p+i]
			sd[2*i], sd[2*i+1] = b>>4, b&0x0F
			sdOK = sdOK && b>>4 <= 9 && b&0x0F <= 9
		}
		if sdOK {
			speed := int(sd[0])*100 + int(sd[1])*10 + int(sd[2])
			course := int(sd[3])*100 + int(sd[4])*10 + int(sd[5])
			m.Add(protocol.ParamSpeed, protocol.Float(float64(speed)*knotsToKmh))
			m.Add(protocol.ParamDirection, protocol.Float(float64(course)))
		}
	}
	m.Add(protocol.ParamValid, protocol.Bool(flags&0x02 != 0))
	p += 3
	st := uint32(rec[p])<<24 | uint32(rec[p+1])<<16 | uint32(rec[p+2])<<8 | uint32(rec[p+3])
	p += 4
	if xmode {
		if v, ok := bcdUint(rec[1:6]); ok {
			m.Add(paramMileage, protocol.Float(float64(v)*0.51444/1000))
		}
		// 0xFF: no sensor; 0xFE: sensor removed; otherwise half degrees.
		if battery < 0xFE {
			c := float64(battery) / 2
			if flags&0x01 != 0 && c != 0 {
				c = -c
			}
			m.Add(paramTemperature, protocol.Float(c))
		}
	} else if battery != 0 {
		addLevel(m, int(battery))
	}
	status(m, st)
	tail := rec[p:]
	switch {
	case len(tail) == 3:
		m.Add(paramUserAlarm, protocol.Int(int64(tail[0])))
		m.Add(paramSeqnum, protocol.Int(int64(tail[2])))
	case len(tail) == 16 && !xmode:
		m.Add(paramUserAlarm, protocol.Int(int64(tail[0])<<8|int64(tail[1])))
		m.Add(paramSignal, protocol.Int(int64(tail[2])))
		m.Add(paramGPSSignal, protocol.Int(int64(tail[3])))
		if v, ok := bcdUint(tail[4:8]); ok {
			m.Add(paramMileage, protocol.Float(float64(v)))
		}
		if mcc := int64(tail[8])<<8 | int64(tail[9]); mcc != 0 {
			m.Add(paramMCC, protocol.Int(mcc))
			m.Add(paramMNC, protocol.Int(int64(tail[10])))
			m.Add(paramLAC, protocol.Int(int64(tail[11])<<8|int64(tail[12])))
			m.Add(paramCellID, protocol.Int(int64(tail[13])<<8|int64(tail[14])))
		}
		m.Add(paramSeqnum, protocol.Int(int64(tail[15])))
	case len(tail) > 0:
		m.Add(paramTail, protocol.String(hex.EncodeToString(tail)))
	}
	typ := "BIN"
	if xmode {
		typ = "X"
	}
	m.Add(paramType, protocol.String(typ))
	return nil
}

// bcdCoordinate reads DDMMmmmm (deg = 2) or DDDMMmmmm (deg = 3, the
// ninth digit being the high nibble of a fifth byte) as degrees.
func bcdCoordinate(b []byte, deg int) (float64, bool) {
	var d [9]int
	nd := deg + 6
	for i := range nd {
		v := b[i/2]
		if i%2 == 0 {
			v >>= 4
		} else {
			v &= 0x0F
		}
		if v > 9 {
			return 0, false
		}
		d[i] = int(v)
	}
	degrees := 0
	for i := range deg {
		degrees = degrees*10 + d[i]
	}
	mins := 0
	for i := deg; i < nd; i++ {
		mins = mins*10 + d[i]
	}
	if mins >= 600000 {
		return 0, false
	}
	return float64(degrees) + float64(mins)/10000/60, true
}

// bcdUint reads BCD digits as a number.
func bcdUint(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		d, ok := bcd(c)
		if !ok {
			return 0, false
		}
		v = v*100 + uint64(d)
	}
	return v, true
}
