package arnavi

import (
	"math"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// knots is km/h per knot.
const knots = 1.852

// tags decodes the tags of a record: each a tag number and a 4-byte
// little-endian value.
func tags(m *protocol.Message, d []byte) {
	var seen [4]uint64
	for ; len(d) >= 5; d = d[5:] {
		t := d[0]
		// The first tag of a number appends its parameters (each number has
		// names of its own); a repeated number replaces them. "din" and
		// "dout", which tags 6 and 9 share, are always set.
		put := m.Add
		if seen[t>>6]&(1<<(t&63)) != 0 {
			put = m.Set
		}
		seen[t>>6] |= 1 << (t & 63)
		tag(put, m.Set, t, d[1:5])
	}
	if len(d) > 0 {
		m.Set(paramTail, protocol.String(binfield.HexString(d)))
	}
}

func tag(put, set func(string, protocol.Value), t byte, v []byte) {
	u := le32(v)
	switch {
	case t == 0x01: // battery mV (bytes 0-1), external mV (bytes 2-3); 0 or 0xFFFF: none
		if bat := u & 0xFFFF; bat != 0 && bat != 0xFFFF {
			put("battery.voltage", protocol.Float(float64(bat)/1000))
		}
		if ext := u >> 16; ext != 0 && ext != 0xFFFF {
			put("external.powersource.voltage", protocol.Float(float64(ext)/1000))
		}
	case t == 0x03 || t == 0x04: // latitude, longitude: single-precision degrees
		x := float64(math.Float32frombits(u))
		name, lim := protocol.ParamLatitude, 90.0
		if t == 0x04 {
			name, lim = protocol.ParamLongitude, 180
		}
		if x != 0 && x >= -lim && x <= lim {
			put(name, protocol.Float(round(x)))
		}
	case t == 0x05: // course/2, altitude/10, satellites (GPS low, GLONASS high nibble), knots
		if v[2] == 0xFE || v[2] == 0xFF { // a position from cells (FE) or Wi-Fi (FF)
			put(protocol.ParamValid, protocol.Bool(false))
			put(paramLocator, protocol.Int(int64(v[2])))
			return
		}
		put(protocol.ParamDirection, protocol.Int(int64(v[0])*2))
		put(protocol.ParamAltitude, protocol.Int(int64(v[1])*10))
		put(protocol.ParamSatellites, protocol.Int(int64(v[2]&0x0F+v[2]>>4)))
		put(protocol.ParamSpeed, protocol.Float(math.Round(float64(v[3])*knots*100)/100))
		put(protocol.ParamValid, protocol.Bool(true))
	case t == 0x06: // an input in a mode: 1 discrete, 6 pulses, 7 frequency, 8 volts
		n := int(v[1])
		val := int64(le16(v[2:]))
		switch v[0] {
		case 1:
			set("din", protocol.Int(val))
			put(paramVirtualIgnition, protocol.Bool(v[1]&1 != 0))
			put(paramCallButton, protocol.Bool(v[1]&2 != 0))
		case 6:
			put(indexed(pulseNames, n), protocol.Int(val))
		case 7:
			put(indexed(frequencyNames, n), protocol.Int(val))
		case 8:
			put(indexed(ainNames, n), protocol.Float(float64(val)/1000))
		default:
			put(tagNames[t], protocol.Int(int64(u)))
		}
	case t == 0x07: // SIM1 cell: CID, LAC
		put("gsm.cellid", protocol.Int(int64(le16(v))))
		put("gsm.lac", protocol.Int(int64(le16(v[2:]))))
	case t == 0x08: // SIM1: MNC, MCC, signal 0-31
		put("gsm.mnc", protocol.Int(int64(v[0])))
		put("gsm.mcc", protocol.Int(int64(le16(v[1:]))))
		put("gsm.signal.level", protocol.Int(int64(v[3])))
	case t == 0x09: // device status
		put(paramStatus, protocol.Int(int64(u)))
		set("din", protocol.Int(int64(u&0xFF)))
		set("dout", protocol.Int(int64(u>>8&0x0F)))
		put(paramGSMState, protocol.Int(int64(u>>12&3)))
		put(paramGNSSState, protocol.Int(int64(u>>14&3)))
		put("movement.status", protocol.Bool(u&(1<<16) != 0))
		put(paramArmed, protocol.Bool(u&(1<<19) != 0))
		if u&(1<<20) != 0 {
			put("alarm.event.trigger", protocol.Bool(true))
			put("sos.event.trigger", protocol.Bool(true))
		}
	case t >= 0x14 && t <= 0x1B: // frequency on IN0-IN7, Hz
		put(indexed(frequencyNames, int(t-0x14)), protocol.Int(int64(u)))
	case t >= 0x1E && t <= 0x25: // voltage on IN0-IN7, mV
		put(indexed(ainNames, int(t-0x1E)), protocol.Float(float64(u)/1000))
	case t == 0x33: // CAN security flags (doors, hood, trunk, brake, engine, ignition)
		put(paramCANFlags, protocol.Int(int64(u)))
	case t == 0x34: // CAN engine hours × 100
		put("can.engine.motorhours", protocol.Float(float64(u)/100))
	case t == 0x35: // CAN odometer, km × 100
		put("can.vehicle.mileage", protocol.Float(float64(u)/100))
	case t == 0x36: // CAN fuel consumed, l × 10
		put("can.fuel.consumed", protocol.Float(float64(u)/10))
	case t == 0x37: // CAN fuel level, % × 10
		put("can.fuel.level", protocol.Float(float64(u&0xFFFF)/10))
	case t == 0x38: // CAN fuel level, l
		put("can.fuel.volume", protocol.Int(int64(u)))
	case t == 0x39: // CAN engine speed, rpm
		put("can.engine.rpm", protocol.Int(int64(u&0xFFFF)))
	case t == 0x3A: // CAN engine temperature, °C
		put("can.engine.temperature", protocol.Int(int64(int32(u))))
	case t == 0x3B: // CAN speed, km/h
		put("can.vehicle.speed", protocol.Int(int64(u)))
	case t >= 0x3C && t <= 0x40: // CAN axle loads 1-5, kg
		put(indexed(axleNames, int(t-0x3B)), protocol.Int(int64(u)))
	case t == 0x45: // CAN accelerator pedal %, engine load %, motion bits
		put(paramThrottle, protocol.Int(int64(v[0])))
		put(paramEngineLoad, protocol.Int(int64(v[1])))
	case t >= 0x5B && t <= 0x60: // fuel level sensors 1-6: level, temperature (raw - 100) / 10
		n := int(t - 0x5A)
		if lvl := le16(v); lvl != 0xFFFF {
			put(indexed(llsLevelNames, n), protocol.Int(int64(lvl)))
		}
		if tr := le16(v[2:]); tr != 0xFFFF {
			put(indexed(llsTempNames, n), protocol.Float((float64(tr)-100)/10))
		}
	case t == 0x63: // device status 2 (Arnavi 5)
		put(paramStatus2, protocol.Int(int64(u)))
	case t == 0x96: // GNSS mileage, km × 100
		put("gps.vehicle.mileage", protocol.Float(float64(u)/100))
	case t == 0x97: // HDOP × 100 in bits 0-15
		put(protocol.ParamHDOP, protocol.Float(float64(u&0xFFFF)/100))
	case t == 0xFB: // hardware and software versions
		put("device.hardware.version", protocol.String(strconv.Itoa(int(u&0xFFFF))))
		put("device.firmware.version", protocol.String(strconv.Itoa(int(u>>16))))
	default:
		put(tagNames[t], protocol.Int(int64(u)))
	}
}

// names is a family of indexed names made once, so that decoding does not
// build strings.
type names [256]string

func family(prefix string) *names {
	var f names
	for i := range f {
		f[i] = prefix + strconv.Itoa(i)
	}
	return &f
}

func indexed(f *names, n int) string { return f[n&0xFF] }

var (
	tagNames       = family("custom.tag.")
	pulseNames     = family("custom.pulses#")
	frequencyNames = family("custom.frequency#")
	ainNames       = family("ain#")
	axleNames      = family("can.axle.weight#")
	llsLevelNames  = family("custom.lls.level#")
	llsTempNames   = family("custom.lls.temperature#")
)
