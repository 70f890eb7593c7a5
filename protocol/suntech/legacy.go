package suntech

import (
	"bytes"
	"encoding/hex"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// decodeLegacy decodes the STT, EMG, EVT, ALT and UEX reports of the
// legacy protocol (ST200/ST300/ST500/ST600 families and SA200):
//
//	HDR;DEV_ID;[MODEL;]SW_VER;DATE;TIME;[CELL[;MCC;MNC;LAC;RX_LVL];]LAT;LON;SPD;CRS;SATT;FIX;DIST;PWR_VOLT;I/O;<type fields>[;H_METER;BCK_VOLT;MSG_TYPE][;model fields]
//
// The optional parts are told apart by their content (a date, a
// coordinate), so one decoder reads every model without configuration.
func (s *Session) decodeLegacy(b []byte, f [][]byte, rep report, r *protocol.Result) error {
	i := 2
	if len(f) < i+3 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "report ends before its date")
	}
	var model, sw []byte
	switch {
	case isDate(f[i+1]):
		sw = f[i]
		i++
	case isDate(f[i+2]):
		model, sw = f[i], f[i+1]
		i += 2
	default:
		return protocol.Errorf(Name, fieldOffset(f, i), protocol.ErrMalformed, "no yyyymmdd date after the device ID")
	}
	if len(f) < i+2 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "report ends before its time")
	}
	date, clock := f[i], f[i+1]
	i += 2
	k := 0 // CELL, or CELL;MCC;MNC;LAC;RX_LVL (ST600), or nothing (ST500)
	for k < 6 && i+k < len(f) && !isCoord(f[i+k]) {
		k++
	}
	if k != 0 && k != 1 && k != 5 {
		return protocol.Errorf(Name, fieldOffset(f, i), protocol.ErrMalformed, "no latitude after the cell fields")
	}
	cell := f[i : i+k]
	i += k
	if len(f) < i+9 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "report ends before its I/O field")
	}
	m := s.begin(r, 32)
	setDate(m, date, clock)
	if !addPosition(m, f[i], f[i+1]) {
		return protocol.Errorf(Name, fieldOffset(f, i), protocol.ErrMalformed, "latitude or longitude")
	}
	addCourse(m, f[i+2], f[i+3])
	addUint(m, protocol.ParamSatellites, f[i+4])
	m.Add(protocol.ParamValid, protocol.Bool(string(f[i+5]) == "1"))
	if v, ok := textfield.Uint(f[i+6]); ok {
		m.Add(paramMileage, protocol.Float(float64(v)/1000)) // metres
	}
	addDecimal(m, paramPower, f[i+7])
	addIO(m, f[i+8])
	i += 9
	addCell(m, cell)

	typ := string(rep.typ)
	switch typ {
	case "STT":
		if i+1 < len(f) {
			addUint(m, paramMode, f[i])
			addUint(m, paramSeqnum, f[i+1])
			i += 2
		}
	case "EMG", "EVT", "ALT":
		if i < len(f) {
			if id, ok := textfield.Uint(f[i]); ok {
				m.Add(paramEvent, protocol.Uint(id))
				switch typ {
				case "EMG":
					emergencyFlags(m, id)
				case "ALT":
					alertFlags(m, id)
				}
			}
			i++
		}
	case "UEX":
		off, err := s.serialData(m, b, fieldOffset(f, i))
		if err != nil {
			return err
		}
		s.fields = textfield.Split(s.fields, b[min(off, len(b)):], ';', maxFields)
		if off >= len(b) {
			s.fields = s.fields[:0]
		}
		f, i = s.fields, 0
		s.tail(m, b[min(off, len(b)):], f)
		s.finishLegacy(m, r, model, sw, rep)
		return nil
	}
	if i < len(f) {
		s.tail(m, afterField(b, f, i-1), f[i:])
	}
	s.finishLegacy(m, r, model, sw, rep)
	return nil
}

// finishLegacy adds the header fields and sets the reply.
func (s *Session) finishLegacy(m *protocol.Message, r *protocol.Result, model, sw []byte, rep report) {
	addUint(m, paramModel, model)
	s.setFirmware(m, sw)
	m.Add(paramReportType, reportType(rep.typ))
	if s.transport == protocol.UDP {
		s.udpAck(r, rep.prefix)
		return
	}
	if string(rep.typ) == "EMG" && s.codec.AckEmergency {
		r.Reply = appendLegacyCommand(r.Reply[:0], rep.prefix, "CMD", s.ident, "AckEmerg")
	}
}

