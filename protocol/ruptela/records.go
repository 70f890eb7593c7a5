package ruptela

import (
	"encoding/binary"

	"github.com/gnssgate/gnssgate/protocol"
)

// decodeRecords decodes records (command 1) and extended records (command
// 68):
//
//	u8 records left in the device (0: none), u8 record count, then records:
//	u32 time (Unix seconds), u8 time extension, [68: u8 record extension],
//	u8 priority, i32 longitude, i32 latitude (×10⁻⁷; 0x80000000: no fix),
//	u16 altitude (×0.1 m), u16 angle (×0.01°), u8 satellites, u16 speed
//	(km/h), u8 HDOP (×0.1), event ID (1: u8, 68: u16), then four IO groups
//	(1-, 2-, 4- and 8-byte values), each a u8 count of (ID, value); IDs are
//	u8 in command 1 and u16 in command 68.
//
// A record of command 68 whose record extension says it continues the
// record before it (low nibble: part, from 1; high nibble: parts) adds its
// IO elements to that record's message instead of making a new one.
func (s *Session) decodeRecords(p []byte, extended bool, r *protocol.Result) error {
	const base = 11 // offset of p in the packet
	if len(p) < 2 {
		return protocol.Errorf(Name, base, protocol.ErrTruncated, "records header")
	}
	left, count := p[0], int(p[1])
	off := 2
	first := len(r.Messages)
	head := 23
	if extended {
		head = 25
	}
	for k := 0; k < count; k++ {
		if off+head > len(p) {
			return protocol.Errorf(Name, base+off, protocol.ErrTruncated, "record "+itoa(k)+" header")
		}
		rec := p[off:]
		ts := binary.BigEndian.Uint32(rec)
		tsExt := rec[4]
		i := 5
		merge := false
		if extended {
			ext := rec[5]
			part, parts := ext&0x0F, ext>>4
			merge = part > 0 && part <= parts && len(r.Messages) > first
			i = 6
		}
		priority := rec[i]
		gps := rec[i+1:]
		var event uint16
		if extended {
			event = binary.BigEndian.Uint16(rec[i+17:])
		} else {
			event = uint16(rec[i+17])
		}
		off += head

		var m *protocol.Message
		if merge {
			m = &r.Messages[len(r.Messages)-1]
		} else {
			m = s.begin(r, 48)
			m.Add(protocol.ParamTimestamp, protocol.Int(int64(ts)))
			if addPosition(m, gps[0:], gps[4:]) {
				m.Add(protocol.ParamAltitude, protocol.Float(float64(binary.BigEndian.Uint16(gps[8:]))/10))
				m.Add(protocol.ParamDirection, protocol.Float(float64(binary.BigEndian.Uint16(gps[10:]))/100))
				m.Add(protocol.ParamSatellites, protocol.Int(int64(gps[12])))
				m.Add(protocol.ParamSpeed, protocol.Int(int64(binary.BigEndian.Uint16(gps[13:]))))
				m.Add(protocol.ParamHDOP, protocol.Float(float64(gps[15])/10))
				m.Add(protocol.ParamValid, protocol.Bool(true))
			} else {
				m.Add(protocol.ParamValid, protocol.Bool(false))
			}
			m.Add(paramEvent, protocol.Int(int64(event)))
			m.Add(paramPriority, protocol.Int(int64(priority)))
			if tsExt != 0 {
				m.Add(paramTimestampExt, protocol.Int(int64(tsExt)))
			}
			if left != 0 {
				m.Add(paramRecordsLeft, protocol.Int(int64(left)))
			}
			s.seen.reset()
		}
		n, err := s.ioGroups(m, p[off:], extended, base+off)
		if err != nil {
			return err
		}
		off += n
	}
	return nil
}

// ioGroups decodes the four IO groups of a record and returns their size.
func (s *Session) ioGroups(m *protocol.Message, b []byte, extended bool, base int) (int, error) {
	idSize := 1
	if extended {
		idSize = 2
	}
	off := 0
	for _, size := range [4]int{1, 2, 4, 8} {
		if off >= len(b) {
			return 0, protocol.Errorf(Name, base+off, protocol.ErrTruncated, "IO group of "+itoa(size)+"-byte values")
		}
		count := int(b[off])
		off++
		if off+count*(idSize+size) > len(b) {
			return 0, protocol.Errorf(Name, base+off, protocol.ErrTruncated, itoa(count)+" IO elements of "+itoa(size)+" bytes")
		}
		for j := 0; j < count; j++ {
			var id uint16
			if extended {
				id = binary.BigEndian.Uint16(b[off:])
			} else {
				id = uint16(b[off])
			}
			off += idSize
			v := b[off : off+size]
			off += size
			var raw uint64
			switch size {
			case 1:
				raw = uint64(v[0])
			case 2:
				raw = uint64(binary.BigEndian.Uint16(v))
			case 4:
				raw = uint64(binary.BigEndian.Uint32(v))
			default:
				raw = binary.BigEndian.Uint64(v)
			}
			if s.seen.testAndSet(id) {
				continue // a repeated ID: the first value stands
			}
			s.ioParam(m, id, raw, size, v)
		}
	}
	return off, nil
}
