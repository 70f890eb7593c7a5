package meitrack

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// decodeAAA decodes a position report: AAA (automatic events and the
// answer to A10) and AFF (the same report with a buffer index first, sent
// when the server must confirm events). The fields, in order: event code,
// latitude, longitude, date and time, fix, satellites, GSM signal, speed,
// direction, HDOP, altitude, mileage, run time, base station, I/O status,
// analog inputs, then (later firmware) assisted event information,
// customized data, protocol version, fuel, temperature sensors, maximum
// acceleration and deceleration; what follows is kept as text.
//
// The fields are read in one pass, each parsed as it is scanned.
func (s *Session) decodeAAA(f *frame, r *protocol.Result) error {
	body := f.body
	if bytes.Count(body, comma) < 13 {
		return protocol.Errorf(Name, f.bodyOff, protocol.ErrMalformed, "AAA report with fewer than 14 fields")
	}
	sc := fieldScanner{b: body, more: true}
	var index []byte
	if f.typ[1] == 'F' { // AFF,<index>,<event>,…
		index, _ = sc.raw()
	}
	event, ok := sc.uint()
	if !ok {
		return protocol.Errorf(Name, f.bodyOff, protocol.ErrMalformed, "event code is not a number")
	}
	lat, ok1 := sc.decimal()
	lon, ok2 := sc.decimal()
	tf, _ := sc.raw()
	ts, ok3 := parseTime(tf)
	if !ok1 || !ok2 || !ok3 || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return protocol.Errorf(Name, f.bodyOff, protocol.ErrMalformed, "bad latitude, longitude or time")
	}
	if f.typ[0] == 'A' && f.typ[1] == 'A' { // an A10 query is answered with AAA
		s.respondIfPending(f, r)
	}

	m := s.begin(r, 40)
	m.Add(protocol.ParamTimestamp, protocol.Int(ts))
	m.Add(protocol.ParamLatitude, protocol.Float(lat))
	m.Add(protocol.ParamLongitude, protocol.Float(lon))
	valid, _ := sc.raw()
	m.Add(protocol.ParamValid, protocol.Bool(len(valid) == 1 && valid[0] == 'A'))
	sc.addUint(m, protocol.ParamSatellites)
	sc.addUint(m, paramGSMSignal)
	sc.addDecimal(m, protocol.ParamSpeed, 1)
	sc.addDecimal(m, protocol.ParamDirection, 1)
	sc.addDecimal(m, protocol.ParamHDOP, 1)
	sc.addDecimal(m, protocol.ParamAltitude, 1)
	sc.addDecimal(m, paramMileage, 1000)    // m → km
	sc.addDecimal(m, paramMotorHours, 3600) // s → h
	cell, _ := sc.raw()
	addCell(m, cell)
	if io, ok := sc.raw(); ok {
		if v, ok := textfield.Hex(io); ok && len(io) == 4 {
			m.Add(paramDin, protocol.Int(int64(v>>8)))
			m.Add(paramDout, protocol.Int(int64(v&0xFF)))
		}
	}
	analog, hasAnalog := sc.raw()
	info, _ := sc.raw()
	custom, _ := sc.raw()
	proto, _ := sc.raw()
	version, _ := parseUint(proto)
	if hasAnalog {
		s.addAnalog(m, analog, version)
	}
	m.Add(paramEvent, protocol.Int(int64(event)))
	addEventInfo(m, event, info)
	eventTriggers(m, event)
	if len(custom) > 0 {
		m.Add(paramCustomData, protocol.String(toValidUTF8(custom)))
	}
	if len(proto) > 0 {
		addUint(m, paramProtocolVersion, proto)
	}
	if fuel, _ := sc.raw(); len(fuel) == 4 {
		if v, ok := textfield.Hex(fuel); ok {
			m.Add(paramFuelLevel, protocol.Float(float64(v>>8)+float64(v&0xFF)/100))
		}
	}
	temps, _ := sc.raw()
	addTemperatures(m, temps, version)
	sc.addDecimal(m, paramMaxAccel, 1)
	sc.addDecimal(m, paramMaxDecel, 1)
	if sc.more && len(sc.b) > 0 && !allCommas(sc.b) {
		m.Add(paramReportTail, protocol.String(toValidUTF8(sc.b)))
	}
	if index != nil {
		addUint(m, paramEventSeqnum, index)
	}
	m.Add(paramFrameType, protocol.String(frameTypeName(f.typ)))
	return nil
}

var comma = []byte{','}

// fieldScanner walks comma-separated fields once; its number readers parse
// a field while looking for its end.
type fieldScanner struct {
	b    []byte // what follows the fields read so far
	more bool   // whether a field remains (b is empty for a last, empty field)
}

// raw returns the next field; ok is false when none is left.
func (s *fieldScanner) raw() (field []byte, ok bool) {
	if !s.more {
		return nil, false
	}
	for i, c := range s.b {
		if c == ',' {
			field, s.b = s.b[:i], s.b[i+1:]
			return field, true
		}
	}
	field, s.b, s.more = s.b, nil, false
	return field, true
}

// skipTo ends the current field at i (a comma or the end of b).
func (s *fieldScanner) skipTo(i int) {
	if i < len(s.b) {
		s.b = s.b[i+1:]
		return
	}
	s.b, s.more = nil, false
}

// uint reads the next field as a decimal unsigned integer.
func (s *fieldScanner) uint() (uint64, bool) {
	if !s.more {
		return 0, false
	}
	b := s.b
	var v uint64
	i := 0
	for ; i < len(b) && i < 19; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	if i < len(b) && b[i] != ',' {
		s.raw()
		return 0, false
	}
	s.skipTo(i)
	return v, i > 0
}

