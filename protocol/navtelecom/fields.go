package navtelecom

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// fieldSizes are the sizes in bytes of the FLEX fields 1-255: fields 1-69
// are FLEX 1.0, 70-122 FLEX 2.0, 123-255 FLEX 3.0 (Navtelecom's FLEX field
// tables; the bitfield a device announces in "*>FLEX" selects which of
// them each record carries, in this order).
var fieldSizes = [255]uint8{
	// FLEX 1.0
	4, 2, 4, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 2, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 4, 4, 2, 2,
	4, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 2, 1, 4, 2, 2, 2, 2, 2, 1, 1, 1, 2, 4, 2, 1,
	// FLEX 2.0
	8, 2, 1, 16, 4, 2, 4, 37, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 6, 12, 24, 48, 1, 1, 1, 1, 4, 4,
	1, 4, 2, 6, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 1,
	// FLEX 3.0
	1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 1, 1, 2, 3, 2, 1, 1, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 2, 4, 4, 4, 2, 4, 2, 2, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4,
	4, 4, 6, 3, 1, 2, 2, 1, 4, 5, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 8,
}

// kind is how a field's bytes become a value.
type kind uint8

const (
	kindRaw     kind = iota // unsigned little-endian for 1, 2, 4, 8 bytes; hex otherwise
	kindUint                // unsigned little-endian, times scale
	kindInt                 // signed little-endian, times scale
	kindFloat               // IEEE 754 single, little-endian
	kindSpecial             // decoded by decodeSpecial
)

// field says what one FLEX field is.
type field struct {
	name  string
	kind  kind
	scale float64 // 0 means 1
}

// fields are the FLEX fields with a known meaning (FLEX 1.0 and the DOP
// field of 2.0), by field number - 1. Every other field is kept as
// "custom.flex.<n>".
var fields = func() (t [255]field) {
	set := func(n int, name string, k kind, scale float64) { t[n-1] = field{name, k, scale} }
	set(1, "record.seqnum", kindUint, 0)
	set(2, "event.enum", kindUint, 0)
	set(3, protocol.ParamTimestamp, kindUint, 0)
	set(4, "", kindSpecial, 0) // device status
	set(5, "custom.modules.status1.bitmask", kindUint, 0)
	set(6, "custom.modules.status2.bitmask", kindUint, 0)
	set(7, "gsm.signal.level", kindUint, 0)
	set(8, "", kindSpecial, 0) // GNSS state: on, valid, satellites
	set(9, "position.timestamp", kindUint, 0)
	set(10, protocol.ParamLatitude, kindInt, 1.0/600000) // 1e-4 minutes
	set(11, protocol.ParamLongitude, kindInt, 1.0/600000)
	set(12, protocol.ParamAltitude, kindInt, 0.1)
	set(13, protocol.ParamSpeed, kindFloat, 0)
	set(14, protocol.ParamDirection, kindUint, 0)
	set(15, "vehicle.mileage", kindFloat, 0)
	set(16, "custom.trip.mileage", kindFloat, 0)
	set(17, "custom.trip.duration", kindUint, 0)
	set(18, "custom.trip.valid.duration", kindUint, 0)
	set(19, "external.powersource.voltage", kindUint, 0.001)
	set(20, "battery.voltage", kindUint, 0.001)
	for i := range 8 {
		set(21+i, "ain#"+strconv.Itoa(i+1), kindUint, 0.001)
	}
	set(29, "", kindSpecial, 0) // inputs 1-8
	set(30, "", kindSpecial, 0) // inputs 9-16
	set(31, "", kindSpecial, 0) // outputs 1-8
	set(32, "", kindSpecial, 0) // outputs 9-16
	set(33, "custom.counter#1", kindUint, 0)
	set(34, "custom.counter#2", kindUint, 0)
	set(35, "custom.frequency#1", kindUint, 0)
	set(36, "custom.frequency#2", kindUint, 0)
	set(37, "engine.motorhours", kindUint, 1.0/3600) // seconds → hours
	for i := range 7 {
		set(38+i, "custom.lls.value#"+strconv.Itoa(i+1), kindUint, 0) // 1-6 RS-485, 7 RS-232
	}
	for i := range 8 {
		set(45+i, "custom.temperature#"+strconv.Itoa(i+1), kindInt, 0)
	}
	set(53, "custom.can.fuel.level.raw", kindUint, 0)
	set(54, "can.fuel.consumed", kindFloat, 0)
	set(55, "can.engine.rpm", kindUint, 0)
	set(56, "can.engine.coolant.temperature", kindInt, 0)
	set(57, "can.vehicle.mileage", kindFloat, 0)
	for i := range 5 {
		set(58+i, "can.axle.weight#"+strconv.Itoa(i+1), kindUint, 0)
	}
	set(63, "custom.can.accelerator.pedal.position", kindUint, 0)
	set(64, "custom.can.brake.pedal.position", kindUint, 0)
	set(65, "custom.can.engine.load", kindUint, 0)
	set(66, "custom.can.filter.fuel.level", kindUint, 0)
	set(67, "custom.can.engine.time", kindUint, 0)
	set(68, "custom.can.service.distance", kindInt, 0)
	set(69, "can.vehicle.speed", kindUint, 0)
	set(71, "", kindSpecial, 0) // HDOP, PDOP
	for i := range t {
		if t[i].name == "" && t[i].kind == kindRaw {
			t[i].name = "custom.flex." + strconv.Itoa(i+1)
		}
	}
	return
}()

