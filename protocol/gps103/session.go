package gps103

import (
	"bytes"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

const (
	knotsToKmh = 1.852
	maxFields  = 64
	day        = 86400
)

// Session decodes the messages of one connection (or one UDP peer). It
// remembers the device's IMEI (every message carries it) and the offset
// of the device's local clock from UTC, learnt from messages that carry
// both. It is not safe for concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport

	ident     string
	offset    int64 // learnt offset of the local clock from UTC, seconds
	hasOffset bool
	fields    [][]byte
}

// Ident returns the IMEI the session has seen, or "".
func (s *Session) Ident() string { return s.ident }

// Decode decodes one message (over UDP, a datagram, which may hold several
// messages separated by ';' or line ends). See the package documentation.
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	var err error
	if s.transport == protocol.UDP {
		for len(frame) > 0 && err == nil {
			adv, msg, _ := split(frame, true, len(frame)+1)
			if adv == 0 {
				break
			}
			if msg != nil {
				err = s.decode(msg, r)
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
	alt := false
	for len(frame) > 0 && isDelim(frame[len(frame)-1]) {
		alt = alt || frame[len(frame)-1] == '*'
		frame = frame[:len(frame)-1]
	}
	frame = tf.Trim(frame)
	if len(frame) == 0 {
		return nil
	}
	switch {
	case bytes.HasPrefix(frame, []byte("##")):
		return s.login(frame, r)
	case frame[0] >= '0' && frame[0] <= '9':
		// Heartbeat: the IMEI alone, answered "ON". Some firmware sends a
		// message right after it in the same frame.
		end := 0
		for end < len(frame) && frame[end] >= '0' && frame[end] <= '9' {
			end++
		}
		if end > 20 {
			return protocol.Errorf(Name, 0, protocol.ErrMalformed, "heartbeat IMEI longer than 20 digits")
		}
		s.setIdent(frame[:end])
		r.Reply = append(r.Reply, "ON"...)
		if k := bytes.Index(frame, []byte("imei:")); k >= 0 {
			return s.message(frame[k:], alt, r)
		}
		return nil
	case bytes.HasPrefix(frame, []byte("imei:")):
		return s.message(frame, alt, r)
	}
	if s.ident != "" {
		// Text from an identified device that is not a report: the answer
		// to a command sent by SMS or by another server. Keep it.
		text := tf.Text(frame)
		m := s.begin(r)
		m.Add(paramResponse, protocol.String(text))
		r.Responses = append(r.Responses, protocol.CommandResponse{Text: text})
		return nil
	}
	return protocol.Errorf(Name, 0, protocol.ErrMalformed, "not a Coban message: no \"imei:\", \"##\" or heartbeat")
}

func (s *Session) setIdent(b []byte) { s.ident = tf.Intern(s.ident, b) }

func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 0)
}

// login handles "##,imei:<imei>,A", answered "LOAD".
func (s *Session) login(frame []byte, r *protocol.Result) error {
	k := bytes.Index(frame, []byte("imei:"))
	if k < 0 {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "login without \"imei:\"")
	}
	id := frame[k+5:]
	if c := bytes.IndexByte(id, ','); c >= 0 {
		id = id[:c]
	}
	if !tf.IsDigits(id) || len(id) > 20 {
		return protocol.Errorf(Name, k+5, protocol.ErrMalformed, "login IMEI is not digits")
	}
	s.setIdent(id)
	r.Reply = append(r.Reply, "LOAD"...)
	return nil
}

// message decodes "imei:<imei>,<keyword>,…".
func (s *Session) message(frame []byte, alt bool, r *protocol.Result) error {
	f := tf.Split(s.fields, frame, ',', maxFields)
	s.fields = f[:0]
	id := f[0][len("imei:"):]
	if !tf.IsDigits(id) || len(id) > 20 {
		return protocol.Errorf(Name, 5, protocol.ErrMalformed, "IMEI is not digits")
	}
	s.setIdent(id)
	if len(f) < 2 {
		return protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "message without a keyword")
	}
	keyword := tf.Trim(f[1])
	switch {
	case alt:
		s.alternative(f, r)
	case len(f) > 2 && string(keyword) == "OBD":
		s.obd(f, r)
	case string(keyword) == "vr":
		m := s.begin(r)
		if len(f) > 2 {
			m.Add(paramPhotoChunk, protocol.String(tf.Text(bytes.Join(f[2:], []byte{','}))))
		}
		m.Add(paramType, protocol.String("vr"))
	default:
		s.regular(f, keyword, r)
	}
	return nil
}

