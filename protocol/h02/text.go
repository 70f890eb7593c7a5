package h02

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

const knotsToKmh = 1.852

// decodeText decodes "*XX,id,TYPE,…#".
func (s *Session) decodeText(frame []byte, r *protocol.Result) error {
	body := frame[1:]
	if n := len(body); n > 0 && body[n-1] == '#' {
		body = body[:n-1]
	} else if s.transport == protocol.TCP {
		return protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "text frame without its closing '#'")
	}
	body = tf.Trim(body)
	f := tf.Split(s.fields, body, ',', maxFields)
	s.fields = f[:0]
	if len(f) < 3 {
		return protocol.Errorf(Name, 1, protocol.ErrMalformed, "text frame with fewer than 3 fields (maker, id, type)")
	}
	maker := f[0]
	if len(maker) != 2 || !isLetter(maker[0]) || !isLetter(maker[1]) {
		return protocol.Errorf(Name, 1, protocol.ErrMalformed, "the maker field is two letters, as in *HQ")
	}
	s.maker = [2]byte{maker[0], maker[1]}
	if id := tf.Trim(f[1]); len(id) > 0 {
		if !tf.ValidIdent(id) {
			return protocol.Errorf(Name, 4, protocol.ErrMalformed, "device id with characters an ident cannot hold")
		}
		s.setIdent(id)
	}
	typ := tf.Trim(f[2])
	switch string(typ) {
	case "":
		// "*HQ,<id>,#": an empty keep-alive some devices send.
		return nil
	case "V1":
		s.report(f, 3, r)
		s.timeReply(r, "V1")
	case "VI1":
		s.report(f, 3, r)
	case "ALRM":
		s.alarm(f, r)
	case "V3":
		if len(f) > 4 && isValidity(tf.Trim(f[4])) {
			s.report(f, 3, r)
		} else {
			s.lbsV3(f, r)
		}
	case "V4":
		s.answer(f, r)
	case "NBR":
		s.nbr(f, r)
		s.timeReply(r, "NBR")
	case "LINK":
		s.link(f, r)
	case "VP1":
		s.vp1(f, r)
	case "HTBT", "V0":
		s.heartbeat(f, typ, r)
	case "XT":
		if len(f) > 3 {
			m := s.begin(r)
			m.Add(paramHeartbeat, protocol.String(tf.Text(tf.Join(f[3:], ','))))
			m.Add(paramType, protocol.String("XT"))
		}
	case "BC":
		s.blindSpots(body, f, r)
	default:
		if looksLikeReport(f) {
			s.report(f, 3, r)
		} else {
			s.raw(f, r)
		}
	}
	return nil
}

