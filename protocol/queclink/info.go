package queclink

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// reportStart starts a message of a report that carries no fix: dated with
// its send time.
func (s *Session) reportStart(r *protocol.Result, rp *report) *protocol.Message {
	m := s.begin(r)
	if rp.hasSend {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(rp.send)))
	}
	return m
}

func (s *Session) reportEnd(m *protocol.Message, rp *report, rest [][]byte) {
	if nonEmpty(rest) {
		m.Add(paramTail, protocol.String(tf.Text(bytes.Join(rest, []byte{','}))))
	}
	s.footer(m, rp)
}

func isICCID(b []byte) bool { return len(b) >= 18 && len(b) <= 22 && tf.IsHex(b) }

// timezoneOf reads "+0800" as "+08:00".
func timezoneOf(b []byte) (string, bool) {
	if len(b) != 5 || b[0] != '+' && b[0] != '-' || !tf.IsDigits(b[1:]) {
		return "", false
	}
	return string([]byte{b[0], b[1], b[2], ':', b[3], b[4]}), true
}

// inf decodes +RESP:GTINF, the device information report:
//
//	<state>,<ICCID>,<CSQ RSSI>,<CSQ BER>,<external power supply>,<external power VCC mV | mileage>,
//	<reserved>,<backup battery V>,<charging>,<LED on>,…,<last fix UTC time>,…,<time zone>,<daylight saving>
//
// The fields after the charging flag differ by model; the last fix time,
// the time zone and (on personal trackers) the battery percentage after
// the last fix time are found by their format.
func (s *Session) inf(rp *report, r *protocol.Result) {
	m := s.reportStart(r, rp)
	b := rp.body
	if len(rp.version) == 0 && len(b) >= 3 && isICCID(b[0]) {
		// The first firmwares: <ICCID>,<CSQ RSSI>,<CSQ BER>,…
		m.Add(paramICCID, protocol.String(string(b[0])))
		if v, ok := tf.Uint(b[1]); ok && v <= 99 {
			m.Add(paramSignal, protocol.Int(int64(v)))
		}
		if v, ok := tf.Uint(b[2]); ok && v <= 99 {
			m.Add("custom.csq.ber", protocol.Int(int64(v)))
		}
		s.reportEnd(m, rp, b[3:])
		return
	}
	if len(b) < 9 || len(b[0]) != 2 || !tf.IsHex(b[0]) || len(b[1]) > 0 && !isICCID(b[1]) {
		s.reportEnd(m, rp, b)
		return
	}
	var rest [][]byte
	st, _ := tf.Hex(b[0])
	motionStateTo(m, st, (*protocol.Message).Add)
	if len(b[1]) > 0 {
		m.Add(paramICCID, protocol.String(string(b[1])))
	}
	if v, ok := tf.Uint(b[2]); ok && v <= 99 {
		m.Add(paramSignal, protocol.Int(int64(v)))
	}
	if v, ok := tf.Uint(b[3]); ok && v <= 99 {
		m.Add("custom.csq.ber", protocol.Int(int64(v)))
	}
	if len(b[4]) == 1 && (b[4][0] == '0' || b[4][0] == '1') {
		m.Set(paramPowerOK, protocol.Bool(b[4][0] == '1'))
	}
	switch v := b[5]; {
	case isDecimal(v):
		km, _ := tf.Decimal(v)
		m.Add(paramMileage, protocol.Float(km))
	case len(v) > 0 && len(v) <= 5 && tf.IsDigits(v):
		mv, _ := tf.Uint(v)
		m.Add(paramPower, protocol.Float(float64(mv)/1000))
	case len(v) > 0:
		rest = append(rest, v)
	}
	if isDecimal(b[7]) {
		v, _ := tf.Decimal(b[7])
		m.Add(paramBatteryV, protocol.Float(v))
	}
	if len(b[8]) == 1 && (b[8][0] == '0' || b[8][0] == '1') {
		m.Add(paramCharging, protocol.Bool(b[8][0] == '1'))
	}
	for i := 9; i < len(b); i++ {
		v := b[i]
		if t, ok := timeOf(v); ok && len(v) == 14 {
			m.Add("custom.last.fix.timestamp", protocol.Float(float64(t)))
			if familyOf(s.model) == familyGL && i+1 < len(b) {
				if p, ok := tf.Uint(b[i+1]); ok && len(b[i+1]) <= 3 && p <= 100 {
					m.Add(paramBattery, protocol.Int(int64(p)))
					i++
				}
			}
			if s.model == "GV310LAU" && i+4 < len(b) {
				// <pin mask>,<analog input 1>,<2>,<3> (mV)
				rest = append(rest, b[i+1])
				for k := 1; k <= 3; k++ {
					if !analog(m, k, b[i+1+k]) {
						rest = append(rest, b[i+1+k])
					}
				}
				i += 4
			}
			continue
		}
		if tz, ok := timezoneOf(v); ok {
			m.Add(paramTimezone, protocol.String(tz))
			continue
		}
		rest = append(rest, v)
	}
	s.reportEnd(m, rp, rest)
}