// reportType returns the report type as a string value without allocating
// for the common types.
func reportType(t []byte) protocol.Value {
	for _, k := range [...]string{"STT", "EMG", "EVT", "ALT", "UEX", "HTE", "ALV", "BLE", "BSA"} {
		if string(t) == k {
			return protocol.String(k)
		}
	}
	return protocol.String(textfield.Text(t))
}

// addIO reads the I/O field: ignition, then the inputs, then the outputs,
// one '0' or '1' each — 6 characters (ignition, inputs 1–3, outputs 1–2)
// or 8 (ignition, inputs 1–4, outputs 1–3, ST300V and later models).
// Other forms are kept as sent in custom.io.state, with the ignition.
func addIO(m *protocol.Message, io []byte) {
	if len(io) == 0 {
		return
	}
	for _, c := range io {
		if c != '0' && c != '1' {
			m.Add(paramIOState, protocol.String(textfield.Text(io)))
			return
		}
	}
	m.Add(paramIgnition, protocol.Bool(io[0] == '1'))
	var ins int
	switch len(io) {
	case 6:
		ins = 3
	case 8:
		ins = 4
	default:
		m.Add(paramIOState, protocol.String(textfield.Text(io)))
		return
	}
	m.Add(paramDin, protocol.Uint(bits(io[1:1+ins])))
	m.Add(paramDout, protocol.Uint(bits(io[1+ins:])))
}

// bits reads '0'/'1' characters, the first as bit 0.
func bits(b []byte) uint64 {
	var v uint64
	for i, c := range b {
		if c == '1' {
			v |= 1 << i
		}
	}
	return v
}

// addCell reads the legacy cell fields: the cell ID in hex, then on
// ST600 MCC, MNC, LAC (hex) and the signal level.
func addCell(m *protocol.Message, cell [][]byte) {
	if len(cell) == 0 {
		return
	}
	addHex(m, paramCellID, cell[0])
	if len(cell) == 5 {
		addUint(m, paramMCC, cell[1])
		addUint(m, paramMNC, cell[2])
		addHex(m, paramLAC, cell[3])
		addUint(m, paramSignal, cell[4])
	}
}

// tail reads what follows the report type's own fields: H_METER (minutes),
// BCK_VOLT and MSG_TYPE when the device sends them (HBM_STT=1, told by
// their form), then model-dependent fields (ADC, RPM, driver ID and its
// registration flag, temperature sensors "ID:value", fuel, …). Those are
// kept as sent in custom.report.tail; the driver ID (14 hex digits) and the
// temperature sensors are also read out.
func (s *Session) tail(m *protocol.Message, rest []byte, t [][]byte) {
	if len(t) >= 3 && textfield.IsDigits(t[0]) && (string(t[2]) == "0" || string(t[2]) == "1") {
		if v, ok := textfield.Decimal(t[1]); ok {
			hm, _ := textfield.Uint(t[0])
			m.Add(paramMotorHours, protocol.Float(float64(hm)/60))
			m.Add(paramBattery, protocol.Float(v))
			m.Add(paramBuffered, protocol.Bool(t[2][0] == '0'))
			rest = rest[min(len(rest), len(t[0])+len(t[1])+len(t[2])+3):]
			t = t[3:]
		}
	}
	if len(rest) == 0 {
		return
	}
	m.Add(paramReportTail, protocol.String(textfield.Text(rest)))
	temp := 0
	for _, v := range t {
		if c := bytes.IndexByte(v, ':'); c >= 0 {
			temp++
			if val, ok := textfield.Decimal(v[c+1:]); ok && temp < 100 {
				m.Set(temperatureName(temp), protocol.Float(val))
			}
			continue
		}
		if len(v) == 14 && textfield.IsHex(v) && !allZero(v) {
			m.Set(paramIButton, protocol.String(textfield.Text(v)))
		}
	}
}

var temperatureNames = [...]string{"temperature#1", "temperature#2", "temperature#3", "temperature#4"}

func temperatureName(n int) string {
	if n <= len(temperatureNames) {
		return temperatureNames[n-1]
	}
	return "temperature#" + itoa(n)
}

func itoa(n int) string { return string(textfield.AppendUint(nil, uint64(n), 1)) }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != '0' {
			return false
		}
	}
	return true
}

// emergencyFlags sets what an EMG_ID means (ST300/ST310U manuals): 1 panic
// button, 2 parking lock, 3 main power removed, 5 anti-theft, 7 motion,
// 8 anti-theft shock.
func emergencyFlags(m *protocol.Message, id uint64) {
	m.Add(paramAlarm, protocol.Bool(true))
	switch id {
	case 1:
		m.Add(paramSOS, protocol.Bool(true))
	case 3:
		m.Add(paramPowerStatus, protocol.Bool(false))
	case 8:
		m.Add(paramShock, protocol.Bool(true))
	}
}