// typeName returns a frame's type as a string, without allocating for the
// types devices send all day.
func typeName(b []byte) string {
	switch string(b) {
	case "V1":
		return "V1"
	case "V2":
		return "V2"
	case "V3":
		return "V3"
	case "V5":
		return "V5"
	case "V6":
		return "V6"
	case "V19":
		return "V19"
	case "VI1":
		return "VI1"
	}
	return tf.Text(b)
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

func isValidity(b []byte) bool {
	return len(b) == 1 && (b[0] == 'A' || b[0] == 'V' || b[0] == 'B') || len(b) > 0 && len(b) <= 3 && tf.IsDigits(b)
}

// looksLikeReport reports whether an unknown type has the V1 layout:
// time, validity, latitude and hemisphere, longitude and hemisphere.
func looksLikeReport(f [][]byte) bool {
	return len(f) > 11 && isValidity(tf.Trim(f[4])) && isHemi(tf.Trim(f[6]), 'N', 'S') && isHemi(tf.Trim(f[8]), 'E', 'W')
}

func isHemi(b []byte, a, c byte) bool { return len(b) == 1 && (b[0] == a || b[0] == c) }

// fix is a position block: hhmmss, validity, latitude, N/S, longitude,
// E/W, speed (knots), course, [power level,] ddmmyy.
type fix struct {
	hasTime, hasDate bool
	h, mi, sec       int
	year, mon, day   int
	valid            int8 // 1 A, 0 V, -1 unknown (B, or a coding scheme digit)
	hasPos           bool
	lat, lon         float64
	speed, course    float64
	level            int // power level between course and date; -1 none
}

// parseFix reads a position block whose time is f[p] and returns the index
// after its date. ok is false when the frame has too few fields.
func parseFix(f [][]byte, p int) (x fix, next int, ok bool) {
	x.level = -1
	if len(f) < p+8 {
		return x, p, false
	}
	x.h, x.mi, x.sec, x.hasTime = tf.HHMMSS(tf.Trim(f[p]))
	switch v := tf.Trim(f[p+1]); {
	case len(v) == 1 && v[0] == 'A':
		x.valid = 1
	case len(v) == 1 && v[0] == 'V':
		x.valid = 0
	default:
		x.valid = -1
	}
	lat, okLat := coordinate(tf.Trim(f[p+2]), tf.Trim(f[p+3]), 'N', 'S', 90)
	lon, okLon := coordinate(tf.Trim(f[p+4]), tf.Trim(f[p+5]), 'E', 'W', 180)
	if okLat && okLon {
		x.hasPos, x.lat, x.lon = true, lat, lon
	}
	// An empty speed or course is 0, as both documents say.
	if v := tf.Trim(f[p+6]); len(v) > 0 {
		x.speed, _ = tf.Decimal(v)
	}
	if v := tf.Trim(f[p+7]); len(v) > 0 {
		x.course, _ = tf.Decimal(v)
	}
	next = p + 8
	if next < len(f) {
		d := tf.Trim(f[next])
		if len(d) != 6 && next+1 < len(f) && len(tf.Trim(f[next+1])) == 6 {
			if lv, ok := tf.Uint(d); ok && lv <= 100 {
				x.level = int(lv)
			}
			next++
			d = tf.Trim(f[next])
		}
		if len(d) == 6 {
			day, ok1 := tf.Digits2(d, 0)
			mon, ok2 := tf.Digits2(d, 2)
			yy, ok3 := tf.Digits2(d, 4)
			if ok1 && ok2 && ok3 {
				x.hasDate, x.day, x.mon, x.year = true, day, mon, 2000+yy
			}
			next++
		}
	}
	return x, next, true
}

// coordinate reads DDMM.MMMM (or the "-D-M.M" form some firmware sends)
// with its hemisphere letter.
func coordinate(v, hemi []byte, pos, neg byte, limit float64) (float64, bool) {
	if len(hemi) != 1 || hemi[0] != pos && hemi[0] != neg {
		return 0, false
	}
	var deg float64
	if len(v) > 1 && v[0] == '-' {
		d, m, ok := bytes.Cut(v[1:], []byte{'-'})
		if !ok {
			return 0, false
		}
		dv, ok1 := tf.Uint(d)
		mv, ok2 := tf.Decimal(m)
		if !ok1 || !ok2 || mv < 0 || mv >= 60 {
			return 0, false
		}
		deg = float64(dv) + mv/60
		if deg > limit {
			return 0, false
		}
	} else {
		d, ok := tf.NMEA(v, limit)
		if !ok {
			return 0, false
		}
		deg = d
	}
	if hemi[0] == neg && deg != 0 {
		deg = -deg
	}
	return deg, true
}

// emit adds a position block to m: timestamp, position, speed (km/h) and
// course.
func (s *Session) emit(m *protocol.Message, x *fix) {
	if x.hasTime && x.hasDate {
		s.timestamp(m, x.year, x.mon, x.day, x.h, x.mi, x.sec)
	}
	if x.hasPos {
		m.Add(protocol.ParamLatitude, protocol.Float(x.lat))
		m.Add(protocol.ParamLongitude, protocol.Float(x.lon))
		m.Add(protocol.ParamSpeed, protocol.Float(x.speed*knotsToKmh))
		m.Add(protocol.ParamDirection, protocol.Float(x.course))
	}
	if x.valid >= 0 {
		m.Add(protocol.ParamValid, protocol.Bool(x.valid == 1))
	}
	if x.level >= 0 {
		addLevel(m, x.level)
	}
}

// addLevel records an LKGPS power level: 1–6 are the document's levels
// (10 % … 100 %), larger values a percentage.
func addLevel(m *protocol.Message, v int) {
	switch {
	case v == 0:
	case v < len(levelPercent):
		m.Set(paramBattery, protocol.Int(levelPercent[v]))
	case v <= 100:
		m.Set(paramBattery, protocol.Int(int64(v)))
	}
}

// addPercent records a V1.0.3 "pw" power percentage (00–99, 99 is 100 %).
func addPercent(m *protocol.Message, b []byte) {
	v, ok := tf.Uint(b)
	if !ok || v > 100 {
		return
	}
	if v == 99 {
		v = 100
	}
	m.Set(paramBattery, protocol.Int(int64(v)))
}

// report decodes the V1 family: a position block at f[p], then (V19) SIM
// details, the status word, and base station data.
func (s *Session) report(f [][]byte, p int, r *protocol.Result) {
	m := s.begin(r)
	x, next, ok := parseFix(f, p)
	if !ok {
		m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ','))))
		m.Add(paramType, protocol.String(typeName(tf.Trim(f[2]))))
		return
	}
	s.emit(m, &x)
	s.afterDate(m, f, next)
	m.Add(paramType, protocol.String(typeName(tf.Trim(f[2]))))
}

