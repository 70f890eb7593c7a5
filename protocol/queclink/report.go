package queclink

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// decodeReport decodes a +RESP or +BUFF report.
func (s *Session) decodeReport(rp *report, r *protocol.Result) {
	switch string(rp.typ) {
	case "INF":
		s.inf(rp, r)
	case "VER":
		s.ver(rp, r)
	case "GSM":
		s.gsm(rp, r)
	case "WIF":
		s.wif(rp, r)
	case "CAN":
		s.can(rp, r)
	case "OBD":
		s.obd(rp, r)
	case "CID", "CSQ", "BAT", "TMZ", "IOS":
		s.infoPart(rp, r)
	default:
		s.positional(rp, r)
	}
}

// numbered reports carry [<external power>,]<report id/type>,<number> and
// then <number> fixes.
func numbered(t string) bool {
	switch t {
	case "FRI", "ERI", "GEO", "SPD", "SOS", "RTL", "PNL", "NMR", "DIS", "IOB", "DOG",
		"IGL", "HBM", "VGL", "TOW", "AIS", "MAI", "GES", "GIN", "GOT", "EPS", "TMP", "TEM":
		return true
	}
	return false
}

// positional decodes a report of fixes: one message a fix, in order, the
// report's own fields on the last one (they were measured when the report
// was made, with its latest fix).
func (s *Session) positional(rp *report, r *protocol.Result) {
	body := rp.body
	t := string(rp.typ)
	fixes := findFixes(body, s.model, s.fixes)
	s.fixes = fixes
	if len(fixes) == 0 && numbered(t) {
		if fx, ok := emptyFix(body, s.model); ok {
			fixes = append(fixes, fx)
		}
	}
	if len(fixes) == 0 {
		m := s.begin(r)
		if rp.hasSend {
			m.Add(protocol.ParamTimestamp, protocol.Float(float64(rp.send)))
		}
		pre, post := body, [][]byte(nil)
		if j := findCell(body); j >= 0 {
			fx := fix{start: j - 7, lonAt: -1, end: fixEnd(body, j, s.model)}
			s.cellAndAppend(m, body, j, fx)
			pre, post = body[:j], body[fx.end:]
		}
		s.reportFields(m, rp, pre, post, 0)
		s.footer(m, rp)
		return
	}
	for k, fx := range fixes {
		m := s.begin(r)
		s.addFix(m, body, fx, rp.send, rp.hasSend)
		if k < len(fixes)-1 {
			if next := fixes[k+1].start; next > fx.end {
				m.Add(paramTail, protocol.String(tf.Text(bytes.Join(body[fx.end:next], []byte{','}))))
			}
		} else {
			s.reportFields(m, rp, body[:fixes[0].start], body[min(fx.end, len(body)):], len(fixes))
		}
		s.footer(m, rp)
	}
}

// findCell finds MCC, MNC, LAC and cell id in a report without a fix: four
// digits, four digits, hex, hex.
func findCell(body [][]byte) int {
	for j := 0; j+4 <= len(body); j++ {
		c := body[j : j+4]
		if len(c[0]) == 4 && tf.IsDigits(c[0]) && len(c[1]) == 4 && tf.IsDigits(c[1]) &&
			len(c[2]) >= 4 && tf.IsHex(c[2]) && len(c[3]) >= 4 && tf.IsHex(c[3]) {
			return j
		}
	}
	return -1
}

