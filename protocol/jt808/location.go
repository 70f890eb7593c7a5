package jt808

import (
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// locationLen is the basic location information: alarm flags, status,
// latitude, longitude, altitude, speed, direction, time.
const locationLen = 28

// decodeLocation decodes a location information body (0x0200, and inside
// 0x0201, 0x0500, 0x0704, 0x0801) into m: the 28 basic bytes, then the
// additional items (ID, length, value). It reports false when b is shorter
// than the basic information or the coordinates cannot be.
func decodeLocation(m *protocol.Message, b []byte, loc *time.Location) bool {
	if len(b) < locationLen {
		return false
	}
	alarm, status := be32(b), be32(b[4:])
	lat, lon := float64(be32(b[8:]))/1e6, float64(be32(b[12:]))/1e6
	if lat > 90 || lon > 180 {
		return false
	}
	if status&(1<<2) != 0 && lat != 0 {
		lat = -lat
	}
	if status&(1<<3) != 0 && lon != 0 {
		lon = -lon
	}
	if ts, ok := bcdTime(b[22:28], loc); ok {
		m.Add(protocol.ParamTimestamp, protocol.Float(ts))
	}
	m.Add(protocol.ParamLatitude, protocol.Float(lat))
	m.Add(protocol.ParamLongitude, protocol.Float(lon))
	// The standard has altitude as an unsigned WORD; devices below sea
	// level send it two's-complement.
	m.Add(protocol.ParamAltitude, protocol.Int(int64(int16(be16(b[16:])))))
	m.Add(protocol.ParamSpeed, protocol.Float(float64(be16(b[18:]))/10))
	m.Add(protocol.ParamDirection, protocol.Int(int64(be16(b[20:]))))
	m.Add(protocol.ParamValid, protocol.Bool(status&(1<<1) != 0))
	m.Add(paramIgnition, protocol.Bool(status&1 != 0))
	m.Add(paramStatusBits, protocol.Int(int64(status)))
	if status&(1<<4) != 0 {
		m.Add(paramOperating, protocol.Bool(true))
	}
	if status&(1<<5) != 0 {
		m.Add(paramEncCoords, protocol.Bool(true))
	}
	if v := status >> 8 & 3; v != 0 {
		m.Add(paramLoad, protocol.Int(int64(v)))
	}
	if status&(1<<10) != 0 {
		m.Add(paramFuelCut, protocol.Bool(true))
	}
	if status&(1<<11) != 0 {
		m.Add(paramCircuitCut, protocol.Bool(true))
	}
	if status&(1<<12) != 0 {
		m.Add(paramDoorLocked, protocol.Bool(true))
	}
	if v := status >> 13 & 0x1F; v != 0 {
		m.Add(paramDoorsOpen, protocol.Int(int64(v)))
	}
	if v := status >> 18 & 0xF; v != 0 {
		m.Add(paramGNSSUsed, protocol.Int(int64(v)))
	}
	if alarm != 0 {
		m.Add(paramAlarmBits, protocol.Int(int64(alarm)))
		m.Add(paramAlarm, protocol.Bool(true))
		for bit := range 32 {
			if alarm&(1<<bit) != 0 && alarmBits[bit] != "" {
				m.Add(alarmBits[bit], protocol.Bool(true))
			}
		}
	}
	items(m, b[locationLen:])
	return true
}

// items decodes the additional location items. The standard's items get
// names and units; the rest (manufacturers' items, 0xE1-0xFF and others)
// are kept as "custom.param.<id>": a number for 1, 2 and 4-byte values,
// text for other printable values, hex otherwise. An item whose length runs past the body ends the
// list; its bytes are kept in "custom.message.tail".
func items(m *protocol.Message, b []byte) {
	var seen [4]uint64
	for len(b) >= 2 {
		id, n := b[0], int(b[1])
		if 2+n > len(b) {
			break
		}
		v := b[2 : 2+n]
		b = b[2+n:]
		// The first item of an ID appends its parameters; a repeated ID (or
		// the area items 0x11 and 0x12, which share names) replaces them.
		set := seen[id>>6]&(1<<(id&63)) != 0 || id == 0x11 || id == 0x12
		seen[id>>6] |= 1 << (id & 63)
		put := m.Add
		if set {
			put = m.Set
		}
		if !standardItem(put, id, v) {
			customItem(put, id, v)
		}
	}
	if len(b) > 0 {
		m.Set(paramTail, protocol.String(binfield.HexString(b)))
	}
}

// standardItem decodes the items of JT/T 808-2013 table 27 and 2019 table
// 27, and the JT/T 1078 video alarm items, when their length is the
// documented one.
func standardItem(put func(string, protocol.Value), id byte, v []byte) bool {
	switch {
	case id == 0x01 && len(v) == 4: // mileage, 1/10 km
		put(paramMileage, protocol.Float(float64(be32(v))/10))
	case id == 0x02 && len(v) == 2: // fuel, 1/10 l
		put(paramFuel, protocol.Float(float64(be16(v))/10))
	case id == 0x03 && len(v) == 2: // tachograph speed, 1/10 km/h
		put(paramTachoSpeed, protocol.Float(float64(be16(v))/10))
	case id == 0x04 && len(v) == 2: // ID of an alarm awaiting manual confirmation
		put(paramConfirmEvent, protocol.Int(int64(be16(v))))
	case id == 0x05 && len(v) == 30: // tyre pressures, Pa (2019)
		put(paramTyres, protocol.String(binfield.HexString(v)))
	case id == 0x06 && len(v) == 2: // compartment temperature, °C, signed (2019)
		put(paramCargoTemp, protocol.Int(int64(int16(be16(v)))))
	case id == 0x11 && (len(v) == 1 || len(v) == 5): // overspeed: area type [, area id]
		put(paramAreaType, protocol.Int(int64(v[0])))
		if len(v) == 5 {
			put(paramAreaID, protocol.Int(int64(be32(v[1:]))))
		}
	case id == 0x12 && len(v) == 6: // area entered or left: type, id, direction (0 in, 1 out)
		put(paramAreaType, protocol.Int(int64(v[0])))
		put(paramAreaID, protocol.Int(int64(be32(v[1:]))))
		put(paramGeofenceIn, protocol.Bool(v[5] == 0))
	case id == 0x13 && len(v) == 7: // route segment time: id, seconds, 0 too short / 1 too long
		put(paramRouteID, protocol.Int(int64(be32(v))))
		put(paramRouteTime, protocol.Int(int64(be16(v[4:]))))
		put(paramRouteResult, protocol.Bool(v[6] == 1))
	case id == 0x14 && len(v) == 4: // JT/T 1078 video alarms
		put(paramVideoAlarm, protocol.Int(int64(be32(v))))
	case id == 0x15 && len(v) == 4:
		put(paramVideoLoss, protocol.Int(int64(be32(v))))
	case id == 0x16 && len(v) == 4:
		put(paramVideoBlock, protocol.Int(int64(be32(v))))
	case id == 0x17 && len(v) == 2:
		put(paramStorageFault, protocol.Int(int64(be16(v))))
	case id == 0x18 && len(v) == 2:
		put(paramBehaviour, protocol.Int(int64(be16(v))))
	case id == 0x25 && len(v) == 4: // extended vehicle signals (lights, brake, …)
		put(paramSignals, protocol.Int(int64(be32(v))))
	case id == 0x2A && len(v) == 2: // IO status: bit 0 deep sleep, bit 1 sleep
		put(paramIOStatus, protocol.Int(int64(be16(v))))
	case id == 0x2B && len(v) == 4: // analog: AD0 in bits 0-15, AD1 in 16-31
		w := be32(v)
		put(paramAD0, protocol.Int(int64(w&0xFFFF)))
		put(paramAD1, protocol.Int(int64(w>>16)))
	case id == 0x30 && len(v) == 1: // wireless signal strength
		put(paramSignal, protocol.Int(int64(v[0])))
	case id == 0x31 && len(v) == 1: // GNSS satellites
		put(protocol.ParamSatellites, protocol.Int(int64(v[0])))
	case id == 0xE0 && len(v) == 1: // length of the custom items that follow
		put(paramCustomLen, protocol.Int(int64(v[0])))
	default:
		return false
	}
	return true
}

// customParams are the names "custom.param.0" … "custom.param.255", made
// once so that decoding does not build them.
var customParams = func() (names [256]string) {
	for i := range names {
		names[i] = "custom.param." + strconv.Itoa(i)
	}
	return
}()

func customItem(put func(string, protocol.Value), id byte, v []byte) {
	name := customParams[id]
	switch len(v) {
	case 1:
		put(name, protocol.Int(int64(v[0])))
	case 2:
		put(name, protocol.Int(int64(be16(v))))
	case 4:
		put(name, protocol.Int(int64(be32(v))))
	default:
		if len(v) > 0 && printable(v) {
			put(name, protocol.String(string(v)))
		} else {
			put(name, protocol.String(binfield.HexString(v)))
		}
	}
}

// bcdTime reads YYMMDDhhmmss (BCD, years 2000-2099) in loc.
func bcdTime(b []byte, loc *time.Location) (float64, bool) {
	var v [6]int
	for i := range 6 {
		hi, lo := b[i]>>4, b[i]&0x0F
		if hi > 9 || lo > 9 {
			return 0, false
		}
		v[i] = int(hi)*10 + int(lo)
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60 {
		return 0, false
	}
	t := time.Date(2000+v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, loc)
	return float64(t.Unix()), true
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// text reads a fixed-width text field: NUL and space padding dropped,
// bytes outside printable ASCII kept as hex of the whole field.
func text(b []byte) string {
	end := len(b)
	for end > 0 && (b[end-1] == 0 || b[end-1] == ' ' || b[end-1] == 0xFF) {
		end--
	}
	start := 0
	for start < end && b[start] == 0 {
		start++
	}
	b = b[start:end]
	for _, c := range b {
		if c < 0x20 || c >= 0x7F {
			return binfield.HexString(b)
		}
	}
	return string(b)
}
