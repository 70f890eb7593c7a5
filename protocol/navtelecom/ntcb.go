package navtelecom

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// NTCB binary telemetry formats ("*>T", "*>A"): the first byte of a
// record (two bytes when the first is 0).
const (
	f10 = 0x01
	f20 = 0x02
	f30 = 0x03
	f40 = 0x04
	f50 = 0x05
	f51 = 0x15
	f52 = 0x25
	f60 = 0x06
)

func isF(f uint16, fs ...uint16) bool {
	for _, x := range fs {
		if f == x {
			return true
		}
	}
	return false
}

// reader reads little-endian fields and remembers running out of bytes.
type reader struct {
	b   []byte
	p   int
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || r.p+n > len(r.b) {
		r.bad = true
		return make([]byte, n)
	}
	v := r.b[r.p : r.p+n]
	r.p += n
	return v
}
func (r *reader) u8() uint8    { return r.take(1)[0] }
func (r *reader) u16() uint16  { return binary.LittleEndian.Uint16(r.take(2)) }
func (r *reader) u32() uint32  { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) f32() float64 { return float64(math.Float32frombits(r.u32())) }

// ntcbRecord decodes one NTCB binary telemetry record (formats F1.0-F6.0
// of Navtelecom's binary protocol for the Signal/Smart devices) at the
// reader's position into m. It reports false when the format is unknown
// or the bytes run out.
func ntcbRecord(m *protocol.Message, rd *reader) bool {
	format := uint16(rd.u8())
	if format == 0 { // a two-byte code: 00, then the format
		format = uint16(rd.u8())
	}
	if !isF(format, f10, f20, f30, f40, f50, f51, f52, f60) {
		return false
	}
	m.Add(paramFormat, protocol.Int(int64(format)))
	m.Add("record.seqnum", protocol.Int(int64(rd.u32())))
	m.Add("event.enum", protocol.Int(int64(rd.u16())))
	rd.take(6) // event time; the fix time below is the message time
	armed := rd.u8()
	if isF(format, f60) {
		m.Add("custom.armed.status", protocol.Bool(armed&1 != 0))
		m.Add("alarm.event.trigger", protocol.Bool(armed&2 != 0))
	} else {
		m.Add("custom.armed.status", protocol.Bool(armed&0x7F != 0))
		m.Add("alarm.event.trigger", protocol.Bool(armed&0x80 != 0))
	}
	m.Add("custom.status.bitmask", protocol.Int(int64(rd.u8())))
	m.Add("gsm.signal.level", protocol.Int(int64(rd.u8())))
	switch {
	case isF(format, f10, f20, f30):
		m.Add("dout", protocol.Int(int64(rd.u16())))
	case isF(format, f50, f51, f52):
		ext := rd.u8()
		m.Add("dout", protocol.Int(int64(ext&3)))
		m.Add(protocol.ParamSatellites, protocol.Int(int64(ext>>2)))
	default: // F4.0, F6.0
		m.Add("dout", protocol.Int(int64(rd.u8()&0x0F)))
	}
	if isF(format, f10, f20, f30, f40) {
		m.Add("din", protocol.Int(int64(rd.u16())))
	} else {
		m.Add("din", protocol.Int(int64(rd.u8())))
	}
	m.Add("external.powersource.voltage", protocol.Float(float64(rd.u16())/1000))
	m.Add("battery.voltage", protocol.Float(float64(rd.u16())/1000))
	if isF(format, f10, f20, f30) {
		m.Add("custom.temperature#1", protocol.Int(int64(int16(rd.u16()))))
	}
	if isF(format, f10, f20, f50, f51, f52, f60) {
		m.Add("custom.adc#1", protocol.Int(int64(rd.u16())))
		m.Add("custom.adc#2", protocol.Int(int64(rd.u16())))
	}
	if isF(format, f60) {
		m.Add("custom.adc#3", protocol.Int(int64(rd.u16())))
	}
	if isF(format, f20, f50, f51, f52, f60) {
		m.Add("custom.counter#1", protocol.Int(int64(rd.u32())))
		m.Add("custom.counter#2", protocol.Int(int64(rd.u32())))
	}
	if isF(format, f60) {
		rd.take(28) // fuel level sensors
		temperatures(m, rd)
		m.Add("can.axle.weight#1", protocol.Int(int64(int32(rd.u32()))))
		m.Add("can.engine.rpm", protocol.Int(int64(rd.u16())))
	}
	if isF(format, f20, f50, f51, f52, f60) {
		nav := rd.u8()
		valid := nav&2 != 0
		if isF(format, f60) {
			m.Add(protocol.ParamSatellites, protocol.Int(int64(nav>>2)))
		}
		t := rd.take(6) // hh mm ss dd MM(0-11) yy
		if t[3] >= 1 && t[3] <= 31 && t[4] < 12 && t[0] < 24 && t[1] < 60 && t[2] < 60 {
			ts := time.Date(2000+int(t[5]), time.Month(t[4]+1), int(t[3]), int(t[0]), int(t[1]), int(t[2]), 0, time.UTC)
			m.Add(protocol.ParamTimestamp, protocol.Int(ts.Unix()))
		}
		var lat, lon float64
		if isF(format, f60) {
			lat = float64(int32(rd.u32())) / 600000
			lon = float64(int32(rd.u32())) / 600000
			m.Add(protocol.ParamAltitude, protocol.Float(round(float64(int32(rd.u32()))/10)))
		} else { // radians, single precision
			lat = rd.f32() / math.Pi * 180
			lon = rd.f32() / math.Pi * 180
		}
		if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
			m.Add(protocol.ParamLatitude, protocol.Float(round(lat)))
			m.Add(protocol.ParamLongitude, protocol.Float(round(lon)))
		}
		m.Add(protocol.ParamValid, protocol.Bool(valid))
		if v := rd.f32(); v >= 0 && v < 2000 {
			m.Add(protocol.ParamSpeed, protocol.Float(round3(v)))
		}
		m.Add(protocol.ParamDirection, protocol.Int(int64(rd.u16())))
		if v := rd.f32(); !math.IsNaN(v) && !math.IsInf(v, 0) {
			m.Add("vehicle.mileage", protocol.Float(round3(v)))
		}
		if v := rd.f32(); !math.IsNaN(v) && !math.IsInf(v, 0) {
			m.Add("custom.trip.mileage", protocol.Float(round3(v)))
		}
		rd.take(4) // segment times
	}
	if isF(format, f51, f52) {
		rd.take(15)
	}
	if isF(format, f40, f52) {
		temperatures(m, rd)
	}
	return !rd.bad
}

// temperatures reads four 1-byte sensors; -128 means no sensor.
func temperatures(m *protocol.Message, rd *reader) {
	for i := range 4 {
		if v := int8(rd.u8()); v != -128 {
			m.Add(tempNames[i], protocol.Int(int64(v)))
		}
	}
}

var tempNames = [4]string{"custom.temperature#1", "custom.temperature#2", "custom.temperature#3", "custom.temperature#4"}