// reportFields decodes the fields before the first fix (pre) and after
// the last (post). What it cannot name is kept as sent.
func (s *Session) reportFields(m *protocol.Message, rp *report, pre, post [][]byte, nfix int) {
	t := string(rp.typ)
	var head, tail [][]byte
	var eriMask uint64
	switch {
	case t == "ERI" || numbered(t):
		head, eriMask = s.numberedPre(m, t, pre, nfix)
	case t == "IGN" || t == "IGF" || t == "VGN" || t == "VGF":
		head = durationPre(m, pre)
	case t == "IDN" || t == "IDF":
		if len(pre) > 0 {
			if v, ok := tf.Hex(pre[0]); ok && len(pre[0]) == 2 {
				motionState(m, v)
			}
		}
		if len(pre) > 1 {
			if v, ok := tf.Uint(pre[1]); ok {
				m.Add(paramDuration, protocol.Int(int64(v)))
			}
		}
		if len(pre) > 2 {
			head = pre[2:]
		}
	case t == "STT":
		if len(pre) > 0 {
			if v, ok := tf.Hex(pre[0]); ok && len(pre[0]) == 2 {
				motionState(m, v)
			}
			head = pre[1:]
		}
	case t == "BPL":
		if len(pre) > 0 {
			if v, ok := tf.Decimal(pre[0]); ok {
				m.Add(paramBatteryV, protocol.Float(v))
			}
			head = pre[1:]
		}
	case t == "DAT":
		if len(pre) >= 4 {
			m.Add(paramData, protocol.String(tf.Text(pre[3])))
			head = append(pre[:1:1], pre[4:]...)
		} else {
			head = pre
		}
	case t == "IDA":
		if len(pre) >= 2 && len(pre[1]) > 0 {
			m.Add(paramIButton, protocol.String(tf.Text(pre[1])))
			head = append(pre[:1:1], pre[2:]...)
		} else {
			head = pre
		}
	case t == "DTT":
		head = s.dtt(m, pre)
	case (t == "LSW" || t == "TSW") && len(pre) == 2 && len(pre[1]) == 1:
		// <type>,<state of digital input 1 (LSW) or 2 (TSW)>
		name := "din#1"
		if t == "TSW" {
			name = "din#2"
		}
		m.Add(name, protocol.Bool(pre[1][0] == '1'))
		head = pre[:1]
	case t == "BAA" && len(pre) >= 5:
		head = append(pre[:4:4], accessory(m, pre[4], pre[5:], 0x3F)...)
	case t == "BID" && len(pre) >= 3:
		head = append(pre[:2:2], accessory(m, pre[2], pre[3:], 0x0A)...)
	case t == "STR" || t == "CTN":
		if len(pre) >= 5 {
			if v, ok := tf.Uint(pre[4]); ok && v <= 100 {
				m.Add(paramBattery, protocol.Int(int64(v)))
			}
			head = pre[:4]
		} else {
			head = pre
		}
	default:
		head = pre
	}
	tail = s.postFields(m, t, post, eriMask)
	if cap(tail) > cap(s.rest) {
		s.rest = tail[:0]
	}
	events(m, t)
	if nonEmpty(head) {
		m.Add(paramHead, protocol.String(tf.Text(bytes.Join(head, []byte{','}))))
	}
	if nonEmpty(tail) {
		m.Add(paramTail, protocol.String(tf.Text(bytes.Join(tail, []byte{','}))))
	}
}

func nonEmpty(f [][]byte) bool {
	for _, v := range f {
		if len(v) > 0 {
			return true
		}
	}
	return false
}

