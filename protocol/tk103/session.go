package tk103

import (
	"bytes"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Parameter names this codec sets beyond the common ones in package
// protocol. Names with a flespi equivalent use it; the rest carry the
// "custom." prefix, as flespi does for parameters without a common name.
const (
	paramType       = "custom.packet.type"   // the frame's command: "BR00", "BO01", "ZC17", …
	paramRaw        = "custom.packet.raw"    // a frame's body kept as sent
	paramTail       = "custom.packet.tail"   // what follows a known layout, as sent
	paramPrefix     = "custom.packet.prefix" // what precedes a position in a command's body, as sent
	paramDeviceID   = "custom.device.id"     // the 15-character id a log-in (BP05) carries
	paramIOState    = "custom.io.state"      // the 8-character I/O state, as sent
	paramPowerOK    = "external.powersource.status"
	paramIgnition   = "engine.ignition.status"
	paramDoor       = "door.open.status"
	paramSOS        = "sos.event.trigger"
	paramAlarm      = "alarm.event.trigger"
	paramEvent      = "event.enum"
	paramOverspeed  = "overspeeding.event.trigger"
	paramShock      = "shock.event.trigger"
	paramMovement   = "custom.movement.alarm.event.trigger"
	paramBatteryLow = "battery.low.status"
	paramEngineCut  = "custom.oil.electricity.disconnected.status"
	paramFuelRaw    = "custom.fuel.raw"
	paramMileage    = "vehicle.mileage"
	paramTemp       = "custom.temperature"
	paramBattery    = "battery.level"
	paramBatteryV   = "battery.voltage"
	paramPowerV     = "external.powersource.voltage"
	paramMCC        = "gsm.mcc"
	paramMNC        = "gsm.mnc"
	paramLAC        = "gsm.lac"
	paramCellID     = "gsm.cellid"
	paramSignal     = "gsm.signal.level"
	paramCells      = "gsm.cells"
	paramWiFi       = "wifi.access.points"
	paramVIN        = "vehicle.vin"
	paramResponse   = "command.response"
	paramDin2       = "din#2"
	paramDout2      = "dout#2"
)

const maxFields = 128

// Session decodes the frames of one connection (or one UDP peer). It
// remembers the device id the frames carry. It is not safe for concurrent
// use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	ident     string
	fields    [][]byte
}

// Ident returns the device id the session has seen, or "".
func (s *Session) Ident() string { return s.ident }

// Decode decodes one frame (over UDP, a datagram of one or more frames).
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	var err error
	if s.transport == protocol.UDP {
		for len(frame) > 0 && err == nil {
			adv, f, e := split(frame, len(frame)+1)
			if e != nil || adv == 0 {
				if bytes.IndexByte(frame, '(') >= 0 {
					err = protocol.Errorf(Name, 0, protocol.ErrTruncated, "frame without its closing ')'")
				}
				break
			}
			if f != nil {
				err = s.decode(f, r)
			}
			frame = frame[adv:]
		}
	} else {
		err = s.decode(frame, r)
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	return err
}

func (s *Session) decode(frame []byte, r *protocol.Result) error {
	if len(frame) < 2 || frame[0] != '(' || frame[len(frame)-1] != ')' {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "a frame is \"(…)\"")
	}
	body := frame[1 : len(frame)-1]
	n := 0
	for n < len(body) && body[n] >= '0' && body[n] <= '9' {
		n++
	}
	if n == 0 || n > 20 {
		return protocol.Errorf(Name, 1, protocol.ErrMalformed, "a frame starts with the device id's digits")
	}
	s.ident = tf.Intern(s.ident, body[:n])
	if n < len(body) && body[n] == ',' {
		return s.commaFrame(body[n+1:], r)
	}
	rest := body[n:]
	if len(rest) < 4 || !isUpper(rest[0]) || !isUpper(rest[1]) || !isAlnum(rest[2]) || !isAlnum(rest[3]) {
		return protocol.Errorf(Name, 1+n, protocol.ErrMalformed, "no command (two letters and two characters) after the device id")
	}
	s.classic(body[:n], rest[:4], rest[4:], r)
	return nil
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isUpper(c) || c >= '0' && c <= '9' }