// afterDate decodes what follows a position block's date: SIM details
// (V19), the status word and the base station tail.
func (s *Session) afterDate(m *protocol.Message, f [][]byte, i int) {
	st := -1
	for j := i; j < len(f) && j <= i+4; j++ {
		if v := tf.Trim(f[j]); len(v) == 8 && tf.IsHex(v) {
			st = j
			break
		}
	}
	if st < 0 {
		if i < len(f) {
			m.Add(paramTail, protocol.String(tf.Text(tf.Join(f[i:], ','))))
		}
		return
	}
	var info []byte
	for _, e := range f[i:st] {
		e = tf.Trim(e)
		e = bytes.TrimRight(e, "?")
		switch {
		case len(e) == 0:
		case len(e) >= 18 && len(e) <= 22 && tf.IsHex(e) && !m.Has(paramICCID):
			m.Add(paramICCID, protocol.String(string(e)))
		default:
			if info != nil {
				info = append(info, ',')
			}
			info = append(info, e...)
		}
	}
	if info != nil {
		m.Add(paramSimInfo, protocol.String(tf.Text(info)))
	}
	v, _ := tf.Hex(tf.Trim(f[st]))
	status(m, uint32(v))
	s.cellTail(m, f[st+1:])
}

// cellTail decodes the base station data after the status word. Devices
// send one of these (numbers decimal or hex, the same base throughout):
//
//	pw,count,mcc,mnc,lac,cid,…      V1.0.3 V1: pw a percentage, count cells
//	mcc,mnc,lac,cid,pw,lac-cid-rssi|… V1.0.3 VI1 and ALRM
//	mcc,mnc,lac,cid[,level]         LKGPS: level 1–6
//
// Anything else is kept as sent in custom.packet.tail.
func (s *Session) cellTail(m *protocol.Message, t [][]byte) {
	for len(t) > 0 && len(tf.Trim(t[len(t)-1])) == 0 {
		t = t[:len(t)-1]
	}
	n := len(t)
	if n == 0 {
		return
	}
	var ok bool
	if n >= 4 {
		if cnt, isCnt := tf.Uint(tf.Trim(t[1])); isCnt && cnt >= 1 && cnt <= 16 && n == 4+2*int(cnt) {
			if ok = cells(m, t[2], t[3], t[4:], 2); ok {
				addPercent(m, tf.Trim(t[0]))
				return
			}
		}
	}
	switch {
	case n == 6 && bytes.IndexByte(t[5], '-') >= 0:
		if ok = cells(m, t[0], t[1], t[2:4], 2); ok {
			addPercent(m, tf.Trim(t[4]))
			neighbours(m, t[5], baseOf(tf.Trim(t[0])))
			return
		}
	case n == 4 || n == 5:
		if ok = cells(m, t[0], t[1], t[2:4], 2); ok {
			if n == 5 {
				if lv, isNum := tf.Uint(tf.Trim(t[4])); isNum && lv <= 100 {
					addLevel(m, int(lv))
				} else {
					m.Add(paramTail, protocol.String(tf.Text(tf.Trim(t[4]))))
				}
			}
			return
		}
		// MCC and MNC read, the cell numbers not (an LTE cell in a
		// field meant for a GSM one): keep what reads and the rest as sent.
		if base := baseOf(tf.Trim(t[0])); base != 0 {
			mcc, ok1 := parseBase(t[0], base)
			mnc, ok2 := parseBase(t[1], base)
			if ok1 && ok2 && mcc != 0 {
				m.Add(paramMCC, protocol.Int(int64(mcc)))
				m.Add(paramMNC, protocol.Int(int64(mnc)))
				m.Add(paramTail, protocol.String(tf.Text(tf.Join(t[2:], ','))))
				return
			}
		}
	}
	m.Add(paramTail, protocol.String(tf.Text(tf.Join(t, ','))))
}