// record decodes one FLEX record of the session's field set from b, which
// holds exactly its bytes, into m.
func (s *Session) record(m *protocol.Message, b []byte) {
	p := 0
	for _, n := range s.present[:s.npresent] {
		size := int(fieldSizes[n])
		v := b[p : p+size]
		p += size
		f := &fields[n]
		switch f.kind {
		case kindUint:
			u := le(v)
			if n >= 20 && u == 1<<(8*uint(size))-1 {
				continue // all ones: the sensor sent no data
			}
			if f.scale == 0 {
				m.Add(f.name, protocol.Uint(u))
			} else {
				m.Add(f.name, protocol.Float(round(float64(u)*f.scale)))
			}
		case kindInt:
			i := signed(v)
			if n >= 20 && i == -1<<(8*uint(size)-1) {
				continue // the minimum: the sensor sent no data
			}
			if f.scale == 0 {
				m.Add(f.name, protocol.Int(i))
			} else {
				m.Add(f.name, protocol.Float(round(float64(i)*f.scale)))
			}
		case kindFloat:
			x := float64(math.Float32frombits(binary.LittleEndian.Uint32(v)))
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			m.Add(f.name, protocol.Float(round3(x)))
		case kindSpecial:
			special(m, int(n)+1, v)
		default:
			if size == 1 || size == 2 || size == 4 || size == 8 {
				m.Add(f.name, protocol.Uint(le(v)))
			} else {
				m.Add(f.name, protocol.String(binfield.HexString(v)))
			}
		}
	}
}

// special decodes the fields whose bits carry several values.
func special(m *protocol.Message, n int, v []byte) {
	switch n {
	case 4: // device status: bit 0 test mode, 1 alarm notification, 2 alarm, 3-4 mode
		m.Add("custom.device.status.bitmask", protocol.Int(int64(v[0])))
		m.Add("alarm.mode.status", protocol.Bool(v[0]&0x04 != 0))
	case 8: // GNSS: bit 0 receiver on, bit 1 valid fix, bits 2-7 satellites
		m.Add("gnss.status", protocol.Bool(v[0]&0x01 != 0))
		m.Add(protocol.ParamValid, protocol.Bool(v[0]&0x02 != 0))
		m.Add(protocol.ParamSatellites, protocol.Int(int64(v[0]>>2)))
	case 29, 30: // digital inputs 1-8, 9-16: one "din" bitmask
		setBits(m, "din", v[0], n == 30)
	case 31, 32: // outputs 1-8, 9-16
		setBits(m, "dout", v[0], n == 32)
	case 71: // HDOP and PDOP, 0.1 each
		m.Add(protocol.ParamHDOP, protocol.Float(float64(v[0])/10))
		m.Add("position.pdop", protocol.Float(float64(v[1])/10))
	}
}

func setBits(m *protocol.Message, name string, b byte, high bool) {
	if !high {
		m.Add(name, protocol.Int(int64(b)))
		return
	}
	cur, _ := m.Int(name)
	m.Set(name, protocol.Int(cur&0xFF|int64(b)<<8))
}

// round keeps 7 significant decimals: single-precision floats and
// scaled integers carry no more, and the JSON stays short.
func round(x float64) float64 { return noNegZero(math.Round(x*1e7) / 1e7) }

// round3 keeps 3 decimals: what a single-precision float holds for km and
// km/h.
func round3(x float64) float64 { return noNegZero(math.Round(x*1000) / 1000) }

// noNegZero turns -0 into 0, which JSON cannot tell apart.
func noNegZero(x float64) float64 {
	if x == 0 {
		return 0
	}
	return x
}

func le(v []byte) uint64 {
	var u uint64
	for i := len(v) - 1; i >= 0; i-- {
		u = u<<8 | uint64(v[i])
	}
	return u
}

func signed(v []byte) int64 {
	u := le(v)
	shift := 64 - 8*uint(len(v))
	return int64(u<<shift) >> shift
}
