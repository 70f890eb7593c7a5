package queclink

import (
	"bytes"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// A fix is the @Track position block and what follows it:
//
//	<GPS accuracy>,<speed>,<azimuth>,<altitude>,<longitude>,<latitude>,<GPS UTC time>,
//	[<n>,(<mac>,<rssi>,,,)×n,]<MCC>,<MNC>,<LAC>,<cell id>,<reserved or position append mask>[,…]
//
// start and end index the report's body: the fix is body[start:end].
type fix struct {
	start, end int
	lonAt      int     // index of the longitude; -1 for a fix without one
	lon, lat   float64 // read when the fix was found
}

// isDecimal: an optionally signed number with a decimal point.
func isDecimal(b []byte) bool {
	if len(b) < 3 || bytes.IndexByte(b, '.') < 0 {
		return false
	}
	_, ok := tf.Decimal(b)
	return ok
}

// numberOrEmpty: an empty field or one made of what plain numbers are made
// of (the fields are read as numbers when the fix is decoded).
func numberOrEmpty(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '+' {
			return false
		}
	}
	return true
}

// isAnchor reports whether body[i] is the longitude of a fix: longitude,
// latitude with decimals, the GPS UTC time after them, and numbers (or
// nothing) for accuracy, speed, azimuth and altitude before them.
func isAnchor(body [][]byte, i int) (lon, lat float64, ok bool) {
	if i < 4 || i+2 >= len(body) {
		return 0, 0, false
	}
	lonF, latF := body[i], body[i+1]
	if !isTime(body[i+2]) || bytes.IndexByte(lonF, '.') < 0 || bytes.IndexByte(latF, '.') < 0 {
		return 0, 0, false // the cheap tests first: most fields fail them
	}
	for k := i - 4; k < i; k++ {
		if !numberOrEmpty(body[k]) {
			return 0, 0, false
		}
	}
	lo, ok1 := tf.Decimal(lonF)
	la, ok2 := tf.Decimal(latF)
	if !ok1 || !ok2 || len(lonF) < 3 || len(latF) < 3 || lo < -180 || lo > 180 || la < -90 || la > 90 {
		return 0, 0, false
	}
	return lo, la, true
}

// findFixes finds every fix of a report body in order, and for each where
// its cell data and appended fields end.
func findFixes(body [][]byte, model string, dst []fix) []fix {
	dst = dst[:0]
	for i := 4; i+2 < len(body); i++ {
		if len(body[i+2]) != 14 {
			continue // not followed by a GPS time: the cheapest test, inline
		}
		lon, lat, ok := isAnchor(body, i)
		if !ok {
			continue
		}
		if n := len(dst); n > 0 && i-4 < dst[n-1].end {
			// The previous fix's appended fields ran into this fix: it
			// ended where this one starts.
			dst[n-1].end = i - 4
		}
		dst = append(dst, fix{start: i - 4, lonAt: i, end: fixEnd(body, i+3, model), lon: lon, lat: lat})
		i += 2
	}
	return dst
}

// fixEnd returns where a fix ends, from the field after its GPS time:
// Wi-Fi access points, the cell, then the reserved field or the position
// append mask and what it announces.
func fixEnd(body [][]byte, j int, model string) int {
	if j+1 < len(body) {
		if n, ok := tf.Uint(body[j]); ok && n > 0 && n <= 30 && len(body[j+1]) == 12 && tf.IsHex(body[j+1]) {
			if j+1+5*int(n) <= len(body) {
				j += 1 + 5*int(n)
			}
		}
	}
	if j+4 <= len(body) && isCell(body[j:j+4]) {
		j += 4
	} else {
		return j
	}
	if strings.HasPrefix(model, "GL5") {
		j += 2 // CSQ RSSI and BER
	} else if model == "GT501" {
		j++ // CSQ RSSI
	}
	if j >= len(body) {
		return min(j, len(body))
	}
	v := body[j]
	if len(v) == 0 {
		return j + 1
	}
	if len(v) != 2 || !tf.IsHex(v) {
		return j
	}
	mask, _ := tf.Hex(v)
	if mask&^0x13 != 0 {
		return j // not a mask: the next report field
	}
	j++
	for _, bit := range [...]uint64{0x01, 0x02, 0x10} {
		if mask&bit != 0 && j < len(body) {
			j++
		}
	}
	return j
}

// isCell: MCC, MNC (digits) and LAC, cell id (hex), or all four empty.
func isCell(c [][]byte) bool {
	if len(c[0]) == 0 && len(c[1]) == 0 && len(c[2]) == 0 && len(c[3]) == 0 {
		return true
	}
	return len(c[0]) >= 3 && len(c[0]) <= 4 && tf.IsDigits(c[0]) &&
		len(c[1]) >= 1 && len(c[1]) <= 4 && tf.IsDigits(c[1]) &&
		len(c[2]) >= 1 && len(c[2]) <= 8 && tf.IsHex(c[2]) &&
		len(c[3]) >= 1 && len(c[3]) <= 10 && tf.IsHex(c[3])
}

// emptyFix finds a fix with no position at all (every field of the GPS
// part empty) right after the <Number> of a numbered report.
func emptyFix(body [][]byte, model string) (fix, bool) {
	for k := 1; k+7 <= len(body); k++ {
		n, ok := tf.Uint(body[k-1])
		if !ok || n == 0 || n > 15 {
			continue
		}
		empty := true
		for _, v := range body[k : k+7] {
			if len(v) != 0 {
				empty = false
				break
			}
		}
		if empty {
			return fix{start: k, lonAt: -1, end: fixEnd(body, k+7, model)}, true
		}
	}
	return fix{}, false
}