// baseOf tells whether a device writes its base station numbers in decimal
// or hex, from the MCC: a decimal MCC is 200–999 ("460"); hex devices send
// "1CC" or "0002d4" for 460 and 724. 0 means neither fits.
func baseOf(mcc []byte) int {
	if v, ok := tf.Uint(mcc); ok && (v >= 200 && v <= 999 || v == 0) {
		return 10
	}
	if v, ok := tf.Hex(mcc); ok && v >= 200 && v <= 999 {
		return 16
	}
	return 0
}

func parseBase(b []byte, base int) (uint64, bool) {
	b = tf.Trim(b)
	if base == 16 {
		return tf.Hex(b)
	}
	return tf.Uint(b)
}

// cells adds MCC, MNC and the first of the (lac, cid) groups of width w
// (2, or 3 with a signal level), the rest as gsm.cells. It adds nothing
// and reports false when a number does not parse; an MCC of 0 (no cell)
// adds nothing and reports true.
func cells(m *protocol.Message, mccB, mncB []byte, groups [][]byte, w int) bool {
	base := baseOf(tf.Trim(mccB))
	if base == 0 || len(groups)%w != 0 {
		return false
	}
	mcc, ok1 := parseBase(mccB, base)
	mnc, ok2 := parseBase(mncB, base)
	if !ok1 || !ok2 {
		return false
	}
	var vals [64]uint64
	if len(groups) > len(vals) {
		return false
	}
	ok := readCells(vals[:], groups, w, base)
	if !ok && base == 10 {
		// The V1.0.3 document's own S20 answer writes the MCC in decimal
		// and LAC and cell id in hex ("460,000,27A6,0F70").
		ok = readCells(vals[:], groups, w, 16)
	}
	if !ok {
		return false
	}
	if mcc == 0 {
		return true
	}
	m.Add(paramMCC, protocol.Int(int64(mcc)))
	m.Add(paramMNC, protocol.Int(int64(mnc)))
	if len(groups) >= 2 && (vals[0] != 0 || vals[1] != 0) {
		m.Add(paramLAC, protocol.Int(int64(vals[0])))
		m.Add(paramCellID, protocol.Int(int64(vals[1])))
	}
	if w == 3 && len(groups) >= 3 {
		m.Add(paramSignal, protocol.Int(int64(vals[2])))
	}
	var js []byte
	for i := w; i+1 < len(groups); i += w {
		if vals[i] == 0 && vals[i+1] == 0 {
			continue // "less than 3, fill 0"
		}
		var rssi int64
		if w == 3 {
			rssi = int64(vals[i+2])
		}
		js = protocol.AppendGSMCell(js, mcc, mnc, vals[i], vals[i+1], rssi, w == 3)
	}
	if js != nil {
		m.Add(paramCells, protocol.RawJSON(string(append(js, ']'))))
	}
	return true
}