// localTime reads the local date and time field: yyMMddhhmm, yyMMddhhmmss
// or "yy/MM/dd hh:mm". ok is false for "000000000" and other non-dates.
func localTime(b []byte) (t int64, ok bool) {
	var d [12]byte
	n := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if n == len(d) {
				return 0, false
			}
			d[n] = c
			n++
		case c == '/' || c == ':' || c == ' ':
		default:
			return 0, false
		}
	}
	if n != 10 && n != 12 {
		return 0, false
	}
	yy, _ := tf.Digits2(d[:], 0)
	mo, _ := tf.Digits2(d[:], 2)
	dd, _ := tf.Digits2(d[:], 4)
	hh, _ := tf.Digits2(d[:], 6)
	mi, _ := tf.Digits2(d[:], 8)
	ss := 0
	if n == 12 {
		ss, _ = tf.Digits2(d[:], 10)
	}
	return tf.Unix(2000+yy, mo, dd, hh, mi, ss)
}

// utcTimestamp combines the local date and time with the GPS's UTC time of
// day: the UTC day is the one that puts the two within 14 hours of each
// other (the widest time zone offset). It records the device's offset.
func (s *Session) utcTimestamp(local int64, hasLocal bool, utc []byte) (float64, bool) {
	h, mi, sec, ok := tf.HHMMSS(utc)
	if ok && (h > 23 || mi > 59 || sec > 59) {
		ok = false
	}
	if !hasLocal {
		return 0, false
	}
	if !ok {
		return float64(local - s.localOffset()), true
	}
	tod := int64(h*3600 + mi*60 + sec)
	start := local - (local%day+day)%day
	best := start + tod
	for _, c := range [...]int64{start + tod - day, start + tod + day} {
		if abs(local-c) < abs(local-best) {
			best = c
		}
	}
	off := local - best
	if abs(off) <= 14*3600 {
		// Time zones are whole quarter hours; the local field may lack seconds.
		s.offset = (off + sign(off)*450) / 900 * 900
		s.hasOffset = true
	}
	return float64(best) + tf.Fraction(utc), true
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

// localOffset is the device clock's offset from UTC in seconds: learnt,
// else configured.
func (s *Session) localOffset() int64 {
	if s.hasOffset {
		return s.offset
	}
	return int64(s.codec.UTCOffset / time.Second)
}

// regular decodes the Coban report:
//
//	imei,keyword,localtime,phone,F,hhmmss.sss,A,lat,N,lon,E,speed,course[,alt,acc,door,fuel1,fuel2,temp]
//	imei,keyword,localtime,phone,L,,,lac,,cid,…
//
// Some firmware writes the hemisphere before the coordinate ("A,N,5306.6,E,00700.7").
func (s *Session) regular(f [][]byte, keyword []byte, r *protocol.Result) {
	m := s.begin(r)
	at := func(i int) []byte {
		if i < len(f) {
			return tf.Trim(f[i])
		}
		return nil
	}
	local, hasLocal := localTime(at(2))
	mode := at(4)
	switch {
	case len(mode) == 1 && mode[0] == 'F' && len(f) >= 11:
		if ts, ok := s.utcTimestamp(local, hasLocal, at(5)); ok {
			m.Add(protocol.ParamTimestamp, protocol.Float(ts))
		}
		i := 7
		var lat, lon float64
		var okLat, okLon bool
		if h := at(7); len(h) == 1 && (h[0] == 'N' || h[0] == 'S') {
			lat, okLat = coordinate(at(8), h, 'N', 'S', 90)
			lon, okLon = coordinate(at(10), at(9), 'E', 'W', 180)
		} else {
			lat, okLat = coordinate(at(7), at(8), 'N', 'S', 90)
			lon, okLon = coordinate(at(9), at(10), 'E', 'W', 180)
		}
		i = 11
		if okLat && okLon {
			m.Add(protocol.ParamLatitude, protocol.Float(lat))
			m.Add(protocol.ParamLongitude, protocol.Float(lon))
			speed, _ := tf.Decimal(at(i))
			m.Add(protocol.ParamSpeed, protocol.Float(speed*knotsToKmh))
			if v, ok := tf.Decimal(at(i + 1)); ok {
				m.Add(protocol.ParamDirection, protocol.Float(v))
			}
			if v, ok := tf.Decimal(at(i + 2)); ok {
				m.Add(protocol.ParamAltitude, protocol.Float(v))
			}
		}
		if v := at(6); len(v) == 1 && (v[0] == 'A' || v[0] == 'V') {
			m.Add(protocol.ParamValid, protocol.Bool(v[0] == 'A'))
		}
		// ACC and door are "0"/"1"; firmware of fuel sensor models leaves
		// one of them out, so the fuel levels start a field earlier.
		fuel := i + 5
		if v := at(i + 4); len(v) > 0 && !isBit(v) {
			fuel = i + 4
		} else {
			if v := at(i + 3); isBit(v) {
				m.Add(paramIgnition, protocol.Bool(v[0] == '1'))
			}
			if v := at(i + 4); isBit(v) {
				m.Add(paramDoor, protocol.Bool(v[0] == '1'))
			}
		}
		if v, ok := tf.Decimal(bytes.TrimSuffix(at(fuel), []byte{'%'})); ok {
			m.Add(paramFuel, protocol.Float(v))
		}
		if v, ok := tf.Decimal(bytes.TrimSuffix(at(fuel+1), []byte{'%'})); ok {
			m.Add(paramFuel2, protocol.Float(v))
		}
		if v, ok := tf.Decimal(at(fuel + 2)); ok {
			m.Add(paramTemperature, protocol.Float(v))
		}
	default:
		// "L": no GPS; the cell the device is in, LAC and cell id in hex.
		if hasLocal {
			m.Add(protocol.ParamTimestamp, protocol.Float(float64(local-s.localOffset())))
		}
		if lac, ok := tf.Hex(at(7)); ok {
			if cid, ok := tf.Hex(at(9)); ok {
				m.Add(paramLAC, protocol.Int(int64(lac)))
				m.Add(paramCellID, protocol.Int(int64(cid)))
			}
		}
	}
	if p := at(3); len(p) > 0 {
		switch {
		case string(keyword) == "rfid":
			m.Add(paramRFID, protocol.String(tf.Text(p)))
		case p[len(p)-1] == '%':
			if v, ok := tf.Decimal(p[:len(p)-1]); ok {
				m.Add(paramBattery, protocol.Float(v))
			}
		default:
			m.Add(paramPhone, protocol.String(tf.Text(p)))
		}
	}
	keywordParams(m, keyword)
	m.Add(paramType, protocol.String(keywordName(keyword)))
	if s.codec.AcknowledgeSOS && string(keyword) == "help me" {
		r.Reply = appendCommand(r.Reply, s.ident, "E")
	}
}

func isBit(v []byte) bool { return len(v) == 1 && (v[0] == '0' || v[0] == '1') }

// coordinate reads DDMM.MMMM with its hemisphere letter.
func coordinate(v, hemi []byte, pos, neg byte, limit float64) (float64, bool) {
	if len(hemi) != 1 || hemi[0] != pos && hemi[0] != neg {
		return 0, false
	}
	d, ok := tf.NMEA(v, limit)
	if !ok {
		return 0, false
	}
	if hemi[0] == neg && d != 0 {
		d = -d
	}
	return d, true
}

// keywordName returns a keyword as a string, without allocating for the
// ones devices send all day.
func keywordName(k []byte) string {
	switch string(k) {
	case "tracker":
		return "tracker"
	case "help me":
		return "help me"
	case "acc on":
		return "acc on"
	case "acc off":
		return "acc off"
	case "":
		return ""
	}
	return tf.Text(k)
}

// keywordParams sets what an alarm keyword means.
func keywordParams(m *protocol.Message, k []byte) {
	alarm := true
	switch string(k) {
	case "tracker", "", "rfid":
		alarm = false
	case "help me":
		m.Add(paramSOS, protocol.Bool(true))
	case "low battery":
		m.Add(paramBatteryLow, protocol.Bool(true))
	case "speed":
		m.Add(paramOverspeed, protocol.Bool(true))
	case "ac alarm":
		m.Set(paramPowerOK, protocol.Bool(false))
	case "door alarm":
		m.Set(paramDoor, protocol.Bool(true))
	case "bonnet alarm":
		m.Add(paramHood, protocol.Bool(true))
	case "sensor alarm":
		m.Add(paramShock, protocol.Bool(true))
	case "acc on", "acc off":
		m.Set(paramIgnition, protocol.Bool(string(k) == "acc on"))
		alarm = false
	case "stockade", "move", "accident alarm", "footbrake alarm", "acc alarm", "DTC":
	default:
		switch {
		case bytes.HasPrefix(k, []byte("T:")):
			if v, ok := tf.Decimal(k[2:]); ok {
				m.Set(paramTemperature, protocol.Float(v))
			}
		case bytes.HasPrefix(k, []byte("oil ")):
			if v, ok := tf.Decimal(k[4:]); ok {
				m.Set(paramFuel, protocol.Float(v))
			}
			alarm = false
		case bytes.HasPrefix(k, []byte("oil")):
		case bytes.HasPrefix(k, []byte("vt")):
			if v, ok := tf.Uint(k[2:]); ok {
				m.Add(paramPhotoCount, protocol.Int(int64(v)))
			}
			alarm = false
		default:
			alarm = false
		}
	}
	if alarm {
		m.Add(paramAlarm, protocol.Bool(true))
	}
}

// obd decodes the OBD report:
// imei,OBD,yyMMddhhmmss,odometer,fuel instant,fuel average,hours,speed,load%,coolant,throttle%,rpm,battery,dtcs….
func (s *Session) obd(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	at := func(i int) []byte {
		if i < len(f) {
			return tf.Trim(f[i])
		}
		return nil
	}
	if local, ok := localTime(at(2)); ok {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(local-s.localOffset())))
	}
	num := func(name string, i int, suffix byte) {
		v := at(i)
		if len(v) > 0 && suffix != 0 && v[len(v)-1] == suffix {
			v = v[:len(v)-1]
		}
		if x, ok := tf.Decimal(v); ok {
			m.Add(name, protocol.Float(x))
		}
	}
	num(paramOBDOdometer, 3, 0)
	num(paramOBDFuelInst, 4, 0)
	num(paramOBDFuelAvg, 5, 0)
	num(paramOBDHours, 6, 0)
	num(paramOBDSpeed, 7, 0)
	num(paramOBDLoad, 8, '%')
	num(paramOBDCoolant, 9, 0)
	num(paramOBDThrottle, 10, '%')
	num(paramOBDRPM, 11, 0)
	num(paramOBDBattery, 12, 0)
	if len(f) > 13 {
		var dtc []byte
		for _, x := range f[13:] {
			if x = tf.Trim(x); len(x) > 0 {
				if dtc != nil {
					dtc = append(dtc, ' ')
				}
				dtc = append(dtc, x...)
			}
		}
		if dtc != nil {
			m.Add(paramOBDDTC, protocol.String(tf.Text(dtc)))
		}
	}
	m.Add(paramType, protocol.String("OBD"))
}