// alertFlags sets what an ALERT_ID means, from the alert tables of the
// ST300 manuals and the universal protocol: 1 over speed, 5/6 geofence
// exit/entry, 15 shock, 40/41 main power connected/disconnected, 42 panic
// button (universal), 46–49 driver pattern alerts (acceleration, braking,
// turn, speed), 50 jamming. Ignition on/off (33/34) is already in the I/O
// state.
func alertFlags(m *protocol.Message, id uint64) {
	switch id {
	case 1, 49:
		m.Add(paramOverspeed, protocol.Bool(true))
	case 5:
		m.Add(paramGeofence, protocol.Bool(false))
	case 6:
		m.Add(paramGeofence, protocol.Bool(true))
	case 15:
		m.Add(paramShock, protocol.Bool(true))
	case 40:
		m.Add(paramPowerStatus, protocol.Bool(true))
	case 41:
		m.Add(paramPowerStatus, protocol.Bool(false))
	case 42:
		m.Add(paramSOS, protocol.Bool(true))
	case 46:
		m.Add(paramHarshAccel, protocol.Bool(true))
	case 47:
		m.Add(paramHarshBrake, protocol.Bool(true))
	case 48:
		m.Add(paramHarshTurn, protocol.Bool(true))
	case 50:
		m.Add(paramJamming, protocol.Bool(true))
	}
}

// serialData reads a UEX report's "LEN;DATA;CHK_SUM" starting at off: LEN
// bytes of data from the external RS232 device (which may hold ';' and
// CRLF), then the 8-bit sum of the data in two hex digits. It returns the
// offset after the checksum field's ';'.
func (s *Session) serialData(m *protocol.Message, b []byte, off int) (int, error) {
	semi := bytes.IndexByte(b[min(off, len(b)):], ';')
	if off >= len(b) || semi < 0 {
		return 0, protocol.Errorf(Name, len(b), protocol.ErrTruncated, "UEX report ends before its data")
	}
	n, ok := textfield.Uint(b[off : off+semi])
	if !ok {
		return 0, protocol.Errorf(Name, off, protocol.ErrMalformed, "UEX data length")
	}
	start := off + semi + 1
	end := start + int(min(n, uint64(len(b))))
	badLen := false
	if end+3 > len(b) || b[end] != ';' || !isChecksumField(b, end+1) {
		// The length does not lead to ";XX": find the checksum field.
		badLen = true
		end = -1
		for j := start; j+3 <= len(b); j++ {
			if b[j] == ';' && isChecksumField(b, j+1) {
				end = j
				break
			}
		}
		if end < 0 {
			return 0, protocol.Errorf(Name, start, protocol.ErrMalformed, "UEX report without a checksum field")
		}
	}
	data := b[start:end]
	want := hexByte(b[end+1], b[end+2])
	var sum byte
	for _, c := range data {
		sum += c
	}
	badSum := sum != want
	if !s.codec.Lenient {
		if badLen {
			return 0, protocol.Errorf(Name, off, protocol.ErrChecksum, "UEX length field "+string(b[off:off+semi])+", data holds "+itoa(len(data)))
		}
		if badSum {
			return 0, protocol.Errorf(Name, end+1, protocol.ErrChecksum, "UEX checksum "+string(b[end+1:end+3])+", computed "+hex2(sum))
		}
	}
	if badLen {
		m.Add(protocol.ParamLengthInvalid, protocol.Bool(true))
	}
	if badSum {
		m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
	}
	addSerial(m, data)
	return end + 4, nil
}

// isChecksumField reports two hex digits at b[i:] followed by ';' or the
// end.
func isChecksumField(b []byte, i int) bool {
	if i+2 > len(b) || !isHexDigit(b[i]) || !isHexDigit(b[i+1]) {
		return false
	}
	return i+2 == len(b) || b[i+2] == ';'
}

// addSerial keeps serial data: as text when it is printable, else in hex.
// A GTSL driver-ID reader's record ("GTSL|…|<driver id>|…") also gives
// ibutton.code, the fifth '|' field (as open decoders read it).
func addSerial(m *protocol.Message, data []byte) {
	printable := true
	for _, c := range data {
		if c < 0x20 && c != '\r' && c != '\n' && c != '\t' || c >= 0x7f {
			printable = false
			break
		}
	}
	if !printable {
		m.Add(paramSerialHex, protocol.String(hex.EncodeToString(data)))
		return
	}
	m.Add(paramSerialData, protocol.String(string(data)))
	if bytes.HasPrefix(data, []byte("GTSL|")) {
		parts := bytes.Split(data, []byte("|"))
		if len(parts) > 4 && len(parts[4]) > 0 {
			m.Set(paramIButton, protocol.String(string(parts[4])))
		}
	}
}