// readCells parses (lac, cid[, rssi]) groups into vals: LAC and cell id in
// base (at most 16 and 28 bits, the widest a GSM LAC and an LTE cell id
// take), the signal level in decimal.
func readCells(vals []uint64, groups [][]byte, w, base int) bool {
	for i, g := range groups {
		switch i % w {
		case 2: // signal level, decimal and maybe negative
			v, ok := tf.Int(tf.Trim(g))
			if !ok {
				return false
			}
			vals[i] = uint64(v)
		case 0:
			v, ok := parseBase(g, base)
			if !ok || v > 0xFFFF {
				return false
			}
			vals[i] = v
		case 1:
			v, ok := parseBase(g, base)
			if !ok || v > 0xFFFFFFF {
				return false
			}
			vals[i] = v
		}
	}
	return true
}

// neighbours adds the V1.0.3 "lac-cid-signal| lac-cid-signal|…" list.
func neighbours(m *protocol.Message, b []byte, base int) {
	mcc, _ := m.Int(paramMCC)
	mnc, _ := m.Int(paramMNC)
	var js []byte
	for len(b) > 0 {
		var item []byte
		item, b, _ = bytes.Cut(b, []byte{'|'})
		lac, rest, ok1 := bytes.Cut(tf.Trim(item), []byte{'-'})
		cid, sig, ok2 := bytes.Cut(rest, []byte{'-'})
		if !ok1 || !ok2 {
			continue
		}
		l, okL := parseBase(lac, base)
		c, okC := parseBase(cid, base)
		g, okG := tf.Int(tf.Trim(sig))
		if !okL || !okC || !okG {
			continue
		}
		js = protocol.AppendGSMCell(js, uint64(mcc), uint64(mnc), l, c, g, true)
	}
	if js != nil {
		m.Add(paramCells, protocol.RawJSON(string(append(js, ']'))))
	}
}

// alarm decodes "ALRM,type,hhmmss,code,lat,…": 1 SOS, 2 low battery, 3
// geofence.
func (s *Session) alarm(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	if x, next, ok := parseFix(f, 4); ok {
		s.emit(m, &x)
		s.afterDate(m, f, next)
	}
	if len(f) > 3 {
		if t, ok := tf.Uint(tf.Trim(f[3])); ok && t < 1000 {
			m.Add(paramEvent, protocol.Int(int64(t)))
			switch t {
			case 1:
				m.Set(paramSOS, protocol.Bool(true))
			case 2:
				m.Set(paramBatteryLow, protocol.Bool(true))
			}
		}
	}
	m.Set(paramAlarm, protocol.Bool(true))
	m.Add(paramType, protocol.String("ALRM"))
}

// answer decodes "V4,CMD,…": the device's answer to a command. It becomes a
// [protocol.CommandResponse] and a message with command.response (and the
// position the answer carries, when it does).
func (s *Session) answer(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	// The position block: hhmmss, A|V|B, lat, N|S, lon, E|W.
	at := -1
	for i := 4; i+5 < len(f); i++ {
		if len(tf.Trim(f[i])) == 6 && isValidity(tf.Trim(f[i+1])) && isHemi(tf.Trim(f[i+3]), 'N', 'S') && isHemi(tf.Trim(f[i+5]), 'E', 'W') {
			at = i
			break
		}
	}
	end := len(f)
	if at >= 0 {
		end = at
	}
	var text string
	if end > 3 {
		text = tf.Text(tf.Join(f[3:end], ','))
	}
	if at >= 0 {
		if x, next, ok := parseFix(f, at); ok {
			s.emit(m, &x)
			s.afterDate(m, f, next)
		}
	}
	m.Add(paramResponse, protocol.String(text))
	m.Add(paramType, protocol.String("V4"))
	r.Responses = append(r.Responses, protocol.CommandResponse{Text: text})
}

