package tk103

import (
	"bytes"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// commaFrame decodes "(<id>,<cmd>,…)", the layout of later models:
//
//	ZC20,ddmmyy,hhmmss,level,battery(10 mV),power(100 mV),installed   battery
//	ZC03,ddmmyy,hhmmss,$text$                                       answer to a query
//	<cmd>,mcc,mnc,lac,cid,n,mac*rssi*channel…,ddmmyy,hhmmss          cells and Wi-Fi (DW5x)
//	<cmd>,ddmmyy,A,ddmm.mmmmN,dddmm.mmmmE,speed,hhmmss,course[,altitude,satellites,…]
//
// The command also names an event (ZC11 movement, ZC25 SOS, …).
func (s *Session) commaFrame(b []byte, r *protocol.Result) error {
	if len(b) < 4 {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "no command after the device id")
	}
	cmd := b[:4]
	rest := bytes.TrimPrefix(b[4:], []byte{','})
	m := s.begin(r)
	if string(cmd) == "ZC03" {
		s.queryAnswer(m, rest, r)
		m.Add(paramType, protocol.String("ZC03"))
		return nil
	}
	f := tf.Split(s.fields, rest, ',', maxFields)
	s.fields = f[:0]
	at := func(i int) []byte {
		if i < len(f) {
			return tf.Trim(f[i])
		}
		return nil
	}
	switch {
	case string(cmd) == "ZC20":
		s.dateTime(m, at(0), at(1))
		if v, ok := tf.Uint(at(2)); ok && v != 255 && v < uint64(len(levels)) && levels[v] > 0 {
			m.Add(paramBattery, protocol.Int(levels[v]))
		}
		if v, ok := tf.Uint(at(3)); ok && v != 65535 {
			m.Add(paramBatteryV, protocol.Float(float64(v)/100))
		}
		if v, ok := tf.Uint(at(4)); ok && v != 65535 {
			m.Add(paramPowerV, protocol.Float(float64(v)/10))
		}
	case len(at(0)) == 6 && len(at(1)) == 1 && (at(1)[0] == 'A' || at(1)[0] == 'V'):
		s.commaPosition(m, f)
	case len(f) >= 7 && tf.IsDigits(at(0)) && tf.IsDigits(at(4)):
		s.cellsWiFi(m, f)
	default:
		m.Add(paramRaw, protocol.String(tf.Text(rest)))
	}
	eventCode(m, cmd)
	m.Add(paramType, protocol.String(commandName(cmd)))
	return nil
}

// levels is the ZC20 battery level (1–6) as a percentage.
var levels = [...]int64{0, 0, 10, 20, 50, 80, 100}

func (s *Session) dateTime(m *protocol.Message, d, t []byte) {
	if len(d) != 6 {
		return
	}
	dd, ok1 := tf.Digits2(d, 0)
	mo, ok2 := tf.Digits2(d, 2)
	yy, ok3 := tf.Digits2(d, 4)
	h, mi, sec, ok4 := tf.HHMMSS(t)
	if ok1 && ok2 && ok3 && ok4 {
		if ts, ok := tf.Unix(2000+yy, mo, dd, h, mi, sec); ok {
			ts -= int64(s.codec.UTCOffset / time.Second)
			m.Add(protocol.ParamTimestamp, protocol.Float(float64(ts)))
		}
	}
}

// commaPosition: ddmmyy,A,ddmm.mmmmN,dddmm.mmmmE,speed,hhmmss,course[,altitude,satellites,…].
func (s *Session) commaPosition(m *protocol.Message, f [][]byte) {
	at := func(i int) []byte {
		if i < len(f) {
			return tf.Trim(f[i])
		}
		return nil
	}
	s.dateTime(m, at(0), at(5))
	lat, _, okLat := coord(at(2), 'N', 'S', 90)
	lon, _, okLon := coord(at(3), 'E', 'W', 180)
	if okLat && okLon {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
		if v, ok := tf.Decimal(at(4)); ok {
			m.Add(protocol.ParamSpeed, protocol.Float(v))
		}
		if v, ok := tf.Decimal(at(6)); ok && v <= 360 {
			m.Add(protocol.ParamDirection, protocol.Float(v))
		}
		if v, ok := tf.Decimal(at(7)); ok {
			m.Add(protocol.ParamAltitude, protocol.Float(v))
		}
	}
	m.Add(protocol.ParamValid, protocol.Bool(at(1)[0] == 'A'))
	if v, ok := tf.Uint(at(8)); ok && v < 100 {
		m.Add(protocol.ParamSatellites, protocol.Int(int64(v)))
	}
	if len(f) > 9 {
		m.Add(paramTail, protocol.String(tf.Text(bytes.Join(f[9:], []byte{','}))))
	}
}