// addFix adds a fix's position, time, cell and appended fields to m. The
// GPS UTC time is the message's timestamp; without one, the send time.
// An accuracy of 0 is the documents' "last known position": the position
// is kept and marked not valid.
func (s *Session) addFix(m *protocol.Message, body [][]byte, fx fix, send int64, hasSend bool) {
	at := func(i int) []byte {
		if i >= 0 && i < len(body) && i < fx.end {
			return body[i]
		}
		return nil
	}
	if fx.lonAt < 0 {
		if hasSend {
			m.Add(protocol.ParamTimestamp, protocol.Float(float64(send)))
		}
		s.cellAndAppend(m, body, fx.start+7, fx)
		return
	}
	t := fx.lonAt
	if ts, ok := timeOf(at(t + 2)); ok {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(ts)))
	} else if hasSend {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(send)))
	}
	m.Add(protocol.ParamLatitude, protocol.Float(fx.lat))
	m.Add(protocol.ParamLongitude, protocol.Float(fx.lon))
	if v, ok := tf.Decimal(at(t - 3)); ok {
		m.Add(protocol.ParamSpeed, protocol.Float(v))
	}
	if v, ok := tf.Decimal(at(t - 2)); ok && v >= 0 && v <= 360 {
		m.Add(protocol.ParamDirection, protocol.Float(v))
	}
	if v, ok := tf.Decimal(at(t - 1)); ok {
		m.Add(protocol.ParamAltitude, protocol.Float(v))
	}
	acc, okAcc := tf.Decimal(at(t - 4))
	m.Add(protocol.ParamValid, protocol.Bool(okAcc && acc > 0))
	if okAcc && acc > 0 {
		m.Add(protocol.ParamHDOP, protocol.Float(acc))
	}
	s.cellAndAppend(m, body, t+3, fx)
}

// cellAndAppend decodes what follows a fix's GPS time, up to fx.end.
func (s *Session) cellAndAppend(m *protocol.Message, body [][]byte, j int, fx fix) {
	end := min(fx.end, len(body))
	if j+1 < end {
		if n, ok := tf.Uint(body[j]); ok && n > 0 && n <= 30 && len(body[j+1]) == 12 && tf.IsHex(body[j+1]) && j+1+5*int(n) <= end {
			var js []byte
			for k := 0; k < int(n); k++ {
				mac, rssi := body[j+1+5*k], body[j+2+5*k]
				v, okR := tf.Int(rssi)
				if len(mac) != 12 || !tf.IsHex(mac) || !okR {
					continue
				}
				js = appendAP(js, mac, v)
			}
			if js != nil {
				m.Add(paramWiFi, protocol.RawJSON(string(append(js, ']'))))
			}
			j += 1 + 5*int(n)
		}
	}
	if j+4 <= end && isCell(body[j:j+4]) {
		if len(body[j]) > 0 {
			mcc, _ := tf.Uint(body[j])
			mnc, _ := tf.Uint(body[j+1])
			lac, _ := tf.Hex(body[j+2])
			cid, _ := tf.Hex(body[j+3])
			m.Add(paramMCC, protocol.Int(int64(mcc)))
			m.Add(paramMNC, protocol.Int(int64(mnc)))
			m.Add(paramLAC, protocol.Int(int64(lac)))
			m.Add(paramCellID, protocol.Int(int64(cid)))
		}
		j += 4
	}
	if strings.HasPrefix(s.model, "GL5") && j+2 <= end {
		if v, ok := tf.Uint(body[j]); ok {
			m.Add(paramSignal, protocol.Int(int64(v)))
		}
		j += 2
	} else if s.model == "GT501" && j < end {
		if v, ok := tf.Uint(body[j]); ok {
			m.Add(paramSignal, protocol.Int(int64(v)))
		}
		j++
	}
	if j < end && len(body[j]) == 2 {
		mask, _ := tf.Hex(body[j])
		j++
		if mask&0x01 != 0 && j < end {
			if v, ok := tf.Uint(body[j]); ok {
				m.Add(paramSats, protocol.Int(int64(v)))
			}
			j++
		}
		if mask&0x02 != 0 && j < end {
			if v, ok := tf.Uint(body[j]); ok {
				m.Add("custom.position.trigger.enum", protocol.Int(int64(v)))
			}
			j++
		}
		if mask&0x10 != 0 && j < end {
			if v, ok := tf.Uint(body[j]); ok {
				m.Add("custom.gnss.jamming.state", protocol.Int(int64(v)))
			}
		}
	}
}

// appendAP adds {"mac","rssi"} to a wifi.access.points array being built;
// the MAC is written "aa:bb:cc:dd:ee:ff".
func appendAP(js []byte, mac []byte, rssi int64) []byte {
	if js == nil {
		js = append(js, '[')
	} else {
		js = append(js, ',')
	}
	js = append(js, `{"mac":"`...)
	for i := 0; i+1 < len(mac); i += 2 {
		if i > 0 {
			js = append(js, ':')
		}
		js = append(js, lower(mac[i]), lower(mac[i+1]))
	}
	js = append(js, `","rssi":`...)
	if rssi < 0 {
		js = append(js, '-')
		rssi = -rssi
	}
	js = tf.AppendUint(js, uint64(rssi), 0)
	return append(js, '}')
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
