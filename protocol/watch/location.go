package watch

import (
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Terminal status bits of a location report: the low 16 bits are states,
// the high 16 alarms.
const (
	stLowBattery   = 1 << 0
	stOutFence     = 1 << 1
	stInFence      = 1 << 2
	stMoving       = 1 << 4
	alSOS          = 1 << 16
	alLowBattery   = 1 << 17
	alOutFence     = 1 << 18
	alInFence      = 1 << 19
	alRemoved      = 1 << 20 // the watch was taken off the wrist
	alFall         = 1 << 21
	alFallDetected = 1 << 22
)

// location decodes UD, UD2, UD_LTE, AL, WT, … reports:
//
//	date(ddmmyy),time(hhmmss),A|V,lat,N|S,lon,E|W,speed(km/h),course,altitude(m),
//	satellites,GSM signal(0–100),battery(%),steps,tumbles,status(hex),
//	cell count,timing advance,MCC,MNC,{LAC,cell ID,signal}…,
//	Wi-Fi count,{name,MAC,signal}…[,accuracy]
//
// An AL report is answered "AL".
func (d *frame) location() error {
	if len(d.typ) >= 2 && string(d.typ[:2]) == "AL" {
		d.reply("AL")
	}
	f := textfield.Split(d.s.fields, d.body, ',', 512)
	d.s.fields = f
	if len(f) < 16 {
		return protocol.Errorf(Name, len(d.h.content)+d.h.contentOff, protocol.ErrTruncated, "location report has fewer than 16 fields")
	}
	m := d.begin(32)
	date, clock := f[0], f[1]
	dd, ok1 := textfield.Digits2(date, 0)
	mo, ok2 := textfield.Digits2(date, 2)
	yy, ok3 := textfield.Digits2(date, 4)
	h, mi, sec, ok4 := textfield.HHMMSS(clock)
	if len(date) == 6 && ok1 && ok2 && ok3 && ok4 {
		if t, ok := textfield.Unix(2000+yy, mo, dd, h, mi, sec); ok {
			m.Add(protocol.ParamTimestamp, protocol.Int(t))
		}
	}
	lat, ok1 := coordinate(f[3], f[4], 'S', 90)
	lon, ok2 := coordinate(f[5], f[6], 'W', 180)
	if !ok1 || !ok2 {
		return protocol.Errorf(Name, d.h.contentOff, protocol.ErrMalformed, "latitude or longitude")
	}
	m.Add(protocol.ParamLatitude, protocol.Float(lat))
	m.Add(protocol.ParamLongitude, protocol.Float(lon))
	m.Add(protocol.ParamValid, protocol.Bool(string(f[2]) == "A"))
	if v, ok := textfield.Decimal(f[7]); ok && v >= 0 {
		m.Add(protocol.ParamSpeed, protocol.Float(v))
	}
	if v, ok := textfield.Decimal(f[8]); ok && v >= 0 && v <= 360 {
		m.Add(protocol.ParamDirection, protocol.Float(v))
	}
	if v, ok := textfield.Decimal(f[9]); ok {
		m.Add(protocol.ParamAltitude, protocol.Float(v))
	}
	addUint(m, protocol.ParamSatellites, f[10])
	addUint(m, paramSignal, f[11])
	addUint(m, paramBattery, f[12])
	addUint(m, paramSteps, f[13])
	addUint(m, paramTumbles, f[14])
	if st, ok := textfield.Hex(f[15]); ok {
		m.Add(paramStatus, protocol.Uint(st))
		statusFlags(m, st)
	}
	d.network(m, f[16:])
	d.finish(m)
	return nil
}

// coordinate reads decimal degrees ("48.779045", " 9.1574736", "-12.5")
// with an optional hemisphere letter; neg is the letter that negates.
func coordinate(v, hemi []byte, neg byte, limit float64) (float64, bool) {
	x, ok := textfield.Decimal(textfield.Trim(v))
	if !ok || x < -limit || x > limit {
		return 0, false
	}
	if len(hemi) == 1 && hemi[0] == neg && x > 0 {
		x = -x
	}
	return x, true
}

// statusFlags sets the flags of the terminal status: low battery, geofence
// state, motion, and the alarms (SOS, low battery, geofence exit and
// entry, watch taken off, fall).
func statusFlags(m *protocol.Message, st uint64) {
	if st&(stLowBattery|alLowBattery) != 0 {
		m.Add(paramBatteryLow, protocol.Bool(true))
	}
	switch {
	case st&(stInFence|alInFence) != 0:
		m.Add(paramGeofence, protocol.Bool(true))
	case st&(stOutFence|alOutFence) != 0:
		m.Add(paramGeofence, protocol.Bool(false))
	}
	if st&stMoving != 0 {
		m.Add(paramMoving, protocol.Bool(true))
	}
	if st&0xffff0000 != 0 {
		m.Add(paramAlarm, protocol.Bool(true))
	}
	if st&alSOS != 0 {
		m.Add(paramSOS, protocol.Bool(true))
	}
	if st&alRemoved != 0 {
		m.Add(paramRemoved, protocol.Bool(true))
	}
	if st&(alFall|alFallDetected) != 0 {
		m.Add(paramFall, protocol.Bool(true))
	}
}

// network reads the cells and Wi-Fi access points after the status:
// "count,TA,MCC,MNC,{LAC,CID,signal}…,count,{name,MAC,signal}…[,accuracy]".
// LAC and cell ID are decimal, or hex when they hold a-f.
func (d *frame) network(m *protocol.Message, f [][]byte) {
	if len(f) == 0 {
		return
	}
	n, ok := textfield.Uint(f[0])
	if !ok || n > 64 {
		m.Add(paramTail, protocol.String(textfield.Text(textfield.Join(f, ','))))
		return
	}
	f = f[1:]
	var mcc, mnc uint64
	if len(f) >= 3 {
		addUint(m, paramTA, f[0])
		mcc, _ = textfield.Uint(f[1])
		mnc, _ = textfield.Uint(f[2])
		f = f[3:]
	}
	if n > 0 && uint64(len(f)) >= 3*n {
		js := append(d.s.scratch[:0], '[')
		for i := uint64(0); i < n; i++ {
			lac, ok1 := number(f[3*i])
			cid, ok2 := number(f[3*i+1])
			if !ok1 || !ok2 {
				continue
			}
			if i == 0 {
				m.Add(paramMCC, protocol.Uint(mcc))
				m.Add(paramMNC, protocol.Uint(mnc))
				m.Add(paramLAC, protocol.Uint(lac))
				m.Add(paramCellID, protocol.Uint(cid))
			}
			rssi, ok := textfield.Int(f[3*i+2])
			js = protocol.AppendGSMCell(js, mcc, mnc, lac, cid, rssi, ok)
		}
		if len(js) > 1 {
			m.Add(paramCells, protocol.RawJSON(string(append(js, ']'))))
		}
		d.s.scratch = js
		f = f[3*n:]
	}
	if len(f) == 0 {
		return
	}
	w, ok := textfield.Uint(f[0])
	if len(f[0]) > 0 && (!ok || w > 64) {
		m.Add(paramTail, protocol.String(textfield.Text(textfield.Join(f, ','))))
		return
	}
	f = f[1:]
	if w > 0 && uint64(len(f)) >= 3*w {
		js := append(d.s.scratch[:0], '[')
		for i := uint64(0); i < w; i++ {
			name, mac := f[3*i], f[3*i+1]
			rssi, ok := textfield.Int(f[3*i+2])
			if len(mac) != 17 || !ok {
				continue
			}
			if len(js) > 1 {
				js = append(js, ',')
			}
			js = append(js, `{"mac":`...)
			js = protocol.AppendJSONString(js, textfield.Text(mac))
			js = append(js, `,"rssi":`...)
			js = strconv.AppendInt(js, rssi, 10)
			if len(name) > 0 {
				js = append(js, `,"ssid":`...)
				js = protocol.AppendJSONString(js, textfield.Text(name))
			}
			js = append(js, '}')
		}
		if len(js) > 1 {
			m.Add(paramWifi, protocol.RawJSON(string(append(js, ']'))))
		}
		d.s.scratch = js
		f = f[3*w:]
	}
	if len(f) == 1 {
		if v, ok := textfield.Decimal(f[0]); ok {
			m.Add(paramAccuracy, protocol.Float(v))
			return
		}
	}
	if len(f) > 0 {
		m.Add(paramTail, protocol.String(textfield.Text(textfield.Join(f, ','))))
	}
}

// number reads a decimal field, or a hex one when it holds a-f.
func number(b []byte) (uint64, bool) {
	for _, c := range b {
		if c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			return textfield.Hex(b)
		}
	}
	return textfield.Uint(b)
}