// nbr decodes "NBR,hhmmss,mcc,mnc,ta,n,(lac,cid,rxlev)×n,ddmmyy,status[,level]".
func (s *Session) nbr(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	defer m.Add(paramType, protocol.String("NBR"))
	if len(f) < 8 {
		m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ','))))
		return
	}
	n, ok := tf.Uint(tf.Trim(f[7]))
	end := 8 + 3*int(n)
	if !ok || n > 16 || len(f) < end+2 {
		m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ','))))
		return
	}
	h, mi, sec, okT := tf.HHMMSS(tf.Trim(f[3]))
	if d := tf.Trim(f[end]); okT && len(d) == 6 {
		day, ok1 := tf.Digits2(d, 0)
		mon, ok2 := tf.Digits2(d, 2)
		yy, ok3 := tf.Digits2(d, 4)
		if ok1 && ok2 && ok3 {
			s.timestamp(m, 2000+yy, mon, day, h, mi, sec)
		}
	}
	if !cells(m, f[4], f[5], f[8:end], 3) {
		m.Add(paramTail, protocol.String(tf.Text(tf.Join(f[4:end], ','))))
	}
	if ta, ok := tf.Uint(tf.Trim(f[6])); ok {
		m.Add(paramTA, protocol.Int(int64(ta)))
	}
	if v, ok := tf.Hex(tf.Trim(f[end+1])); ok && len(tf.Trim(f[end+1])) == 8 {
		status(m, uint32(v))
	}
	if end+2 < len(f) {
		if lv, ok := tf.Uint(tf.Trim(f[end+2])); ok {
			addLevel(m, int(lv))
		}
	}
}

// link decodes "LINK,hhmmss,rssi,satellites,battery,steps,turnovers,ddmmyy,status",
// the link report of wearable H02 devices.
func (s *Session) link(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	defer m.Add(paramType, protocol.String("LINK"))
	if len(f) < 11 {
		m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ','))))
		return
	}
	h, mi, sec, okT := tf.HHMMSS(tf.Trim(f[3]))
	if d := tf.Trim(f[9]); okT && len(d) == 6 {
		day, ok1 := tf.Digits2(d, 0)
		mon, ok2 := tf.Digits2(d, 2)
		yy, ok3 := tf.Digits2(d, 4)
		if ok1 && ok2 && ok3 {
			s.timestamp(m, 2000+yy, mon, day, h, mi, sec)
		}
	}
	for i, name := range [...]string{paramSignal, protocol.ParamSatellites, paramBattery, paramSteps, paramTurnovers} {
		if v, ok := tf.Uint(tf.Trim(f[4+i])); ok {
			m.Add(name, protocol.Int(int64(v)))
		}
	}
	if v, ok := tf.Hex(tf.Trim(f[10])); ok {
		status(m, uint32(v))
	}
}

// lbsV3 decodes the base-station form of V3 some devices send:
// "V3,hhmmss,MCCMNC,n,(lac,cid,ta,rssi)×n,battery(hex),reboot,X,ddmmyy,status".
func (s *Session) lbsV3(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	defer m.Add(paramType, protocol.String("V3"))
	raw := func() { m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ',')))) }
	if len(f) < 6 {
		raw()
		return
	}
	n, ok := tf.Uint(tf.Trim(f[5]))
	end := 6 + 4*int(n)
	if !ok || n > 16 || len(f) < end+5 {
		raw()
		return
	}
	h, mi, sec, okT := tf.HHMMSS(tf.Trim(f[3]))
	if d := tf.Trim(f[end+3]); okT && len(d) == 6 {
		day, ok1 := tf.Digits2(d, 0)
		mon, ok2 := tf.Digits2(d, 2)
		yy, ok3 := tf.Digits2(d, 4)
		if ok1 && ok2 && ok3 {
			s.timestamp(m, 2000+yy, mon, day, h, mi, sec)
		}
	}
	if mm := tf.Trim(f[4]); len(mm) > 3 {
		mcc, ok1 := tf.Uint(mm[:3])
		mnc, ok2 := tf.Uint(mm[3:])
		if ok1 && ok2 {
			m.Add(paramMCC, protocol.Int(int64(mcc)))
			m.Add(paramMNC, protocol.Int(int64(mnc)))
			if n > 0 {
				lac, ok3 := tf.Uint(tf.Trim(f[6]))
				cid, ok4 := tf.Uint(tf.Trim(f[7]))
				if ok3 && ok4 {
					m.Add(paramLAC, protocol.Int(int64(lac)))
					m.Add(paramCellID, protocol.Int(int64(cid)))
				}
				if rssi, ok := tf.Int(tf.Trim(f[9])); ok && rssi < 0 {
					m.Add("gsm.signal.dbm", protocol.Int(rssi))
				}
			}
		}
	}
	if v, ok := tf.Hex(tf.Trim(f[end])); ok {
		m.Add(paramBatteryRaw, protocol.Int(int64(v)))
	}
	if v, ok := tf.Hex(tf.Trim(f[end+4])); ok {
		status(m, uint32(v))
	}
}