// decodeTravel decodes a travel report (HTE): header, date and time, then
// fields holding the trip's first and last coordinates and, last, the
// driver ID. The message's position is the trip's end; the start is
// custom.trip.start.latitude/longitude; the fields are kept as sent in
// custom.report.tail.
func (s *Session) decodeTravel(b []byte, f [][]byte, rep report, r *protocol.Result) error {
	i := 2
	var model, sw []byte
	switch {
	case len(f) > i+1 && isDate(f[i+1]):
		sw = f[i]
		i++
	case len(f) > i+2 && isDate(f[i+2]):
		model, sw = f[i], f[i+1]
		i += 2
	default:
		return protocol.Errorf(Name, fieldOffset(f, i), protocol.ErrMalformed, "no yyyymmdd date after the device ID")
	}
	if len(f) < i+2 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "travel report ends before its time")
	}
	m := s.begin(r, 16)
	setDate(m, f[i], f[i+1])
	i += 2
	for j := i; j+3 < len(f); j++ {
		if isCoord(f[j]) && isCoord(f[j+1]) && isCoord(f[j+2]) && isCoord(f[j+3]) &&
			bytes.IndexByte(f[j], '.') > 0 && addPosition(m, f[j+2], f[j+3]) {
			addDecimal(m, paramTripStart+".latitude", f[j])
			addDecimal(m, paramTripStart+".longitude", f[j+1])
			break
		}
	}
	if last := f[len(f)-1]; len(f) > i && len(last) == 14 && textfield.IsHex(last) && !allZero(last) {
		m.Add(paramIButton, protocol.String(string(last)))
	}
	if i < len(f) {
		m.Add(paramReportTail, protocol.String(textfield.Text(afterField(b, f, i-1))))
	}
	s.finishLegacy(m, r, model, sw, rep)
	return nil
}

// decode9 decodes the ST900/ST910/ST940 personal trackers' reports,
// "ST910;<Location|Emergency|Alert>;DEV_ID;[SW;]DATE;TIME;[CELL;]LAT;LON;SPD;CRS;FIX;…".
// The software version and the cell field are present or not depending on
// the device's PROT_TYPE setting; they are told apart by their form. With
// the cell field (PROT_TYPE 1) the field after FIX is the odometer in
// metres; without it, the battery voltage. The rest is kept as sent.
func (s *Session) decode9(b []byte, f [][]byte, r *protocol.Result) error {
	if len(f) < 4 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "report ends before its date")
	}
	kind := f[1]
	if err := s.setIdent(f[2], fieldOffset(f, 2), r); err != nil {
		return err
	}
	if s.prefix != "ST910" && string(f[0]) != s.prefix {
		s.prefix = string(f[0])
	}
	i := 3
	var sw []byte
	if !isDate(f[i]) {
		sw = f[i]
		i++
	}
	if len(f) < i+2 || !isDate(f[i]) {
		return protocol.Errorf(Name, fieldOffset(f, i), protocol.ErrMalformed, "no yyyymmdd date")
	}
	m := s.begin(r, 20)
	setDate(m, f[i], f[i+1])
	i += 2
	var cell []byte
	if i < len(f) && !isCoord(f[i]) {
		cell = f[i]
		i++
	}
	if len(f) < i+5 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "report ends before its fix field")
	}
	if !addPosition(m, f[i], f[i+1]) {
		return protocol.Errorf(Name, fieldOffset(f, i), protocol.ErrMalformed, "latitude or longitude")
	}
	addCourse(m, f[i+2], f[i+3])
	m.Add(protocol.ParamValid, protocol.Bool(string(f[i+4]) == "1"))
	i += 5
	if i < len(f) {
		if cell != nil {
			if v, ok := textfield.Uint(f[i]); ok {
				m.Add(paramMileage, protocol.Float(float64(v)/1000))
				i++
			}
		} else if bytes.IndexByte(f[i], '.') >= 0 {
			addDecimal(m, paramBattery, f[i])
			i++
		}
	}
	switch string(kind) {
	case "Emergency":
		m.Add(paramAlarm, protocol.Bool(true))
		m.Add(paramSOS, protocol.Bool(true))
	case "Alert":
		m.Add(paramAlarm, protocol.Bool(true))
	}
	if cell != nil {
		m.Add(paramCell, protocol.String(textfield.Text(cell)))
	}
	s.setFirmware(m, sw)
	m.Add(paramReportType, protocol.String(textfield.Text(kind)))
	if i < len(f) {
		m.Add(paramReportTail, protocol.String(textfield.Text(afterField(b, f, i-1))))
	}
	return nil
}