func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 0)
}

// commandName returns a command as a string without allocating for the
// ones devices send all day.
func commandName(c []byte) string {
	switch string(c) {
	case "BR00":
		return "BR00"
	case "BP05":
		return "BP05"
	case "BO01":
		return "BO01"
	case "BP04":
		return "BP04"
	}
	return tf.Text(c)
}

// classic decodes "(<id><cmd><body>)".
func (s *Session) classic(id, cmd, body []byte, r *protocol.Result) {
	switch string(cmd) {
	case "BP00":
		// Handshake: "<device id>HSO…", answered "(<id>AP01HSO)".
		r.Reply = append(r.Reply, '(')
		r.Reply = append(r.Reply, id...)
		r.Reply = append(r.Reply, "AP01HSO)"...)
		return
	case "BP05":
		// Log-in: the 15-character device id, then a position.
		r.Reply = append(r.Reply, '(')
		r.Reply = append(r.Reply, id...)
		r.Reply = append(r.Reply, "AP05)"...)
		m := s.begin(r)
		if len(body) >= 15 {
			if s.gps(m, body[15:]) {
				m.Add(paramDeviceID, protocol.String(tf.Text(body[:15])))
			}
		} else {
			m.Add(paramRaw, protocol.String(tf.Text(body)))
		}
		m.Add(paramType, protocol.String("BP05"))
		return
	case "BZ00":
		s.network(body, r)
		return
	case "BV00":
		if len(body) == 17 && isVIN(body) {
			m := s.begin(r)
			m.Add(paramVIN, protocol.String(string(body)))
			m.Add(paramType, protocol.String("BV00"))
			return
		}
	}
	// A position, after an optional prefix (BO01's alarm type).
	m := s.begin(r)
	start, ok := gpsStart(body)
	if !ok {
		// A frame without a position: the answer to a command (BS…, BN…,
		// BV00, BP02, …) or a report this codec does not know. Keep it.
		text := tf.Text(append(append([]byte(nil), cmd...), body...))
		m.Add(paramResponse, protocol.String(text))
		m.Add(paramType, protocol.String(commandName(cmd)))
		r.Responses = append(r.Responses, protocol.CommandResponse{Text: text})
		return
	}
	prefix := body[:start]
	s.gps(m, body[start:])
	switch string(cmd) {
	case "BO01":
		if len(prefix) == 1 {
			t := int(prefix[0] - '0')
			m.Add(paramEvent, protocol.Int(int64(t)))
			alarmType(m, t)
			if s.codec.AnswerAlarms {
				r.Reply = append(r.Reply, '(')
				r.Reply = append(r.Reply, id...)
				r.Reply = append(r.Reply, "AS01"...)
				r.Reply = append(r.Reply, prefix[0], ')')
			}
		}
	case "BQ81":
		if v, ok := tf.Uint(prefix); ok && v < 100 {
			m.Add(paramEvent, protocol.Int(int64(v)))
			m.Add(paramAlarm, protocol.Bool(true))
		}
	case "BP04":
		r.Responses = append(r.Responses, protocol.CommandResponse{Text: "BP04"})
	default:
		if len(prefix) > 0 {
			m.Add(paramPrefix, protocol.String(tf.Text(prefix)))
		}
	}
	m.Add(paramType, protocol.String(commandName(cmd)))
}

func isVIN(b []byte) bool {
	for _, c := range b {
		if !isAlnum(c) {
			return false
		}
	}
	return true
}

// alarmType names the BO01 alarm types: 0 power off, 1 accident, 2
// robbery (SOS), 3 anti-theft, 4 low speed, 5 overspeed, 6 out of the
// geofence.
func alarmType(m *protocol.Message, t int) {
	switch t {
	case 0:
		m.Set(paramPowerOK, protocol.Bool(false))
	case 2:
		m.Set(paramSOS, protocol.Bool(true))
	case 3:
		m.Set(paramShock, protocol.Bool(true))
	case 5:
		m.Set(paramOverspeed, protocol.Bool(true))
	}
	m.Set(paramAlarm, protocol.Bool(true))
}

