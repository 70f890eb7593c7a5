package meitrack

import (
	"encoding/binary"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// decodeCCE decodes the binary report (CCE; CFF on some models):
//
//	u32 records left in the buffer, u16 packet count, then per packet:
//	u16 packet length (from the index on), u16 index, and four groups, each
//	a one-byte count of (ID, value) pairs: 1-byte values, 2-byte, 4-byte,
//	and (ID, u8 length, bytes). An ID is one byte, or two when the first is
//	0xFE. Multi-byte values are little-endian.
//
// Every packet is one message.
func (s *Session) decodeCCE(f *frame, r *protocol.Result) error {
	b := f.body
	if len(b) < 6 {
		return protocol.Errorf(Name, f.bodyOff, protocol.ErrTruncated, "CCE header")
	}
	remaining := binary.LittleEndian.Uint32(b)
	count := int(binary.LittleEndian.Uint16(b[4:]))
	off := 6
	for k := 0; k < count; k++ {
		if off+2 > len(b) {
			return protocol.Errorf(Name, f.bodyOff+off, protocol.ErrTruncated, "CCE packet "+strconv.Itoa(k)+" length")
		}
		n := int(binary.LittleEndian.Uint16(b[off:]))
		start := off + 2
		end := start + n
		if end > len(b) || n < 2 {
			return protocol.Errorf(Name, f.bodyOff+off, protocol.ErrTruncated, "CCE packet "+strconv.Itoa(k)+" runs past the frame")
		}
		m := s.begin(r, 40)
		if err := s.cceParams(m, b[start:end], f.bodyOff+start); err != nil {
			return err
		}
		m.Add(paramRecordIndex, protocol.Int(int64(binary.LittleEndian.Uint16(b[start:]))))
		m.Add(paramCacheRemaining, protocol.Int(int64(remaining)))
		m.Add(paramFrameType, protocol.String(frameTypeName(f.typ)))
		off = end
	}
	return nil
}

// cceState is what one CCE packet's parameters combine into.
type cceState struct {
	cells    []byte // gsm.cells JSON, built when a neighbour cell appears
	wifi     []byte // wifi.access.points JSON
	event    uint64
	hasEvent bool
	seen     [16]uint64 // IDs met: 0x00–0xFF, 0xFE00–0xFEFF, then both again for the variable-length group
}

// repeat marks id and reports whether the packet met it already: a packet
// that repeats an ID keeps the first value, so a message never repeats a
// name and a hostile packet costs linear time.
func (x *cceState) repeat(id uint16, variable bool) bool {
	k := uint(id & 0xFF)
	if id > 0xFF {
		k += 256
	}
	if variable { // the variable-length group has IDs of its own (0x25: Wi-Fi, not RFID)
		k += 512
	}
	if x.seen[k/64]&(1<<(k%64)) != 0 {
		return true
	}
	x.seen[k/64] |= 1 << (k % 64)
	return false
}

// seenFixed reports whether a fixed-size group of the packet had id.
func (x *cceState) seenFixed(id uint16) bool {
	k := uint(id & 0xFF)
	if id > 0xFF {
		k += 256
	}
	return x.seen[k/64]&(1<<(k%64)) != 0
}

// cceParams decodes one packet: index, then the four parameter groups.
func (s *Session) cceParams(m *protocol.Message, p []byte, base int) error {
	off := 2 // after the index
	var extra cceState
	for group := 0; group < 4; group++ {
		if off >= len(p) {
			return protocol.Errorf(Name, base+off, protocol.ErrTruncated, "CCE parameter group "+strconv.Itoa(group+1))
		}
		count := int(p[off])
		off++
		for j := 0; j < count; j++ {
			if off >= len(p) {
				return protocol.Errorf(Name, base+off, protocol.ErrTruncated, "CCE parameter id")
			}
			id := uint16(p[off])
			off++
			if id == 0xFE {
				if off >= len(p) {
					return protocol.Errorf(Name, base+off, protocol.ErrTruncated, "CCE parameter id")
				}
				id = 0xFE00 | uint16(p[off])
				off++
			}
			var size int
			switch group {
			case 0:
				size = 1
			case 1:
				size = 2
			case 2:
				size = 4
			default:
				if off >= len(p) {
					return protocol.Errorf(Name, base+off, protocol.ErrTruncated, "CCE parameter length")
				}
				size = int(p[off])
				off++
			}
			if off+size > len(p) {
				return protocol.Errorf(Name, base+off, protocol.ErrTruncated, "CCE parameter 0x"+strconv.FormatUint(uint64(id), 16)+" value")
			}
			v := p[off : off+size]
			off += size
			if extra.repeat(id, group == 3) {
				continue
			}
			if group < 3 {
				cceNumber(m, id, size, leUint(v), &extra)
			} else {
				cceBytes(m, id, v, &extra)
			}
		}
	}
	if extra.hasEvent {
		m.Add(paramEvent, protocol.Int(int64(extra.event)))
		eventTriggers(m, extra.event)
	}
	if len(extra.cells) > 0 {
		m.Add(paramCells, protocol.RawJSON(string(append(extra.cells, ']'))))
	}
	if len(extra.wifi) > 0 {
		m.Add(paramWiFi, protocol.RawJSON(string(append(extra.wifi, ']'))))
	}
	return nil
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// cceNumber decodes a fixed-size parameter. IDs whose meaning the documents
// and flespi's Meitrack channel fix get their names; others are kept as
// custom.param.<id>, raw.
func cceNumber(m *protocol.Message, id uint16, size int, v uint64, x *cceState) {
	switch {
	case id == 0x01 && size == 1, id == 0x40 && size == 2:
		x.event, x.hasEvent = v, true // 0x40, the two-byte code, comes later and wins
	case id == 0x02 && size == 4:
		m.Add(protocol.ParamLatitude, protocol.Float(float64(int32(v))/1e6))
	case id == 0x03 && size == 4:
		m.Add(protocol.ParamLongitude, protocol.Float(float64(int32(v))/1e6))
	case id == 0x04 && size == 4:
		m.Add(protocol.ParamTimestamp, protocol.Int(epoch2000+int64(v)))
	case id == 0x05 && size == 1:
		m.Add(protocol.ParamValid, protocol.Bool(v != 0))
	case id == 0x06 && size == 1:
		m.Add(protocol.ParamSatellites, protocol.Int(int64(v)))
	case id == 0x07 && size == 1:
		m.Add(paramGSMSignal, protocol.Int(int64(v)))
	case id == 0x08 && size == 2:
		m.Add(protocol.ParamSpeed, protocol.Int(int64(v)))
	case id == 0x09 && size == 2:
		m.Add(protocol.ParamDirection, protocol.Int(int64(v)))
	case id == 0x0A && size == 2:
		m.Add(protocol.ParamHDOP, protocol.Float(float64(v)/10))
	case id == 0x0B && size == 2:
		m.Add(protocol.ParamAltitude, protocol.Int(int64(int16(v))))
	case id == 0x0C && size == 4:
		m.Add(paramMileage, protocol.Float(float64(v)/1000))
	case id == 0x0D && size == 4:
		m.Set(paramMotorHours, protocol.Float(float64(v)/3600))
	case id == 0x14 && size == 1:
		m.Add(paramDout, protocol.Int(int64(v)))
	case id == 0x15 && size == 1:
		m.Add(paramDin, protocol.Int(int64(v)))
	case id >= 0x16 && id <= 0x18 && size == 2:
		m.Add(ainNames[id-0x16], protocol.Float(float64(v)/100))
	case id == 0x19 && size == 2:
		m.Add(paramBattery, protocol.Float(float64(v)/100))
	case id == 0x1A && size == 2:
		m.Add(paramPower, protocol.Float(float64(v)/100))
	case id == 0x25 && size == 4:
		m.Add(paramIButton, protocol.String(hex8(uint32(v))))
	case id == 0x29 && size == 2:
		m.Add(paramFuelLevel, protocol.Float(float64(v)/100))
	case id == 0x99 && size == 2:
		m.Add(paramRPM, protocol.Int(int64(v)))
	case (id == 0x91 || id == 0x92) && size == 2:
		m.Set(paramCANSpeed, protocol.Int(int64(v)))
	case id == 0xFE69 && size == 1:
		m.Add(paramBatteryLvl, protocol.Int(int64(v)))
	case id == 0xFEF4 && size == 4:
		m.Set(paramMotorHours, protocol.Float(float64(v)/60)) // minutes
	default:
		m.Add(customName(id), protocol.Uint(v))
	}
}

// cceBytes decodes a variable-length parameter.
func cceBytes(m *protocol.Message, id uint16, v []byte, x *cceState) {
	switch {
	case id >= 0x0E && id <= 0x13 && len(v) >= 10:
		mcc := binary.LittleEndian.Uint16(v)
		mnc := binary.LittleEndian.Uint16(v[2:])
		lac := binary.LittleEndian.Uint16(v[4:])
		ci := binary.LittleEndian.Uint32(v[6:])
		var rssi int16
		hasRSSI := len(v) >= 12
		if hasRSSI {
			rssi = int16(binary.LittleEndian.Uint16(v[10:]))
		}
		if id == 0x0E {
			if mcc != 0 {
				m.Add(paramMCC, protocol.Int(int64(mcc)))
				m.Add(paramMNC, protocol.Int(int64(mnc)))
				m.Add(paramLAC, protocol.Int(int64(lac)))
				m.Add(paramCellID, protocol.Int(int64(ci)))
			}
			return
		}
		x.cells = protocol.AppendGSMCell(x.cells, uint64(mcc), uint64(mnc), uint64(lac), uint64(ci), int64(rssi), hasRSSI)
	case id >= 0x1D && id <= 0x25 && len(v) >= 8:
		if len(x.wifi) == 0 {
			x.wifi = append(x.wifi, '[')
		} else {
			x.wifi = append(x.wifi, ',')
		}
		x.wifi = append(x.wifi, `{"mac":"`...)
		for i, c := range v[:6] {
			if i > 0 {
				x.wifi = append(x.wifi, ':')
			}
			x.wifi = append(x.wifi, lowerHex[c>>4], lowerHex[c&15])
		}
		x.wifi = append(x.wifi, `","rssi":`...)
		x.wifi = strconv.AppendInt(x.wifi, int64(int16(binary.LittleEndian.Uint16(v[6:]))), 10)
		x.wifi = append(x.wifi, '}')
	case id >= 0x2A && id <= 0x31 && len(v) == 3:
		m.Set(temperatureName(int(v[0])), protocol.Float(float64(int16(binary.LittleEndian.Uint16(v[1:])))/100))
	case x.seenFixed(id): // the same ID with a fixed size came first: one name, the later value
		m.Set(customName(id), protocol.String(hexLower(v)))
	default:
		m.Add(customName(id), protocol.String(hexLower(v)))
	}
}

func hex8(v uint32) string {
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = lowerHex[v&15]
		v >>= 4
	}
	return string(b[:])
}

// CCC packet layout of protocol version 0x0102 (the one every CCC capture
// shows): 52 bytes, little-endian.
const cccPacketLen = 52

// decodeCCC decodes the compressed report: u16 protocol version, u16 packet
// length, u32 records left in the buffer, then packets of that length. The
// server confirms with "CCC,<packets received>", after which the device
// deletes them.
func (s *Session) decodeCCC(f *frame, r *protocol.Result) error {
	b := f.body
	if len(b) < 8 {
		return protocol.Errorf(Name, f.bodyOff, protocol.ErrTruncated, "CCC header")
	}
	size := int(binary.LittleEndian.Uint16(b[2:]))
	remaining := binary.LittleEndian.Uint32(b[4:])
	if size == 0 {
		return protocol.Errorf(Name, f.bodyOff+2, protocol.ErrMalformed, "CCC packet length 0")
	}
	count := 0
	for off := 8; off+size <= len(b); off += size {
		p := b[off : off+size]
		m := s.begin(r, 32)
		if size >= cccPacketLen {
			cccPacket(m, p)
			if size > cccPacketLen {
				m.Add(paramReportTail, protocol.String(hexLower(p[cccPacketLen:])))
			}
		} else {
			m.Add(paramReportTail, protocol.String(hexLower(p)))
		}
		m.Add(paramCacheRemaining, protocol.Int(int64(remaining)))
		m.Add(paramFrameType, protocol.String("CCC"))
		count++
	}
	var n [20]byte
	r.Reply = AppendFrame(r.Reply[:0], '@', f.flag, s.ident, f.typ, strconv.AppendInt(n[:0], int64(count), 10))
	return nil
}

// cccPacket decodes one 52-byte CCC packet: event, latitude, longitude
// (÷10⁶), time (seconds since 2000), fix, satellites, GSM signal, speed,
// direction, HDOP (÷10), altitude, mileage (m), run time (s), MCC, MNC, LAC,
// cell id, I/O status, AD1, battery (÷100 V), external power, geofence.
func cccPacket(m *protocol.Message, p []byte) {
	le16 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint16(p[o:])) }
	le32 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint32(p[o:])) }
	m.Add(protocol.ParamTimestamp, protocol.Int(epoch2000+int64(le32(9))))
	m.Add(protocol.ParamLatitude, protocol.Float(float64(int32(le32(1)))/1e6))
	m.Add(protocol.ParamLongitude, protocol.Float(float64(int32(le32(5)))/1e6))
	m.Add(protocol.ParamValid, protocol.Bool(p[13] == 1))
	m.Add(protocol.ParamSatellites, protocol.Int(int64(p[14])))
	m.Add(paramGSMSignal, protocol.Int(int64(p[15])))
	m.Add(protocol.ParamSpeed, protocol.Int(int64(le16(16))))
	m.Add(protocol.ParamDirection, protocol.Int(int64(le16(18))))
	m.Add(protocol.ParamHDOP, protocol.Float(float64(le16(20))/10))
	m.Add(protocol.ParamAltitude, protocol.Int(int64(int16(le16(22)))))
	m.Add(paramMileage, protocol.Float(float64(le32(24))/1000))
	m.Add(paramMotorHours, protocol.Float(float64(le32(28))/3600))
	if mcc := le16(32); mcc != 0 {
		m.Add(paramMCC, protocol.Int(int64(mcc)))
		m.Add(paramMNC, protocol.Int(int64(le16(34))))
		m.Add(paramLAC, protocol.Int(int64(le16(36))))
		m.Add(paramCellID, protocol.Int(int64(le16(38))))
	}
	io := le16(40)
	m.Add(paramDin, protocol.Int(int64(io>>8)))
	m.Add(paramDout, protocol.Int(int64(io&0xFF)))
	m.Add(ainNames[0], protocol.Float(float64(le16(42))/100))
	m.Add(paramBattery, protocol.Float(float64(le16(44))/100))
	m.Add(paramPower, protocol.Float(float64(le16(46))/100))
	event := uint64(p[0])
	m.Add(paramEvent, protocol.Int(int64(event)))
	eventTriggers(m, event)
	if g := le32(48); g != 0 {
		m.Add(paramGeofenceID, protocol.Int(int64(g)))
	}
}