// vp1 decodes "VP1,A,lat,N,lon,E,speed,course,ddmmyy" (no time of day) and
// "VP1,V,mcc,mnc,lac,cid,rssiYlac,cid,rssi…".
func (s *Session) vp1(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	defer m.Add(paramType, protocol.String("VP1"))
	if len(f) > 4 && string(tf.Trim(f[3])) == "V" {
		all := tf.Join(f[6:], ',')
		groups := bytes.Split(all, []byte{'Y'})
		var flat [][]byte
		for _, g := range groups {
			flat = append(flat, bytes.Split(g, []byte{','})...)
		}
		if !cells(m, f[4], f[5], flat, 3) {
			m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ','))))
		}
		return
	}
	if len(f) < 10 {
		m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ','))))
		return
	}
	lat, okLat := coordinate(tf.Trim(f[4]), tf.Trim(f[5]), 'N', 'S', 90)
	lon, okLon := coordinate(tf.Trim(f[6]), tf.Trim(f[7]), 'E', 'W', 180)
	if okLat && okLon {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
		speed, _ := tf.Decimal(tf.Trim(f[8]))
		course, _ := tf.Decimal(tf.Trim(f[9]))
		m.Add(protocol.ParamSpeed, protocol.Float(speed*knotsToKmh))
		m.Add(protocol.ParamDirection, protocol.Float(course))
	}
	if v := tf.Trim(f[3]); len(v) == 1 && v[0] != 'V' {
		m.Add(protocol.ParamValid, protocol.Bool(v[0] == 'A'))
	}
}

// heartbeat answers "HTBT" and "V0" by echoing "*XX,<id>,HTBT#"; a battery
// level after the type makes a message.
func (s *Session) heartbeat(f [][]byte, typ []byte, r *protocol.Result) {
	if id := tf.Trim(f[1]); len(id) > 0 {
		r.Reply = append(r.Reply, '*', s.maker[0], s.maker[1], ',')
		r.Reply = append(r.Reply, id...)
		r.Reply = append(r.Reply, ',')
		r.Reply = append(r.Reply, typ...)
		r.Reply = append(r.Reply, '#')
	}
	if len(f) > 3 {
		m := s.begin(r)
		if v, ok := tf.Uint(tf.Trim(f[3])); ok && v <= 100 {
			m.Add(paramBattery, protocol.Int(int64(v)))
		} else {
			m.Add(paramHeartbeat, protocol.String(tf.Text(tf.Join(f[3:], ','))))
		}
		m.Add(paramType, protocol.String(string(typ)))
	}
}

// timeReply answers V1 and NBR with the V4 time calibration of the LKGPS
// document, "*XX,<id>,V4,<type>,yyyyMMddHHmmss#" in UTC.
func (s *Session) timeReply(r *protocol.Result, typ string) {
	if s.codec.NoTimeReply || s.ident == "" {
		return
	}
	t := s.now().Unix()
	r.Reply = append(r.Reply, '*', s.maker[0], s.maker[1], ',')
	r.Reply = append(r.Reply, s.ident...)
	r.Reply = append(r.Reply, ",V4,"...)
	r.Reply = append(r.Reply, typ...)
	r.Reply = append(r.Reply, ',')
	year, mon, day := tf.Civil(t)
	sec := t % 86400
	if sec < 0 {
		sec += 86400
	}
	r.Reply = tf.AppendUint(r.Reply, uint64(year), 4)
	for _, v := range [...]int64{int64(mon), int64(day), sec / 3600, sec / 60 % 60, sec % 60} {
		r.Reply = tf.AppendUint(r.Reply, uint64(v), 2)
	}
	r.Reply = append(r.Reply, '#')
}