// events sets what a report type means by itself.
func events(m *protocol.Message, t string) {
	switch t {
	case "SOS":
		m.Set(paramSOS, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	case "TOW":
		m.Set(paramTowing, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	case "IGN", "VGN":
		m.Set(paramIgnition, protocol.Bool(true))
	case "IGF", "VGF":
		m.Set(paramIgnition, protocol.Bool(false))
	case "EPN", "MPN":
		m.Set(paramPowerOK, protocol.Bool(true))
	case "EPF", "MPF":
		m.Set(paramPowerOK, protocol.Bool(false))
		m.Set(paramAlarm, protocol.Bool(true))
	case "BPL":
		m.Set(paramBatteryLow, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	case "BTC":
		m.Set(paramCharging, protocol.Bool(true))
	case "STC":
		m.Set(paramCharging, protocol.Bool(false))
	case "PFA":
		m.Set(paramAlarm, protocol.Bool(true)) // the device is being switched off
	case "JDS", "JDR":
		m.Set(paramJamming, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	case "CRA":
		m.Set(paramShock, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	case "GIN":
		m.Set(paramGeofenceIn, protocol.Bool(true))
	case "GOT":
		m.Set(paramGeofenceIn, protocol.Bool(false))
	case "TMP", "TEM", "STT":
		if t != "STT" {
			m.Set(paramAlarm, protocol.Bool(true))
		}
	}
}

// numberedPre decodes [<ERI mask>,][<external power or analog input>,]
// <report id/type>,<number>: the id/type is one field of two hex digits
// (GV series) or two one-digit fields (GL series). Fields are recognised
// by their format, which the devices keep across protocol versions.
func (s *Session) numberedPre(m *protocol.Message, t string, pre [][]byte, nfix int) (head [][]byte, eriMask uint64) {
	rest := pre
	if t == "ERI" && len(rest) > 0 && len(rest[0]) == 8 && tf.IsHex(rest[0]) {
		eriMask, _ = tf.Hex(rest[0])
		m.Add("custom.eri.mask", protocol.String(string(rest[0])))
		rest = rest[1:]
	}
	if n := len(rest); n > 0 {
		if v, ok := tf.Uint(rest[n-1]); ok && int(v) == nfix && nfix > 0 {
			m.Add(paramFixCount, protocol.Int(int64(v)))
			rest = rest[:n-1]
		}
	}
	var id, typ int = -1, -1
	if n := len(rest); n > 0 && len(rest[n-1]) == 2 && tf.IsHex(rest[n-1]) {
		hi, _ := tf.Hex(rest[n-1][:1])
		lo, _ := tf.Hex(rest[n-1][1:])
		id, typ = int(hi), int(lo)
		rest = rest[:n-1]
	} else if n >= 2 && len(rest[n-1]) == 1 && len(rest[n-2]) == 1 && tf.IsDigits(rest[n-1]) && tf.IsDigits(rest[n-2]) {
		id, typ = int(rest[n-2][0]-'0'), int(rest[n-1][0]-'0')
		rest = rest[:n-2]
	}
	if id >= 0 {
		reportIDType(m, t, id, typ)
	}
	power := false
	for _, v := range rest {
		if mv, ok := tf.Uint(v); ok && !power && len(v) >= 3 && len(v) <= 5 {
			name := paramPower
			if t == "AIS" || t == "MAI" {
				name = "ain#1"
			}
			m.Add(name, protocol.Float(float64(mv)/1000))
			power = true
			continue
		}
		head = append(head, v)
	}
	return head, eriMask
}

// reportIDType names what <Report ID> and <Report Type> mean for a report.
func reportIDType(m *protocol.Message, t string, id, typ int) {
	switch t {
	case "GEO":
		m.Add(paramGeofenceID, protocol.Int(int64(id)))
		m.Add(paramGeofenceIn, protocol.Bool(typ == 1))
	case "SPD":
		m.Add(paramOverspeed, protocol.Bool(typ == 0))
		if typ == 0 {
			m.Add(paramAlarm, protocol.Bool(true))
		}
	case "DIS":
		if id > 0 {
			m.Add("din#"+strconv.Itoa(id), protocol.Bool(typ == 1))
		}
	case "IGL":
		m.Add(paramIgnition, protocol.Bool(typ == 1))
	case "NMR":
		m.Add(paramMovement, protocol.Bool(typ == 1))
	case "HBM":
		switch typ {
		case 0, 3:
			m.Add(paramHarshBrake, protocol.Bool(true))
		case 1, 4:
			m.Add(paramHarshAccel, protocol.Bool(true))
		case 2:
			m.Add(paramHarshTurn, protocol.Bool(true))
		}
		m.Add(paramAlarm, protocol.Bool(true))
	default:
		m.Add(paramReportID, protocol.Int(int64(id)))
		m.Add(paramReportType, protocol.Int(int64(typ)))
	}
}

// durationPre: [<reserved>,<report type>,]<duration of ignition on/off>.
func durationPre(m *protocol.Message, pre [][]byte) [][]byte {
	if n := len(pre); n > 0 {
		if v, ok := tf.Uint(pre[n-1]); ok {
			m.Add(paramDuration, protocol.Int(int64(v)))
			return pre[:n-1]
		}
	}
	return pre
}

// isHours: an hour meter, HHHHH:MM:SS.
func isHours(b []byte) bool {
	return len(b) >= 7 && b[len(b)-3] == ':' && b[len(b)-6] == ':'
}

func hoursOf(b []byte) (int64, bool) {
	h, ok1 := tf.Uint(b[:len(b)-6])
	mi, ok2 := tf.Uint(b[len(b)-5 : len(b)-3])
	sec, ok3 := tf.Uint(b[len(b)-2:])
	return int64(h*3600 + mi*60 + sec), ok1 && ok2 && ok3
}

// isStatus: <Device Status>, six hex digits: motion state, digital
// inputs, digital outputs.
func isStatus(b []byte) bool { return len(b) == 6 && tf.IsHex(b) }

// deviceStatus decodes <Device Status>.
func (s *Session) deviceStatus(m *protocol.Message, v []byte) {
	s.status = tf.Intern(s.status, v)
	m.Add(paramStatus, protocol.String(s.status))
	st, _ := tf.Hex(v[0:2])
	in, _ := tf.Hex(v[2:4])
	out, _ := tf.Hex(v[4:6])
	motionStateTo(m, st, (*protocol.Message).Add)
	m.Add(paramDin, protocol.Int(int64(in)))
	m.Add(paramDout, protocol.Int(int64(out)))
}

// motionState decodes the documents' motion state: 0x1X ignition off,
// 0x2X on, 0x4X no ignition signal; X1 rest, X2 motion; 0x16 tow, 0x1A
// fake tow.
func motionState(m *protocol.Message, st uint64) { motionStateTo(m, st, (*protocol.Message).Set) }

// motionStateTo is motionState with the way to store: Add when the message
// cannot hold the names yet (the device status of GTFRI and GTERI, GTINF),
// which spares looking them up.
func motionStateTo(m *protocol.Message, st uint64, put func(*protocol.Message, string, protocol.Value)) {
	put(m, paramMotion, protocol.Int(int64(st)))
	switch st >> 4 {
	case 1:
		put(m, paramIgnition, protocol.Bool(false))
	case 2:
		put(m, paramIgnition, protocol.Bool(true))
	}
	switch st {
	case 0x11, 0x21, 0x41:
		put(m, paramMovement, protocol.Bool(false))
	case 0x12, 0x22, 0x42, 0x1A:
		put(m, paramMovement, protocol.Bool(true))
	case 0x16:
		put(m, paramMovement, protocol.Bool(true))
		put(m, paramTowing, protocol.Bool(true))
	}
}

// analog adds an analog input: millivolts, or "F<percent>" from a fuel
// sensor on that input.
func analog(m *protocol.Message, n int, v []byte) bool {
	if len(v) > 1 && v[0] == 'F' {
		if p, ok := tf.Decimal(v[1:]); ok {
			m.Set(paramFuel, protocol.Float(p))
			return true
		}
		return false
	}
	mv, ok := tf.Uint(v)
	if !ok {
		return false
	}
	m.Add(ainName(n), protocol.Float(float64(mv)/1000))
	return true
}

var ainNames = [...]string{"ain#0", "ain#1", "ain#2", "ain#3", "ain#4", "ain#5", "ain#6", "ain#7", "ain#8"}

// ainName returns "ain#<n>".
func ainName(n int) string {
	if n >= 0 && n < len(ainNames) {
		return ainNames[n]
	}
	return "ain#" + strconv.Itoa(n)
}

// postFields decodes the fields after a report's last fix. It returns
// what it could not name.
func (s *Session) postFields(m *protocol.Message, t string, post [][]byte, eriMask uint64) [][]byte {
	if len(post) == 0 {
		return nil
	}
	fam := familyOf(s.model)
	full := t == "FRI" || t == "ERI"
	switch {
	case full && strings.HasPrefix(s.model, "GL5"):
		// <battery %>,<mode selection>,<motion status>, …
		if v, ok := tf.Uint(post[0]); ok && v <= 100 {
			m.Add(paramBattery, protocol.Int(int64(v)))
		}
		if len(post) > 2 && len(post[2]) == 1 {
			m.Add(paramMovement, protocol.Bool(post[2][0] == '1'))
			return post[3:]
		}
		return post[1:]
	case full && fam == familyGV200:
		return s.gv200Post(m, post, t == "ERI", eriMask)
	case full && (fam == familyGV || fam == familyUnknown):
		k := -1
		for i := 3; i < len(post); i++ { // after mileage, hours and battery at least
			if isStatus(post[i]) {
				k = i
				break
			}
		}
		if k < 0 && len(post) >= 5 && len(post[4]) == 0 && (len(post[0]) == 0 || isDecimal(post[0])) {
			k = 4 // the device status left empty (GMT100)
		}
		if k >= 0 {
			return s.gvPost(m, post, k, t == "ERI", eriMask)
		}
	}
	return shapes(m, post, fam, s.rest[:0])
}

// shapes names the fields after a fix by their format: a mileage
// ("2000.0" km), an hour meter ("12345:12:34"), and, on personal trackers,
// the battery percentage that ends the report.
func shapes(m *protocol.Message, post [][]byte, fam family, rest [][]byte) [][]byte {
	mileage, hours := false, false
	last := -1
	if fam == familyGL {
		n := len(post)
		if v, ok := tf.Uint(post[n-1]); ok && len(post[n-1]) <= 3 && v <= 100 && (n == 1 || isDecimal(post[n-2]) || len(post[n-2]) == 0 && n == 2) {
			last = n - 1
		}
	}
	for i, v := range post {
		switch {
		case i == last:
			bv, _ := tf.Uint(v)
			m.Add(paramBattery, protocol.Int(int64(bv)))
		case !mileage && isDecimal(v):
			km, _ := tf.Decimal(v)
			m.Add(paramMileage, protocol.Float(km))
			mileage = true
		case !hours && isHours(v):
			if sec, ok := hoursOf(v); ok {
				m.Add(paramHours, protocol.Int(sec))
			}
			hours = true
		default:
			rest = append(rest, v)
		}
	}
	return rest
}

// gvPost: <mileage>,<hour meter>,<analog inputs…>,<battery %>,<device status>,
// then for +RESP:GTERI a reserved field and the data its mask announces,
// and for the GV500 family <engine RPM>,<fuel consumption>,<fuel level>.
// k is the index of the device status.
func (s *Session) gvPost(m *protocol.Message, post [][]byte, k int, eri bool, mask uint64) [][]byte {
	rest := s.rest[:0]
	if v, ok := tf.Decimal(post[0]); ok {
		m.Add(paramMileage, protocol.Float(v))
	} else if len(post[0]) > 0 {
		rest = append(rest, post[0])
	}
	if isHours(post[1]) {
		if sec, ok := hoursOf(post[1]); ok {
			m.Add(paramHours, protocol.Int(sec))
		}
	} else if len(post[1]) > 0 {
		rest = append(rest, post[1])
	}
	obd := strings.HasPrefix(s.model, "GV500") // reserved fields, not analog inputs
	for i, v := range post[2 : k-1] {
		if len(v) > 0 && (obd || !analog(m, i+1, v)) {
			rest = append(rest, v)
		}
	}
	if v, ok := tf.Uint(post[k-1]); ok && v <= 100 {
		m.Add(paramBattery, protocol.Int(int64(v)))
	} else if len(post[k-1]) > 0 {
		rest = append(rest, post[k-1])
	}
	if isStatus(post[k]) {
		s.deviceStatus(m, post[k])
	} else if len(post[k]) > 0 {
		rest = append(rest, post[k])
	}
	after := post[k+1:]
	if eri {
		if len(after) > 0 {
			after = after[1:] // reserved, or the UART device type
		}
		return append(rest, s.eriData(m, after, mask)...)
	}
	switch s.model {
	case "GV500", "GV500VC", "GV500MAP":
		if len(after) >= 3 {
			if v, ok := tf.Uint(after[0]); ok {
				m.Add(paramRPM, protocol.Int(int64(v)))
			}
			if v, ok := tf.Decimal(after[1]); ok {
				m.Add("custom.fuel.consumption", protocol.Float(v))
			}
			if v, ok := tf.Decimal(after[2]); ok {
				m.Add(paramFuelLevel, protocol.Float(v))
			}
			after = after[3:]
		}
	}
	return append(rest, after...)
}

// gv200Post: <mileage>,<hour meter>,<analog 1>,<analog 2>,<analog 3>,
// <digital input>,<digital output>, then (GTERI) the UART device type and
// the mask's data.
func (s *Session) gv200Post(m *protocol.Message, post [][]byte, eri bool, mask uint64) [][]byte {
	if len(post) < 7 {
		return shapes(m, post, familyGV200, s.rest[:0])
	}
	rest := s.rest[:0]
	if v, ok := tf.Decimal(post[0]); ok {
		m.Add(paramMileage, protocol.Float(v))
	}
	if isHours(post[1]) {
		if sec, ok := hoursOf(post[1]); ok {
			m.Add(paramHours, protocol.Int(sec))
		}
	}
	for i, v := range post[2:5] {
		if len(v) > 0 && !analog(m, i+1, v) {
			rest = append(rest, v)
		}
	}
	if v, ok := tf.Hex(post[5]); ok {
		m.Add(paramDin, protocol.Int(int64(v)))
	}
	if v, ok := tf.Hex(post[6]); ok {
		m.Add(paramDout, protocol.Int(int64(v)))
	}
	after := post[7:]
	if eri {
		if len(after) > 0 {
			after = after[1:]
		}
		return append(rest, s.eriData(m, after, mask)...)
	}
	return append(rest, after...)
}

// eriData decodes what the +RESP:GTERI mask adds: bit 0 a digital fuel
// sensor's value, bit 1 the 1-Wire devices (a temperature sensor's data is
// 1/16 °C), bits 3 and 4 RS232 fuel sensors. Data it does not know ends
// the decoding: the rest is kept as sent.
func (s *Session) eriData(m *protocol.Message, f [][]byte, mask uint64) [][]byte {
	i := 0
	next := func() ([]byte, bool) {
		if i >= len(f) {
			return nil, false
		}
		i++
		return f[i-1], true
	}
	gv350m := s.model == "GV350M"
	if mask&0x01 != 0 && !gv350m {
		if v, ok := next(); ok {
			if x, ok := tf.Hex(v); ok {
				m.Add("custom.fuel.sensor", protocol.Int(int64(x)))
			}
		}
	}
	if mask&(1<<29) != 0 {
		return f[i:]
	}
	if mask&0x02 != 0 {
		v, ok := next()
		n, okN := tf.Uint(v)
		if !ok || !okN || n > 64 {
			return f[max(i-1, 0):]
		}
		for k := 1; k <= int(n); k++ {
			_, _ = next() // device id
			typ, _ := next()
			data, ok := next()
			if !ok {
				break
			}
			if x, ok := tf.Hex(data); ok && string(typ) == "1" && len(data) <= 4 {
				m.Add("custom.temperature#"+strconv.Itoa(k), protocol.Float(float64(int16(x))/16))
			}
		}
	}
	if mask&0x04 != 0 {
		return f[i:] // CAN data: kept as sent
	}
	if mask&0x18 != 0 || mask&0x01 != 0 && gv350m {
		v, ok := next()
		n, okN := tf.Uint(v)
		if !ok || !okN || n > 16 {
			return f[max(i-1, 0):]
		}
		for k := 0; k < int(n); k++ {
			_, _ = next() // type
			if gv350m {
				_, _ = next() // UART id
				if mask&0x01 != 0 {
					if v, ok := next(); ok {
						if x, ok := tf.Hex(v); ok {
							m.Set("custom.fuel.sensor", protocol.Int(int64(x)))
						}
					}
				}
			}
			if mask&0x08 != 0 {
				if v, ok := next(); ok {
					if x, ok := tf.Decimal(v); ok {
						m.Set(paramFuel, protocol.Float(x))
					}
				}
			}
			if mask&0x10 != 0 {
				if v, ok := next(); ok {
					if x, ok := tf.Decimal(v); ok {
						m.Set(paramFuelVolume, protocol.Float(x))
					}
				}
			}
			if mask&(1<<10) != 0 {
				_, _ = next() // fuel temperature
			}
		}
	}
	return f[i:]
}

// accessory decodes a Bluetooth accessory's <Append Mask> and the fields
// it announces: bit 0 name, 1 MAC, 2 status, 3 battery voltage (mV),
// 4 temperature (°C), 5 humidity (%). known limits the bits a report
// carries (GTBID: MAC and voltage). It returns what it could not name.
func accessory(m *protocol.Message, maskField []byte, f [][]byte, known uint64) [][]byte {
	mask, ok := tf.Hex(maskField)
	if !ok || len(maskField) != 4 {
		return append([][]byte{maskField}, f...)
	}
	i := 0
	for bit := 0; bit < 6 && i < len(f); bit++ {
		if mask&(1<<bit) == 0 || known&(1<<bit) == 0 {
			continue
		}
		v := f[i]
		i++
		if len(v) == 0 {
			continue
		}
		switch bit {
		case 0:
			m.Add("custom.accessory.name", protocol.String(tf.Text(v)))
		case 1:
			m.Add("custom.accessory.mac", protocol.String(tf.Text(v)))
		case 2:
			if x, ok := tf.Uint(v); ok {
				m.Add("custom.accessory.status", protocol.Int(int64(x)))
			}
		case 3:
			if x, ok := tf.Uint(v); ok {
				m.Add("custom.accessory.voltage", protocol.Float(float64(x)/1000))
			}
		case 4:
			if x, ok := tf.Int(v); ok {
				m.Add("custom.accessory.temperature", protocol.Int(x))
			}
		case 5:
			if x, ok := tf.Uint(v); ok {
				m.Add("custom.accessory.humidity", protocol.Int(int64(x)))
			}
		}
	}
	return f[i:]
}

// dtt: <reserved>,<reserved>,<data type>,<length>,<data in hex>: data a
// serial accessory sent, decoded to text.
func (s *Session) dtt(m *protocol.Message, pre [][]byte) [][]byte {
	n := len(pre)
	if n < 3 || !tf.IsHex(pre[n-1]) || len(pre[n-1])%2 != 0 {
		return pre
	}
	raw := make([]byte, len(pre[n-1])/2)
	for i := range raw {
		v, _ := tf.Hex(pre[n-1][2*i : 2*i+2])
		raw[i] = byte(v)
	}
	txt := tf.Text(raw)
	m.Add(paramData, protocol.String(txt))
	// A COMB fuel sensor reports "COMB,<n>,<level>,…".
	if k := strings.Index(txt, "COMB,"); k >= 0 {
		parts := strings.Split(txt[k:], ",")
		if len(parts) > 2 {
			if v, ok := tf.Decimal([]byte(parts[2])); ok {
				m.Add(paramFuel, protocol.Float(v))
			}
		}
	}
	return pre[:n-3]
}