// decimal reads the next field as a decimal number ("-12.345678").
func (s *fieldScanner) decimal() (float64, bool) {
	if !s.more {
		return 0, false
	}
	b := s.b
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	start := i
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	intDigits, frac := i-start, 0
	if i < len(b) && b[i] == '.' && intDigits > 0 {
		i++
		fs := i
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
		frac = i - fs
	}
	if i < len(b) && b[i] != ',' || intDigits == 0 {
		s.raw()
		return 0, false
	}
	field := b[:i]
	s.skipTo(i)
	if intDigits+frac > 15 {
		return parseDecimal(field) // more digits than a float64 holds exactly
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg && mant != 0 { // "-0.000000" is 0, not −0
		v = -v
	}
	return v, true
}

func (s *fieldScanner) addUint(m *protocol.Message, name string) {
	if v, ok := s.uint(); ok {
		m.Add(name, protocol.Uint(v))
	}
}

func (s *fieldScanner) addDecimal(m *protocol.Message, name string, div float64) {
	if v, ok := s.decimal(); ok {
		if div != 1 {
			v /= div
		}
		m.Add(name, protocol.Float(v))
	}
}

// respondIfPending turns an AAA frame that answers an A10 location query
// (same data identifier) into a Result.Responses entry too.
func (s *Session) respondIfPending(f *frame, r *protocol.Result) {
	if f.flag < flagFirst || f.flag > flagLast {
		return
	}
	p := &s.pending[f.flag-flagFirst]
	if p.used && answers(p.typ, f.typ) {
		s.respond(f, r, textOf(f.typ, f.body))
	}
}

func frameTypeName(t []byte) string {
	switch string(t) {
	case "AAA":
		return "AAA"
	case "AFF":
		return "AFF"
	case "CCE":
		return "CCE"
	case "CFF":
		return "CFF"
	}
	return toValidUTF8(t)
}

func allCommas(b []byte) bool {
	for _, c := range b {
		if c != ',' {
			return false
		}
	}
	return true
}

// addCell decodes "MCC|MNC|LAC|CI": MCC and MNC decimal, LAC and CI hex.
// A cell with MCC 0 (no network) is left out.
func addCell(m *protocol.Message, b []byte) {
	var parts [4][]byte
	k := 0
	for k < 4 {
		i := bytes.IndexByte(b, '|')
		if i < 0 {
			parts[k] = b
			k++
			break
		}
		parts[k], b = b[:i], b[i+1:]
		k++
	}
	mcc, ok := parseUint(parts[0])
	if !ok || mcc == 0 {
		return
	}
	m.Add(paramMCC, protocol.Int(int64(mcc)))
	if v, ok := parseUint(parts[1]); ok {
		m.Add(paramMNC, protocol.Int(int64(v)))
	}
	if v, ok := textfield.Hex(parts[2]); ok {
		m.Add(paramLAC, protocol.Int(int64(v)))
	}
	if v, ok := textfield.Hex(parts[3]); ok {
		m.Add(paramCellID, protocol.Int(int64(v)))
	}
}

// addEventInfo decodes the "assisted event information" field: the card
// number of an RFID event (37), the fence number of a geofence event (20,
// 21); otherwise it is kept as text.
func addEventInfo(m *protocol.Message, event uint64, b []byte) {
	if len(b) == 0 {
		return
	}
	switch event {
	case 37:
		if _, ok := textfield.Hex(b); ok {
			m.Add(paramIButton, protocol.String(hexLowerText(b)))
			return
		}
	case 20, 21:
		if v, ok := parseUint(b); ok {
			m.Add(paramGeofenceID, protocol.Int(int64(v)))
			return
		}
	}
	m.Add(paramEventInfo, protocol.String(toValidUTF8(b)))
}

// eventTriggers sets the common flags of event codes whose meaning the
// documents fix for every model.
func eventTriggers(m *protocol.Message, event uint64) {
	switch event {
	case 1:
		m.Add(paramSOS, protocol.Bool(true))
	case 17:
		m.Add(paramBatteryLow, protocol.Bool(true))
	case 19:
		m.Add(paramOverspeed, protocol.Bool(true))
	case 20:
		m.Add(paramGeofenceInside, protocol.Bool(true))
	case 21:
		m.Add(paramGeofenceInside, protocol.Bool(false))
	case 22:
		m.Add(paramPowerStatus, protocol.Bool(true))
	case 23:
		m.Add(paramPowerStatus, protocol.Bool(false))
	case 36:
		m.Add(paramTowing, protocol.Bool(true))
	case 129:
		m.Add(paramHarshBraking, protocol.Bool(true))
	case 130:
		m.Add(paramHarshAccel, protocol.Bool(true))
	}
}

// addTemperatures decodes "NNVVVV|NNVVVV|…": sensor number NN, then the
// value: from protocol version 3 a signed 16-bit hundredth of a degree,
// before it a signed whole degree and its hundredths.
func addTemperatures(m *protocol.Message, b []byte, version uint64) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '|')
		item := b
		if i >= 0 {
			item, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		v, ok := textfield.Hex(item)
		if !ok || len(item) != 6 {
			continue
		}
		num := int(v >> 16)
		var t float64
		if version >= 3 {
			t = float64(int16(v&0xFFFF)) / 100
		} else {
			whole := int8(v >> 8)
			frac := float64(v&0xFF) / 100
			if whole < 0 {
				t = float64(whole) - frac
			} else {
				t = float64(whole) + frac
			}
		}
		m.Add(temperatureName(num), protocol.Float(t))
	}
}