// ver decodes +RESP:GTVER: <device type>,<firmware version>,<hardware version>.
func (s *Session) ver(rp *report, r *protocol.Result) {
	m := s.reportStart(r, rp)
	b := rp.body
	if len(b) >= 3 {
		if len(b[0]) > 0 && !tf.IsDigits(b[0]) {
			m.Set(paramModel, protocol.String(tf.Text(b[0])))
		} else if len(b[0]) > 0 {
			m.Add("custom.device.type", protocol.String(string(b[0])))
		}
		m.Add(paramFirmware, protocol.String(tf.Text(b[1])))
		m.Add(paramHardware, protocol.String(tf.Text(b[2])))
		b = b[3:]
	}
	s.reportEnd(m, rp, b)
}

// infoPart decodes the single-topic information reports AT+GTRTO asks for:
// GTCID (<ICCID>), GTCSQ (<CSQ RSSI>,<CSQ BER>), GTBAT (<main supply>,
// <reserved>,<backup battery on>,<backup battery V>,<charging>,<LED on>),
// GTTMZ (<time zone>,<daylight saving>), GTIOS.
func (s *Session) infoPart(rp *report, r *protocol.Result) {
	m := s.reportStart(r, rp)
	b := rp.body
	switch string(rp.typ) {
	case "CID":
		if len(b) > 0 && isICCID(b[0]) {
			m.Add(paramICCID, protocol.String(string(b[0])))
			b = b[1:]
		}
	case "CSQ":
		if len(b) > 0 {
			if v, ok := tf.Uint(b[0]); ok && v <= 99 {
				m.Add(paramSignal, protocol.Int(int64(v)))
				b = b[1:]
			}
		}
	case "BAT":
		if len(b) >= 5 {
			if len(b[0]) == 1 {
				m.Add(paramPowerOK, protocol.Bool(b[0][0] == '1'))
			}
			if v, ok := tf.Decimal(b[3]); ok {
				m.Add(paramBatteryV, protocol.Float(v))
			}
			if len(b[4]) == 1 {
				m.Add(paramCharging, protocol.Bool(b[4][0] == '1'))
			}
			b = b[5:]
		}
	case "TMZ":
		if len(b) > 0 {
			if tz, ok := timezoneOf(b[0]); ok {
				m.Add(paramTimezone, protocol.String(tz))
				b = b[1:]
			}
		}
	}
	s.reportEnd(m, rp, b)
}

// gsm decodes +RESP:GTGSM (no device name): <fix type>, then for the
// serving cell and up to six neighbours <MCC>,<MNC>,<LAC>,<cell id>,<RX
// level>,<reserved>. The first cell that is there is the serving one; the
// others go to gsm.cells.
func (s *Session) gsm(rp *report, r *protocol.Result) {
	m := s.reportStart(r, rp)
	b := rp.body
	var rest [][]byte
	if len(b) > 0 && !tf.IsDigits(b[0]) {
		m.Add("custom.fix.type", protocol.String(tf.Text(b[0])))
		b = b[1:]
	}
	var js []byte
	first := true
	for len(b) >= 6 {
		c := b[:6]
		b = b[6:]
		if len(c[0]) == 0 {
			continue
		}
		mcc, ok1 := tf.Uint(c[0])
		mnc, ok2 := tf.Uint(c[1])
		lac, ok3 := tf.Hex(c[2])
		cid, ok4 := tf.Hex(c[3])
		rx, ok5 := tf.Int(c[4])
		if !(ok1 && ok2 && ok3 && ok4) {
			rest = append(rest, c...)
			continue
		}
		if first {
			m.Add(paramMCC, protocol.Int(int64(mcc)))
			m.Add(paramMNC, protocol.Int(int64(mnc)))
			m.Add(paramLAC, protocol.Int(int64(lac)))
			m.Add(paramCellID, protocol.Int(int64(cid)))
			if ok5 {
				m.Add(paramSignal, protocol.Int(rx))
			}
			first = false
			continue
		}
		js = protocol.AppendGSMCell(js, mcc, mnc, lac, cid, rx, ok5)
	}
	if js != nil {
		m.Add(paramCells, protocol.RawJSON(string(append(js, ']'))))
	}
	s.reportEnd(m, rp, append(rest, b...))
}

// wif decodes +RESP:GTWIF: <number>,(<MAC>,<RSSI>,,,)×number, reserved
// fields, <battery %>.
func (s *Session) wif(rp *report, r *protocol.Result) {
	m := s.reportStart(r, rp)
	b := rp.body
	var js []byte
	if len(b) > 0 {
		if n, ok := tf.Uint(b[0]); ok && 1+5*int(n) <= len(b) {
			for k := 0; k < int(n); k++ {
				mac, rssi := b[1+5*k], b[2+5*k]
				if v, ok := tf.Int(rssi); ok && len(mac) == 12 && tf.IsHex(mac) {
					js = appendAP(js, mac, v)
				}
			}
			b = b[1+5*int(n):]
		}
	}
	if js != nil {
		m.Add(paramWiFi, protocol.RawJSON(string(append(js, ']'))))
	}
	if n := len(b); n > 0 {
		if v, ok := tf.Uint(b[n-1]); ok && len(b[n-1]) <= 3 && v <= 100 {
			m.Add(paramBattery, protocol.Int(int64(v)))
			b = b[:n-1]
		}
	}
	s.reportEnd(m, rp, b)
}