// alternative decodes the layout that ends with '*':
// imei,type,event,sensor id,sensor voltage,hhmmss,ddmmyy,rssi,gps status,
// lat,lon,speed(km/h),course,altitude,hdop,satellites,ignition,charge,error.
func (s *Session) alternative(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	at := func(i int) []byte {
		if i < len(f) {
			return tf.Trim(f[i])
		}
		return nil
	}
	isNone := func(b []byte) bool { return len(b) == 0 || len(bytes.Trim(b, "-")) == 0 }
	if tm, d := at(5), at(6); len(tm) == 6 && len(d) == 6 {
		h, mi, sec, ok1 := tf.HHMMSS(tm)
		dd, ok2 := tf.Digits2(d, 0)
		mo, ok3 := tf.Digits2(d, 2)
		yy, ok4 := tf.Digits2(d, 4)
		if ok1 && ok2 && ok3 && ok4 {
			if t, ok := tf.Unix(2000+yy, mo, dd, h, mi, sec); ok {
				m.Add(protocol.ParamTimestamp, protocol.Float(float64(t)))
			}
		}
	}
	lat, ok1 := tf.Decimal(at(9))
	lon, ok2 := tf.Decimal(at(10))
	if ok1 && ok2 && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
		for i, name := range [...]string{protocol.ParamSpeed, protocol.ParamDirection, protocol.ParamAltitude} {
			if v, ok := tf.Decimal(at(11 + i)); ok {
				m.Add(name, protocol.Float(v))
			}
		}
	}
	if v, ok := tf.Uint(at(8)); ok {
		m.Add(protocol.ParamValid, protocol.Bool(v > 0))
	}
	if v, ok := tf.Decimal(at(14)); ok {
		m.Add(protocol.ParamHDOP, protocol.Float(v))
	}
	if v, ok := tf.Uint(at(15)); ok {
		m.Add(protocol.ParamSatellites, protocol.Int(int64(v)))
	}
	if v, ok := tf.Uint(at(7)); ok {
		m.Add(paramSignal, protocol.Int(int64(v)))
	}
	if v := at(16); len(v) == 1 && (v[0] == '0' || v[0] == '1') {
		m.Add(paramIgnition, protocol.Bool(v[0] == '1'))
	}
	if v := at(17); len(v) == 1 && (v[0] == '0' || v[0] == '1') {
		m.Add(paramCharging, protocol.Bool(v[0] == '1'))
	}
	if v := at(3); !isNone(v) {
		m.Add(paramSensorID, protocol.String(tf.Text(v)))
	}
	if v, ok := tf.Decimal(at(4)); ok {
		m.Add(paramSensorVolt, protocol.Float(v))
	}
	if v := at(18); !isNone(v) {
		m.Add(paramError, protocol.String(tf.Text(v)))
	}
	event := at(2)
	if isNone(event) {
		event = at(1)
	}
	m.Add(paramType, protocol.String(tf.Text(event)))
}