// gpsStart finds where the position block starts: six date digits and A or
// V, followed by a latitude digit or space.
func gpsStart(b []byte) (int, bool) {
	for i := 0; i+8 <= len(b) && i <= 4; i++ {
		if tf.IsDigits(b[i:i+6]) && (b[i+6] == 'A' || b[i+6] == 'V') && (b[i+7] >= '0' && b[i+7] <= '9' || b[i+7] == ' ') {
			return i, true
		}
	}
	return 0, false
}

// gps decodes the classic position block into m and reports whether it
// read:
//
//	yyMMdd A ddmm.mmmmN dddmm.mmmmE speed(km/h) hhmmss course IO(8) L<mileage hex> [temperature]
//
// The course is six characters ("323.87") or, on some firmware, two; a ','
// may follow it. Everything after the mileage is kept in
// custom.packet.tail, but a temperature ("+017.7").
func (s *Session) gps(m *protocol.Message, b []byte) bool {
	if len(b) < 7 {
		return false
	}
	yy, ok1 := tf.Digits2(b, 0)
	mo, ok2 := tf.Digits2(b, 2)
	dd, ok3 := tf.Digits2(b, 4)
	valid := b[6]
	b = b[7:]
	lat, b, okLat := coord(b, 'N', 'S', 90)
	lon, b, okLon := coord(b, 'E', 'W', 180)
	if !okLat || !okLon {
		return false
	}
	// The rest: speed, time, course, IO state, 'L', mileage, tail.
	var io, tail []byte
	var mileage uint64
	hasMileage := false
	rest := b
	if l := bytes.IndexByte(b, 'L'); l >= 8 {
		io = b[l-8 : l]
		rest = bytes.TrimRight(b[:l-8], ",")
		after := b[l+1:]
		k := 0
		for k < len(after) && k < 16 && isHex(after[k]) {
			k++
		}
		if k > 0 {
			mileage, _ = tf.Hex(after[:k])
			hasMileage = true
		}
		tail = after[k:]
	}
	var speedB, timeB, courseB []byte
	switch {
	case io == nil && len(rest) >= 11:
		speedB, timeB, courseB = rest[:5], rest[5:11], rest[11:]
	case len(rest) >= 15:
		n := len(rest)
		speedB, timeB, courseB = rest[:n-12], rest[n-12:n-6], rest[n-6:]
	case len(rest) >= 9:
		n := len(rest)
		speedB, timeB, courseB = rest[:n-8], rest[n-8:n-2], rest[n-2:]
	default:
		return false
	}
	if ok1 && ok2 && ok3 {
		if h, mi, sec, ok := tf.HHMMSS(timeB); ok {
			if t, ok := tf.Unix(2000+yy, mo, dd, h, mi, sec); ok {
				t -= int64(s.codec.UTCOffset / time.Second)
				m.Add(protocol.ParamTimestamp, protocol.Float(float64(t)))
			}
		}
	}
	m.Add(protocol.ParamLatitude, protocol.Float(lat))
	m.Add(protocol.ParamLongitude, protocol.Float(lon))
	if v, ok := tf.Decimal(tf.Trim(speedB)); ok {
		m.Add(protocol.ParamSpeed, protocol.Float(v))
	}
	if v, ok := tf.Decimal(tf.Trim(bytes.TrimRight(courseB, ","))); ok && v <= 360 {
		m.Add(protocol.ParamDirection, protocol.Float(v))
	}
	m.Add(protocol.ParamValid, protocol.Bool(valid == 'A'))
	if io != nil {
		ioState(m, io)
	}
	if hasMileage {
		m.Add(paramMileage, protocol.Float(float64(mileage)/1000))
	}
	if len(tail) > 0 {
		if (tail[0] == '+' || tail[0] == '-') && len(tail) >= 4 {
			if v, ok := tf.Decimal(tail); ok {
				m.Add(paramTemp, protocol.Float(v))
				tail = nil
			}
		}
		if len(tail) > 0 {
			m.Add(paramTail, protocol.String(tf.Text(tail)))
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

// coord reads "ddmm.mmmm" and its hemisphere letter from the front of b.
func coord(b []byte, pos, neg byte, limit float64) (float64, []byte, bool) {
	i := 0
	for i < len(b) && b[i] != pos && b[i] != neg {
		if i > 16 {
			return 0, b, false
		}
		i++
	}
	if i == len(b) {
		return 0, b, false
	}
	d, ok := tf.NMEA(tf.Trim(b[:i]), limit)
	if !ok {
		return 0, b, false
	}
	if b[i] == neg && d != 0 {
		d = -d
	}
	return d, b[i+1:], true
}

// ioState decodes the 8-character I/O state: main power ('0' connected),
// ACC ('1' on), three hex digits of inputs and outputs (the first: input
// 2, panic, output 2, oil cut; the second's bit 3: door), and the fuel
// sensor's value in hex.
func ioState(m *protocol.Message, io []byte) {
	m.Add(paramIOState, protocol.String(ioString(io)))
	if io[0] == '0' || io[0] == '1' {
		m.Set(paramPowerOK, protocol.Bool(io[0] == '0'))
	}
	if io[1] == '0' || io[1] == '1' {
		m.Add(paramIgnition, protocol.Bool(io[1] == '1'))
	}
	if v, ok := hexDigit(io[2]); ok {
		m.Add(paramDin2, protocol.Bool(v&1 != 0))
		m.Add(paramDout2, protocol.Bool(v&4 != 0))
		if v&2 != 0 {
			m.Set(paramSOS, protocol.Bool(true))
		}
		if v&8 != 0 {
			m.Add(paramEngineCut, protocol.Bool(true))
		}
	}
	if v, ok := hexDigit(io[3]); ok && v&8 != 0 {
		m.Add(paramDoor, protocol.Bool(true))
	}
	if v, ok := tf.Hex(io[5:8]); ok {
		m.Add(paramFuelRaw, protocol.Int(int64(v)))
	}
}

// ioString returns the common I/O states without allocating.
func ioString(io []byte) string {
	switch string(io) {
	case "00000000":
		return "00000000"
	case "01000000":
		return "01000000"
	case "10000000":
		return "10000000"
	case "11000000":
		return "11000000"
	}
	return tf.Text(io)
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// network decodes BZ00: ",mcc,mnc,lac,cid,rssi[,lac,cid,rssi…]" with LAC
// and cell id in hex.
func (s *Session) network(body []byte, r *protocol.Result) {
	m := s.begin(r)
	defer m.Add(paramType, protocol.String("BZ00"))
	f := tf.Split(s.fields, bytes.TrimPrefix(body, []byte{','}), ',', maxFields)
	s.fields = f[:0]
	mcc, ok1 := tf.Uint(tf.Trim(f[0]))
	if !ok1 || len(f) < 4 {
		m.Add(paramRaw, protocol.String(tf.Text(body)))
		return
	}
	mnc, ok2 := tf.Uint(tf.Trim(f[1]))
	lac, ok3 := tf.Hex(tf.Trim(f[2]))
	cid, ok4 := tf.Hex(tf.Trim(f[3]))
	if !ok2 || !ok3 || !ok4 {
		m.Add(paramRaw, protocol.String(tf.Text(body)))
		return
	}
	m.Add(paramMCC, protocol.Int(int64(mcc)))
	m.Add(paramMNC, protocol.Int(int64(mnc)))
	m.Add(paramLAC, protocol.Int(int64(lac)))
	m.Add(paramCellID, protocol.Int(int64(cid)))
	if len(f) > 4 {
		if v, ok := tf.Uint(tf.Trim(f[4])); ok {
			m.Add(paramSignal, protocol.Int(int64(v)))
		}
	}
	var js []byte
	for i := 5; i+2 < len(f); i += 3 {
		l, okL := tf.Hex(tf.Trim(f[i]))
		c, okC := tf.Hex(tf.Trim(f[i+1]))
		g, okG := tf.Int(tf.Trim(f[i+2]))
		if !okL || !okC || !okG {
			continue
		}
		js = protocol.AppendGSMCell(js, mcc, mnc, l, c, g, true)
	}
	if js != nil {
		m.Add(paramCells, protocol.RawJSON(string(append(js, ']'))))
	}
}