// blindSpots decodes "BC,hhmmss,length,point;point;…": up to 100 records
// the device stored while it had no network, each
// "S,lat,D,lon,G,speed,course,DDhhmmss,status,mcc,mnc,lac,cid". A record
// gives the day of the month but no month or year: it is dated in the
// latest month (by the codec's clock) in which that day is not in the
// future.
func (s *Session) blindSpots(body []byte, f [][]byte, r *protocol.Result) {
	if len(f) < 6 {
		s.raw(f, r)
		return
	}
	// The points start after the fifth comma: "XX,id,BC,hhmmss,length,".
	rest := body
	for i := 0; i < 5; i++ {
		k := bytes.IndexByte(rest, ',')
		if k < 0 {
			s.raw(f, r)
			return
		}
		rest = rest[k+1:]
	}
	var pf [16][]byte
	count := 0
	for len(rest) > 0 && count < 100 {
		var pt []byte
		pt, rest, _ = bytes.Cut(rest, []byte{';'})
		pt = tf.Trim(pt)
		if len(pt) == 0 {
			continue
		}
		p := tf.Split(pf[:0], pt, ',', len(pf))
		m := s.begin(r)
		count++
		if len(p) < 9 {
			m.Add(paramRaw, protocol.String(tf.Text(pt)))
			m.Add(paramBuffered, protocol.Bool(true))
			m.Add(paramType, protocol.String("BC"))
			continue
		}
		s.blindSpotTime(m, tf.Trim(p[7]))
		if lat, ok := coordinate(tf.Trim(p[1]), tf.Trim(p[2]), 'N', 'S', 90); ok {
			if lon, ok := coordinate(tf.Trim(p[3]), tf.Trim(p[4]), 'E', 'W', 180); ok {
				speed, _ := tf.Decimal(tf.Trim(p[5]))
				course, _ := tf.Decimal(tf.Trim(p[6]))
				m.Add(protocol.ParamLatitude, protocol.Float(lat))
				m.Add(protocol.ParamLongitude, protocol.Float(lon))
				m.Add(protocol.ParamSpeed, protocol.Float(speed*knotsToKmh))
				m.Add(protocol.ParamDirection, protocol.Float(course))
			}
		}
		if v := tf.Trim(p[0]); len(v) == 1 && (v[0] == 'A' || v[0] == 'V') {
			m.Add(protocol.ParamValid, protocol.Bool(v[0] == 'A'))
		}
		if v, ok := tf.Hex(tf.Trim(p[8])); ok && len(tf.Trim(p[8])) == 8 {
			status(m, uint32(v))
		}
		if len(p) >= 13 && !cells(m, p[9], p[10], p[11:13], 2) {
			m.Add(paramTail, protocol.String(tf.Text(tf.Join(p[9:], ','))))
		}
		m.Add(paramBuffered, protocol.Bool(true))
		m.Add(paramType, protocol.String("BC"))
	}
}

// blindSpotTime dates a "DDhhmmss" blind-spot time.
func (s *Session) blindSpotTime(m *protocol.Message, v []byte) {
	if len(v) != 8 {
		return
	}
	day, ok1 := tf.Digits2(v, 0)
	h, mi, sec, ok2 := tf.HHMMSS(v[2:])
	if !ok1 || !ok2 || day < 1 || day > 31 {
		return
	}
	now := s.now().UTC().Add(s.codec.UTCOffset)
	year, mon := now.Year(), int(now.Month())
	limit := now.Unix() + 86400 // a device clock a little ahead is not the future
	for range 3 {
		if t, ok := tf.Unix(year, mon, day, h, mi, sec); ok && t <= limit {
			s.timestamp(m, year, mon, day, h, mi, sec)
			return
		}
		mon--
		if mon == 0 {
			mon, year = 12, year-1
		}
	}
}

// raw keeps a frame of an unknown type whole.
func (s *Session) raw(f [][]byte, r *protocol.Result) {
	m := s.begin(r)
	if len(f) > 3 {
		m.Add(paramRaw, protocol.String(tf.Text(tf.Join(f[3:], ','))))
	}
	m.Add(paramType, protocol.String(typeName(tf.Trim(f[2]))))
}
