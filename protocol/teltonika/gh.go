package teltonika

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// GH3000 (Codec 7) records. Their layout is driven by bit masks:
//
//	u32 time: bits 31-30 priority, bits 29-0 seconds since 2007-01-01 UTC
//	u8 global mask: bit 0 GPS element, bits 1-3 IO groups of 1, 2, 4 bytes
//	GPS element: u8 mask, then per bit: 0 latitude and longitude (float32
//	degrees), 1 altitude (i16 m), 2 angle (u8, ×360/256), 3 speed (u8 km/h),
//	4 satellites (u8), 5 LAC and cell id (u16 each), 6 signal quality (u8),
//	7 operator code (u32)
//	IO group: u8 count, then count × (u8 id, value)
//
// GH3000 AVL IDs do not mean what FM/FMB IDs mean, so every IO element is
// kept as custom.param.<id> with its raw value.

// ghEpoch is 2007-01-01 00:00:00 UTC.
const ghEpoch = 1167609600

// walkGH returns the offset just past the Codec 7 record at off.
func walkGH(b []byte, off int) (int, fault) {
	if off+5 > len(b) {
		return 0, errShort
	}
	global := b[off+4]
	off += 5
	if global&1 != 0 {
		if off >= len(b) {
			return 0, errShort
		}
		off += 1 + ghGPSSize(b[off])
	}
	for i, w := range [3]int{1, 2, 4} {
		if global&(2<<i) == 0 {
			continue
		}
		if off >= len(b) {
			return 0, errShort
		}
		off += 1 + int(b[off])*(1+w)
	}
	if off > len(b) {
		return 0, errShort
	}
	return off, errNone
}

// ghGPSSize is the size of a GPS element's fields after its mask.
func ghGPSSize(mask byte) int {
	n := 0
	for i, size := range [8]int{8, 2, 1, 1, 1, 4, 1, 4} {
		if mask&(1<<i) != 0 {
			n += size
		}
	}
	return n
}

// decodeGH decodes the Codec 7 record at b[off:] into a new message.
func (s *Session) decodeGH(b []byte, off int, r *protocol.Result) (int, error) {
	end, f := walkGH(b, off)
	if f != errNone {
		return 0, shortRecord(off)
	}
	m := r.NewMessageFor(s.ident, 0)
	t := binary.BigEndian.Uint32(b[off:])
	m.Add(protocol.ParamTimestamp, protocol.Int(int64(t&0x3FFFFFFF)+ghEpoch))
	global := b[off+4]
	off += 5
	if global&1 != 0 {
		mask := b[off]
		off++
		var sats byte
		latOK := false
		var lat, lon float64
		if mask&0x01 != 0 {
			// float32 holds about 7 significant digits: round to 1e-6 degrees
			// rather than print float64 noise.
			lat = math.Round(float64(math.Float32frombits(binary.BigEndian.Uint32(b[off:])))*1e6) / 1e6
			lon = math.Round(float64(math.Float32frombits(binary.BigEndian.Uint32(b[off+4:])))*1e6) / 1e6
			off += 8
			if !math.IsNaN(lat) && !math.IsNaN(lon) && math.Abs(lat) <= 90 && math.Abs(lon) <= 180 {
				latOK = true
				m.Add(protocol.ParamLatitude, protocol.Float(lat))
				m.Add(protocol.ParamLongitude, protocol.Float(lon))
			}
		}
		if mask&0x02 != 0 {
			m.Add(protocol.ParamAltitude, protocol.Int(int64(int16(binary.BigEndian.Uint16(b[off:])))))
			off += 2
		}
		if mask&0x04 != 0 {
			m.Add(protocol.ParamDirection, protocol.Float(float64(b[off])*360/256))
			off++
		}
		if mask&0x08 != 0 {
			m.Add(protocol.ParamSpeed, protocol.Int(int64(b[off])))
			off++
		}
		if mask&0x10 != 0 {
			sats = b[off]
			m.Add(protocol.ParamSatellites, protocol.Int(int64(sats)))
			off++
		}
		if mask&0x01 != 0 {
			m.Add(protocol.ParamValid, protocol.Bool(latOK && (mask&0x10 == 0 || sats > 0)))
		}
		if mask&0x20 != 0 {
			m.Add("gsm.lac", protocol.Int(int64(binary.BigEndian.Uint16(b[off:]))))
			m.Add("gsm.cellid", protocol.Int(int64(binary.BigEndian.Uint16(b[off+2:]))))
			off += 4
		}
		if mask&0x40 != 0 {
			m.Add("gsm.signal.level", protocol.Int(int64(b[off])))
			off++
		}
		if mask&0x80 != 0 {
			m.Add("gsm.operator.code", protocol.String(strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[off:])), 10)))
			off += 4
		}
	}
	m.Add(ParamPriority, protocol.Int(int64(t>>30)))
	var seen ioSet
	names := customNames()
	for i, w := range [3]int{1, 2, 4} {
		if global&(2<<i) == 0 {
			continue
		}
		n := int(b[off])
		off++
		for range n {
			id := uint16(b[off])
			put(m, &seen, id, names[id], protocol.Uint(beUint(b[off+1:off+1+w])))
			off += 1 + w
		}
	}
	if off != end {
		return 0, shortRecord(off) // cannot happen: walkGH measured the record
	}
	return end, nil
}

func beUint(b []byte) uint64 {
	var u uint64
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	return u
}