// cellsWiFi: mcc,mnc,lac,cid,n,mac*rssi*channel…,ddmmyy,hhmmss.
func (s *Session) cellsWiFi(m *protocol.Message, f [][]byte) {
	at := func(i int) []byte {
		if i < len(f) {
			return tf.Trim(f[i])
		}
		return nil
	}
	n, _ := tf.Uint(at(4))
	if int(n) > len(f) {
		n = 0
	}
	s.dateTime(m, at(5+int(n)), at(6+int(n)))
	mcc, ok1 := tf.Uint(at(0))
	mnc, ok2 := tf.Uint(at(1))
	lac, ok3 := tf.Uint(at(2))
	cid, ok4 := tf.Uint(at(3))
	if ok1 && ok2 && ok3 && ok4 {
		m.Add(paramMCC, protocol.Int(int64(mcc)))
		m.Add(paramMNC, protocol.Int(int64(mnc)))
		m.Add(paramLAC, protocol.Int(int64(lac)))
		m.Add(paramCellID, protocol.Int(int64(cid)))
	}
	var js []byte
	for i := 5; i < 5+int(n) && i < len(f); i++ {
		mac, rest, ok := bytes.Cut(at(i), []byte{'*'})
		rssiB, _, _ := bytes.Cut(rest, []byte{'*'})
		rssi, okR := tf.Int(rssiB)
		if !ok || !okR || !isMAC(mac) {
			continue
		}
		if js == nil {
			js = append(js, '[')
		} else {
			js = append(js, ',')
		}
		js = append(js, `{"mac":"`...)
		js = append(js, bytes.ToLower(mac)...)
		js = append(js, `","rssi":`...)
		js = appendInt(js, rssi)
		js = append(js, '}')
	}
	if js != nil {
		m.Add(paramWiFi, protocol.RawJSON(string(append(js, ']'))))
	}
}

// isMAC reports whether b is "xx:xx:xx:xx:xx:xx" in hex.
func isMAC(b []byte) bool {
	if len(b) != 17 {
		return false
	}
	for i, c := range b {
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return true
}

func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	return tf.AppendUint(dst, uint64(v), 0)
}

// queryAnswer: ddmmyy,hhmmss,$text$, the device's answer to a query.
func (s *Session) queryAnswer(m *protocol.Message, b []byte, r *protocol.Result) {
	var d, t []byte
	d, b, _ = bytes.Cut(b, []byte{','})
	t, b, _ = bytes.Cut(b, []byte{','})
	s.dateTime(m, tf.Trim(d), tf.Trim(t))
	text := bytes.TrimPrefix(b, []byte{'$'})
	text = bytes.TrimSuffix(text, []byte{'$'})
	str := tf.Text(text)
	m.Add(paramResponse, protocol.String(str))
	r.Responses = append(r.Responses, protocol.CommandResponse{Text: str})
}

// eventCode names the events later models send as commands (ZC…, and the
// DW3x/DW5x/DW6x forms of the same events).
func eventCode(m *protocol.Message, cmd []byte) {
	switch string(cmd) {
	case "ZC11", "DW31", "DW51":
		m.Add(paramMovement, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	case "ZC12", "DW32", "DW52":
		m.Add(paramBatteryLow, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	case "ZC13", "DW33", "DW53":
		m.Set(paramPowerOK, protocol.Bool(false))
		m.Set(paramAlarm, protocol.Bool(true))
	case "ZC15", "DW35", "DW55", "ZC29", "DW42", "DW62":
		m.Set(paramIgnition, protocol.Bool(true))
	case "ZC16", "DW36", "DW56":
		m.Set(paramIgnition, protocol.Bool(false))
	case "ZC17", "DW37", "DW57", "ZC26", "DW3F", "DW5F", "ZC27", "DW40", "DW60":
		m.Set(paramAlarm, protocol.Bool(true))
	case "ZC25", "DW3E", "DW5E":
		m.Set(paramSOS, protocol.Bool(true))
		m.Set(paramAlarm, protocol.Bool(true))
	}
}
