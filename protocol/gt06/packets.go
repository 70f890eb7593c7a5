package gt06

import (
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// The decoders of this file check that a layout fits the content before
// writing anything, and return false when it does not: the packet is then
// kept raw. Where one protocol number carries several layouts (vendors
// reuse numbers), the content length tells them apart.

// cellSpec is the layout of a serving cell: MNC always two bytes (else one,
// or two when bit 15 of the MCC is set), LAC and cell id lengths.
type cellSpec struct {
	mnc2     bool
	lac, cid int
}

var (
	cell2G   = cellSpec{lac: 2, cid: 3}
	cell4G   = cellSpec{lac: 4, cid: 8}
	cellCID4 = cellSpec{lac: 2, cid: 4}
)

// size returns the length of the cell at the start of b, or -1 when b is
// too short to tell.
func (cs cellSpec) size(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	n := 2 + 1 + cs.lac + cs.cid
	if cs.mnc2 || b[0]&0x80 != 0 {
		n++
	}
	return n
}

// put decodes the cell at the start of b (the caller checked its size)
// and returns the bytes after it.
func (cs cellSpec) put(m *protocol.Message, b []byte) []byte {
	mcc := uint64(be16(b) & 0x7FFF)
	mncLen := 1
	if cs.mnc2 || b[0]&0x80 != 0 {
		mncLen = 2
	}
	p := b[2:]
	mnc := beN(p, mncLen)
	p = p[mncLen:]
	lac := beN(p, cs.lac)
	p = p[cs.lac:]
	cid := beN(p, cs.cid)
	if mcc != 0 || lac != 0 || cid != 0 { // one cell a message: no search needed
		m.Add(paramMCC, protocol.Uint(mcc))
		m.Add(paramMNC, protocol.Uint(mnc))
		m.Add(paramLAC, protocol.Uint(lac))
		m.Add(paramCellID, protocol.Uint(cid))
	}
	return p[cs.cid:]
}

// gpsFits reports whether b starts with a GPS block whose coordinates are
// in range.
func gpsFits(b []byte) bool { return len(b) >= gpsLen && fixInRange(b[7:]) }

// putTerminalInfo decodes the terminal information byte: bit 0 defence
// armed, bit 1 ACC high, bit 2 charging, bits 3-5 alarm (1 vibration, 2
// power cut, 3 low battery, 4 SOS in the Concox documents; 6 geofence and 7
// removal on other firmware), bit 6 GPS tracking on, bit 7 oil and
// electricity disconnected.
func putTerminalInfo(m *protocol.Message, t byte) {
	m.SetBool(paramIgnition, t&0x02 != 0)
	m.SetBool(paramCharging, t&0x04 != 0)
	m.SetBool(paramGNSS, t&0x40 != 0)
	m.SetBool(paramDefense, t&0x01 != 0)
	m.SetBool(paramFuelCut, t&0x80 != 0)
	code := (t >> 3) & 0x07
	if code == 0 {
		return
	}
	m.SetInt(paramStatusAlrm, int64(code))
	m.SetBool(paramAlarm, true)
	switch code {
	case 1:
		m.SetBool(paramShock, true)
	case 2:
		m.SetBool(paramPowerOK, false)
	case 3:
		m.SetBool(paramBatteryLow, true)
	case 4:
		m.SetBool(paramSOS, true)
	case 6:
		m.SetBool(paramGeofenceIn, false)
	case 7:
		m.SetBool(paramRemoval, true)
	}
}

// putVoltageLevel decodes the "voltage level" byte: 0 (no power) to 6 (very
// high) in the documents; some firmware sends the charge in percent there.
func putVoltageLevel(m *protocol.Message, v byte) {
	switch {
	case v <= 6:
		m.SetInt(paramVoltLvl, int64(v))
	case v <= 100:
		m.SetInt(paramBatteryPct, int64(v))
	}
}

// putAlarm decodes an alarm code (the first byte of "alarm/language"), as
// the JM-VL03 / GT06N documents list them (and 0xF0, the GT06 document's
// quick acceleration). Codec.Model selects the departures of other
// firmware. Codes without a common name are left to "event.enum".
func (s *Session) putAlarm(m *protocol.Message, code byte) {
	switch code {
	case 0x00:
		return
	case 0xFE, 0xFF: // ACC on, ACC off: a state change, not an alarm
		m.SetInt(paramEvent, int64(code))
		m.SetBool(paramIgnition, code == 0xFE)
		return
	}
	m.SetBool(paramAlarm, true)
	m.SetInt(paramEvent, int64(code))
	q := s.quirks
	switch {
	case code == 0x01:
		m.SetBool(paramSOS, true)
	case code == 0x02:
		m.SetBool(paramPowerOK, false)
	case code == 0x03:
		m.SetBool(paramShock, true)
	case code == 0x04:
		m.SetBool(paramGeofenceIn, true)
	case code == 0x05:
		m.SetBool(paramGeofenceIn, false)
	case code == 0x06:
		m.SetBool(paramOverspeed, true)
	case code == 0x09:
		m.SetBool(paramTowing, true)
	case code == 0x0A, code == 0x0B:
		m.SetBool(paramGPSBlind, code == 0x0A)
	case code == 0x0C && q.tr08x:
		m.SetBool(paramTamper, true)
	case code == 0x0C:
		m.SetBool(paramPowerOn, true)
	case code == 0x0E, code == 0x0F:
		m.SetBool(paramExtPowerLow, true)
	case code == 0x10:
		m.SetBool(paramSIMChanged, true)
	case code == 0x11, code == 0x15:
		m.SetBool(paramPowerOff, true)
	case code == 0x13:
		m.SetBool(paramTamper, true)
	case code == 0x14:
		m.SetBool(paramDoorEvent, true)
	case code == 0x18 && q.lw:
		m.SetBool(paramCrash, true)
	case code == 0x18, code == 0x32:
		m.SetBool(paramRemoval, true)
	case code == 0x19 && q.lw:
		m.SetBool(paramHarshAccel, true)
	case code == 0x19:
		m.SetBool(paramBatteryLow, true)
	case code == 0x23:
		m.SetBool(paramFall, true)
	case code == 0x29, code == 0xF0:
		m.SetBool(paramHarshAccel, true)
	case code == 0x2A, code == 0x2B:
		m.SetBool(paramHarshCorner, true)
	case code == 0x2C:
		m.SetBool(paramCrash, true)
	case code == 0x30:
		m.SetBool(paramHarshBrake, true)
	}
}

// putStatus decodes terminal info, voltage level, GSM signal level and, when
// present, alarm/language. It returns the bytes after them.
func (s *Session) putStatus(m *protocol.Message, b []byte) []byte {
	putTerminalInfo(m, b[0])
	putVoltageLevel(m, b[1])
	m.SetInt(paramSignal, int64(b[2]))
	if len(b) < 5 {
		return b[3:]
	}
	s.putAlarm(m, b[3])
	return b[5:]
}

// putUploadInfo decodes ACC (0 low, 1 high), the data upload mode (why the
// fix was sent) and the re-upload flag (0 real time, 1 from the buffer),
// as far as present, and returns the bytes after them.
func putUploadInfo(m *protocol.Message, b []byte) []byte {
	if len(b) >= 1 {
		m.SetBool(paramIgnition, b[0] != 0)
	}
	if len(b) >= 2 {
		m.SetInt(paramUploadMode, int64(b[1]))
	}
	if len(b) >= 3 {
		m.SetBool(paramBuffered, b[2] == 1)
	}
	if len(b) <= 3 {
		return nil
	}
	return b[3:]
}

// putMileage decodes the 4-byte mileage that JM-VL03 0x22/0xA0/0x26 add
// when the product counts it (metres, as devices send it).
func putMileage(m *protocol.Message, b []byte) []byte {
	if len(b) != 4 {
		return b
	}
	m.SetFloat(paramMileage, float64(be32(b))/1000)
	return nil
}

// location decodes the packets that are a GPS block and a cell: 0x10 (the
// GPS block alone, GT03), 0x12 (GT06 "location data", below), 0x17, 0x24,
// 0x2D, 0x31, 0x36, 0x37, 0x1E (JI09: GPS block only), 0xA0 (4G cell),
// 0xA2 (GPS block and 4G cell), 0x1A (GT03: GPS block and the phone number
// that asked). Upload info follows the cell of 0xA0, 0x2D and 0x31; 0xA0
// may add the mileage; 0x24 (SR411) adds ACC, external and battery
// voltage (0.01 V); 0x37 adds upload info and modules (type 2, length 1:
// 0x27 external voltage, 0x2E mileage, 0x3B accuracy). What follows a
// known part is kept in hex.
func (s *Session) location(f *frame, r *protocol.Result) bool {
	c := f.content
	if !gpsFits(c) {
		return false
	}
	rest := c[gpsLen:]
	var cs cellSpec
	hasCell := true
	switch f.proto {
	case typeGPS, typeGPSLBSExtend:
		hasCell = false
	case typeGPSPhone:
		hasCell = false
		if len(rest) < 21 {
			return false
		}
	case typeGPSLBS4G, typeGPSLBS4G2:
		cs = cell4G
	default:
		cs = cell2G
	}
	if hasCell {
		if n := cs.size(rest); n < 0 || len(rest) < n {
			return false
		}
	}
	m := s.begin(r)
	putGPS(m, c)
	if hasCell {
		rest = cs.put(m, rest)
	}
	switch f.proto {
	case typeGPSPhone:
		m.SetString(paramPhone, strings.TrimRight(text(rest[:21]), " "))
		rest = rest[21:]
		if len(rest) == 2 { // language
			rest = nil
		}
	case typeGPSLBS4G:
		rest = putMileage(m, putUploadInfo(m, rest))
	case typeGPSLBS4, typeGPSLBS7:
		if len(rest) >= 3 {
			rest = putUploadInfo(m, rest)
		}
	case typeGPSLBS5:
		if len(rest) >= 5 {
			m.SetBool(paramIgnition, rest[0] != 0)
			m.SetFloat(paramExtVoltage, float64(be16(rest[1:]))/100)
			m.SetFloat(paramBatteryVolt, float64(be16(rest[3:]))/100)
			rest = rest[5:]
		}
	case typeGPSLBS3:
		if len(rest) >= 3+3 {
			rest = putUploadInfo(m, rest)
		}
		rest = putModules37(m, rest)
	}
	tail(m, rest)
	end(m, f)
	return true
}

// putModules37 decodes the modules that end a 0x37 packet (type 2,
// length 1, data), when they fill the rest exactly.
func putModules37(m *protocol.Message, b []byte) []byte {
	for p := b; len(p) > 0; p = p[3+int(p[2]):] {
		if len(p) < 3 || len(p) < 3+int(p[2]) {
			return b
		}
	}
	for len(b) > 0 {
		typ, d := be16(b), b[3:3+int(b[2])]
		b = b[3+len(d):]
		switch {
		case typ == 0x0027 && len(d) == 2:
			m.SetFloat(paramExtVoltage, float64(be16(d))/100)
		case typ == 0x002E && len(d) == 4:
			m.SetFloat(paramMileage, float64(be32(d))/1000)
		case typ == 0x003B && len(d) == 2:
			m.SetFloat(paramAccuracy, float64(be16(d))/100)
		default:
			m.SetString(moduleParam(typ), binfield.HexString(d))
		}
	}
	return nil
}

// gpsLBS1 decodes 0x12, the GT06 document's location packet: GPS block and
// cell (26 bytes). Longer forms found on other firmware, told apart by
// length: 31 bytes add terminal info, external voltage (0.01 V), GSM signal
// and an alarm extension byte (VXT01); 38 bytes add terminal info, external
// voltage, GSM signal, alarm, oil (raw), temperature (°C, bit 7 negative)
// and mileage (10 m units) (S5).
func (s *Session) gpsLBS1(f *frame, r *protocol.Result) bool {
	c := f.content
	if !gpsFits(c) {
		return false
	}
	rest := c[gpsLen:]
	if n := cell2G.size(rest); n < 0 || len(rest) < n {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	rest = cell2G.put(m, rest)
	switch len(rest) {
	case 5: // VXT01
		putTerminalInfo(m, rest[0])
		m.SetFloat(paramExtVoltage, float64(be16(rest[1:]))/100)
		m.SetInt(paramSignal, int64(rest[3]))
		rest = rest[5:]
	case 12: // S5
		putTerminalInfo(m, rest[0])
		m.SetFloat(paramExtVoltage, float64(be16(rest[1:]))/100)
		m.SetInt(paramSignal, int64(rest[3]))
		s.putAlarm(m, rest[4])
		m.SetInt("custom.oil.raw", int64(be16(rest[5:])))
		t := int64(rest[7] & 0x7F)
		if rest[7]&0x80 != 0 {
			t = -t
		}
		m.SetInt(paramTempSensor, t)
		m.SetFloat(paramMileage, float64(be32(rest[8:]))*10/1000)
		rest = nil
	}
	tail(m, rest)
	end(m, f)
	return true
}

// gpsLBS2 decodes 0x22 (JM-VL03, GT06N): GPS block, cell, ACC, data upload
// mode, re-upload flag and, when the product counts it, mileage. With
// Codec.Model set to an NT model (and for 0x25, their driver packet), the
// layout is the NT firmware's: location source, IMEI (8, BCD), device
// time, GPS block, LBS length and cell (0x25: 4-byte cell id and a signal
// byte), terminal
// info, external voltage (0.01 V), battery voltage (0.1 V), GSM signal,
// alarm, language, mileage (3 bytes, m), running time (3 bytes, minutes)
// and, in 0x25, a driver id (length, type, id).
func (s *Session) gpsLBS2(f *frame, r *protocol.Result) bool {
	if s.quirks.nt {
		return s.gpsLBSNT(f, r)
	}
	if f.proto == typeGPSLBSDriver {
		return s.location(f, r)
	}
	c := f.content
	if !gpsFits(c) {
		return false
	}
	rest := c[gpsLen:]
	if n := cell2G.size(rest); n < 0 || len(rest) < n {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	rest = putMileage(m, putUploadInfo(m, cell2G.put(m, rest)))
	tail(m, rest)
	end(m, f)
	return true
}

func (s *Session) gpsLBSNT(f *frame, r *protocol.Result) bool {
	c := f.content
	const head = 1 + 8 + 6
	if len(c) < head || !gpsFits(c[head:]) {
		return false
	}
	rest := c[head+gpsLen:]
	cs := cell2G
	if f.proto == typeGPSLBSDriver {
		cs = cellCID4
	}
	// The LBS length byte varies between firmware (it counts itself or
	// not); the cell is read by its own layout, and a length beyond 9 adds
	// that many bytes after it (a signal byte in 0x25).
	if len(rest) < 1 || rest[0] == 0 {
		return false
	}
	n := cs.size(rest[1:])
	if extra := int(rest[0]) - 9; extra > 0 {
		n += extra
	}
	if n < 0 || len(rest) < 1+n+7+6 {
		return false
	}
	lbs := rest[1 : 1+n]
	rest = rest[1+n:]
	m := s.begin(r)
	putGPS(m, c[head:])
	cs.put(m, lbs)
	putTerminalInfo(m, rest[0])
	m.SetFloat(paramExtVoltage, float64(be16(rest[1:]))/100)
	m.SetFloat(paramBatteryVolt, float64(rest[3])/10)
	m.SetInt(paramSignal, int64(rest[4]))
	s.putAlarm(m, rest[5])
	rest = rest[7:] // and the language
	m.SetFloat(paramMileage, float64(beN(rest, 3))/1000)
	m.SetFloat(paramMotorHours, float64(beN(rest[3:], 3))/60)
	rest = rest[6:]
	if f.proto == typeGPSLBSDriver && len(rest) >= 1 && int(rest[0]) >= 1 && len(rest) >= 1+int(rest[0]) {
		n := int(rest[0])
		m.SetString(paramIButton, binfield.HexString(rest[2:1+n]))
		rest = rest[1+n:]
	}
	tail(m, rest)
	end(m, f)
	return true
}

// gpsLBS6 decodes the 0x11 of firmware that sends a GPS block and a cell
// with a two-byte MNC and a four-byte cell id there (28 bytes), where the
// GT03 document has its LBS packet.
func (s *Session) gpsLBS6(f *frame, r *protocol.Result) bool {
	c := f.content
	cs := cellSpec{mnc2: true, lac: 2, cid: 4}
	if len(c) != gpsLen+10 || !gpsFits(c) {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	cs.put(m, c[gpsLen:])
	end(m, f)
	return true
}

// rfidLocation decodes the 35-byte 0x17 of RFID readers: GPS block, cell,
// card id (8, hex), validity.
func (s *Session) rfidLocation(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) != gpsLen+8+9 || !gpsFits(c) || c[gpsLen]&0x80 != 0 {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	rest := cell2G.put(m, c[gpsLen:])
	m.SetString(paramRFID, binfield.HexString(rest[:8]))
	end(m, f)
	return true
}

// locationRFID decodes the 48-byte 0x36 (TRX16i): GPS block, cell with a
// 4-byte cell id, ACC, upload mode, re-upload flag, mileage (4, m),
// external voltage (0.01 V), battery voltage (0.1 V), running time
// (3 bytes, minutes), RFID card (8, hex; zeros when none).
func (s *Session) locationRFID(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) != gpsLen+9+3+4+2+1+3+8 || !gpsFits(c) || c[gpsLen]&0x80 != 0 {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	rest := putUploadInfo(m, cellCID4.put(m, c[gpsLen:]))
	m.SetFloat(paramMileage, float64(be32(rest))/1000)
	m.SetFloat(paramExtVoltage, float64(be16(rest[4:]))/100)
	m.SetFloat(paramBatteryVolt, float64(rest[6])/10)
	m.SetFloat(paramMotorHours, float64(beN(rest[7:], 3))/60)
	if card := rest[10:18]; !allZero(card) {
		m.SetString(paramRFID, binfield.HexString(card))
	}
	end(m, f)
	return true
}

// status2 decodes the 0x36 status of Jimi 4G firmware (no GPS block):
// terminal info, voltage level, GSM signal, alarm, language, then modules
// (type 2, length 1): 0x0018 battery voltage (0.01 V), 0x0032 startup
// status, 0x006A battery level (%); others kept in hex. It is acknowledged
// like the other status packets.
func (s *Session) status2(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 5 {
		return false
	}
	// The modules must tile the rest exactly.
	for p := c[5:]; len(p) > 0; {
		if len(p) < 3 || len(p) < 3+int(p[2]) {
			return false
		}
		p = p[3+int(p[2]):]
	}
	m := s.begin(r)
	rest := s.putStatus(m, c)
	for len(rest) > 0 {
		typ, d := be16(rest), rest[3:3+int(rest[2])]
		rest = rest[3+len(d):]
		switch {
		case typ == 0x0018 && len(d) == 2:
			m.SetFloat(paramBatteryVolt, float64(be16(d))/100)
		case typ == 0x0032 && len(d) == 1:
			m.SetInt(paramStartup, int64(d[0]))
		case typ == 0x006A && len(d) == 1:
			m.SetInt(paramBatteryPct, int64(d[0]))
		default:
			m.SetString(moduleParam(typ), binfield.HexString(d))
		}
	}
	end(m, f)
	// A status packet: answered, unlike the 0x36 location forms.
	r.Reply = AppendAck(r.Reply[:0], f.marker == extended, f.proto, f.serial)
	return true
}

// gpsLBS8 decodes 0x38: GPS block, upload mode, re-upload flag, cell type
// (3 and above: 4G), cell (4G: 4-byte LAC, 8-byte cell id, 2-byte signal;
// else 2, 3 and 1), then what follows in hex.
func (s *Session) gpsLBS8(f *frame, r *protocol.Result) bool {
	c := f.content
	if !gpsFits(c) || len(c) < gpsLen+3 {
		return false
	}
	rest := c[gpsLen+2:]
	cs, sig := cell2G, 1
	if rest[0] >= 3 {
		cs, sig = cell4G, 2
	}
	if n := cs.size(rest[1:]); n < 0 || len(rest) < 1+n+sig {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	m.SetInt(paramUploadMode, int64(c[gpsLen]))
	m.SetBool(paramBuffered, c[gpsLen+1] == 1)
	rest = cs.put(m, rest[1:])
	m.SetUint("gsm.signal.raw", beN(rest, sig))
	tail(m, rest[sig:])
	end(m, f)
	return true
}

// x1GPS decodes the 0x34 of X1-type firmware: data and alarm (4), GPS
// block, terminal info (2), mileage (4, m), MCC, MNC, LAC, cell id (4),
// driver id (4; 0 none), battery voltage and external voltage (0.01 V),
// port info (4; bits 20-23: number of analog inputs), inputs, outputs, the
// analog inputs (0.01 V each).
func (s *Session) x1GPS(f *frame, r *protocol.Result) bool {
	c := f.content
	const fixed = 4 + gpsLen + 2 + 4 + 9 + 4 + 4 + 4 + 2
	if len(c) < fixed || !gpsFits(c[4:]) {
		return false
	}
	port := be32(c[fixed-6:])
	adc := int(port >> 20 & 0x0F)
	if len(c) != fixed+2*adc {
		return false
	}
	m := s.begin(r)
	putGPS(m, c[4:])
	p := c[4+gpsLen+2:]
	m.SetFloat(paramMileage, float64(be32(p))/1000)
	p = cellSpec{lac: 2, cid: 4}.put(m, p[4:])
	if id := be32(p); id != 0 {
		m.SetString(paramIButton, strconv.FormatUint(uint64(id), 10))
	}
	m.SetFloat(paramBatteryVolt, float64(be16(p[4:]))/100)
	m.SetFloat(paramExtVoltage, float64(be16(p[6:]))/100)
	m.SetInt(paramDin, int64(p[12]))
	m.SetInt(paramDout, int64(p[13]))
	p = p[14:]
	for i := 0; i < adc; i++ {
		m.SetFloat("ain#"+strconv.Itoa(i+1), float64(be16(p[2*i:]))/100)
	}
	m.SetInt("custom.data.alarm", int64(be32(c)))
	end(m, f)
	return true
}

// iButton decodes 0x61: IMEI (8), GPS block, cell with a 4-byte cell id,
// iButton key (6).
func (s *Session) iButton(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) != 8+gpsLen+9+6 || !gpsFits(c[8:]) || c[8+gpsLen]&0x80 != 0 {
		return false
	}
	m := s.begin(r)
	putGPS(m, c[8:])
	rest := cellCID4.put(m, c[8+gpsLen:])
	m.SetString(paramIButton, binfield.HexString(rest))
	end(m, f)
	return true
}

// heartbeat decodes 0x13. The documents' layout is terminal info, voltage
// level, GSM signal, alarm/language (5 bytes; older firmware stops after
// the signal). LW firmware (Codec.Model) ends with the external voltage
// (low 12 bits, 0.1 V) instead of alarm/language. A 16-byte form carries
// terminal info, satellites (2), alarm, language, battery (%), working
// mode, working voltage (0.01 V), reserved, working times (2), working
// time (2) and a temperature (0.1 °C, bit 15 set: positive).
func (s *Session) heartbeat(f *frame, r *protocol.Result) bool {
	c := f.content
	switch {
	case len(c) < 3:
		return false
	case len(c) == 16:
		m := s.begin(r)
		putTerminalInfo(m, c[0])
		s.putAlarm(m, c[3])
		m.SetInt(paramBatteryPct, int64(c[5]))
		m.SetFloat(paramBatteryVolt, float64(be16(c[7:]))/100)
		t := float64(be16(c[14:])&0x7FFF) / 10
		if c[14]&0x80 == 0 {
			t = -t
		}
		m.SetFloat(paramTempSensor, t)
		end(m, f)
		return true
	case len(c) == 5 && s.quirks.lw:
		m := s.begin(r)
		putTerminalInfo(m, c[0])
		putVoltageLevel(m, c[1])
		m.SetInt(paramSignal, int64(c[2]))
		m.SetFloat(paramExtVoltage, float64(be16(c[3:])&0x0FFF)/10)
		end(m, f)
		return true
	}
	m := s.begin(r)
	tail(m, s.putStatus(m, c))
	end(m, f)
	return true
}

// heartbeat2 decodes 0x23 (GK310 and later): terminal info, battery
// voltage (2 bytes, 0.01 V), GSM signal, language (2).
func (s *Session) heartbeat2(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 1 {
		return false
	}
	m := s.begin(r)
	putTerminalInfo(m, c[0])
	rest := c[1:]
	if len(rest) >= 2 {
		m.SetFloat(paramBatteryVolt, float64(be16(rest))/100)
		rest = rest[2:]
	}
	if len(rest) >= 1 {
		m.SetInt(paramSignal, int64(rest[0]))
		rest = rest[1:]
	}
	if len(rest) == 2 {
		rest = nil // language
	}
	tail(m, rest)
	end(m, f)
	return true
}

// statusSteps decodes the 19-byte 0xA3 of pedometer firmware: terminal
// info, extension status (2), voltage level, GSM signal, external voltage
// (V), language, sound switch, light switch, steps (4), battery (%),
// charging, moving, then 3 bytes kept in hex.
func (s *Session) statusSteps(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) != 19 {
		return false
	}
	m := s.begin(r)
	putTerminalInfo(m, c[0])
	putVoltageLevel(m, c[3])
	m.SetInt(paramSignal, int64(c[4]))
	m.SetFloat(paramExtVoltage, float64(c[5]))
	m.SetInt(paramSteps, int64(be32(c[9:])))
	m.SetInt(paramBatteryPct, int64(c[13]))
	m.SetBool(paramCharging, c[14] == 1)
	m.SetBool(paramMovement, c[15] == 1)
	tail(m, c[16:])
	end(m, f)
	return true
}

// alarm decodes 0x16, 0x26, 0x27, 0xA4 (and the GPS form of 0x32 and 0xA3):
// GPS block, LBS length, cell (4G in 0xA4), terminal info, voltage level,
// GSM signal, alarm/language; 0x27 and 0xA4 add a geofence number. What
// follows: 4 bytes are the mileage (JM-VL03 0x26), 8 bytes of a 0x16 an
// RFID card. One 0x16 variant has no LBS length byte (its content is
// exactly 31 bytes). The alarm is kept when the GPS block holds no valid
// position (the position is then left out). An LBS length of 0 means no
// cell; some firmware then
// sends a 45-byte cell area anyway, zeros after its first 9 bytes, which is
// skipped.
func (s *Session) alarm(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < gpsLen+5 {
		return false
	}
	cs := cell2G
	if f.proto == typeAlarm4G {
		cs = cell4G
	}
	rest := c[gpsLen:]
	var cell []byte
	switch {
	case f.proto == typeAlarm && len(rest) == 8+5: // no LBS length
		cell, rest = rest[:8], rest[8:]
		if cs.size(cell) != 8 {
			return false
		}
	case rest[0] == 0:
		rest = rest[1:]
		if len(rest) >= zeroLBS+5 && allZero(rest[9:zeroLBS]) {
			rest = rest[zeroLBS:]
		}
	default:
		n := cs.size(rest[1:])
		if n < 0 || len(rest) < 1+n+5 {
			return false
		}
		cell, rest = rest[1:1+n], rest[1+n:]
	}
	if len(rest) < 5 {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	if cell != nil {
		cs.put(m, cell)
	}
	rest = s.putStatus(m, rest)
	if (f.proto == typeAlarm3 || f.proto == typeAlarm4G) && len(rest) > 0 {
		if rest[0] != 0xFF {
			m.SetInt(paramGeofenceID, int64(rest[0]))
		}
		rest = rest[1:]
	}
	switch {
	case len(rest) == 4:
		rest = putMileage(m, rest)
	case len(rest) == 8 && f.proto == typeAlarm:
		if !allZero(rest) {
			m.SetString(paramRFID, binfield.HexString(rest))
		}
		rest = nil
	}
	tail(m, rest)
	end(m, f)
	return true
}

// zeroLBS is the length of the empty cell area some firmware sends after
// an LBS length of 0.
const zeroLBS = 45

// lbsStatus decodes 0x19 (GT03 "LBS and status"): a cell and the status
// bytes; some devices put the date-time first. 0xA5 (GK310, JM-LL301 LBS
// alarm) is the same with a 4G cell.
func (s *Session) lbsStatus(f *frame, r *protocol.Result) bool {
	c := f.content
	cs := cell2G
	if f.proto == typeLBSAlarm {
		cs = cell4G
	}
	var ts int64
	hasTime := false
	if n := cs.size(c); n < 0 || len(c) != n+5 && len(c) != n {
		if len(c) < 6+8 {
			return false
		}
		ts, hasTime = dateTime(c)
		c = c[6:]
	}
	n := cs.size(c)
	if n < 0 || len(c) < n {
		return false
	}
	m := s.begin(r)
	if hasTime {
		m.SetInt(protocol.ParamTimestamp, ts)
	}
	rest := cs.put(m, c)
	if len(rest) >= 5 {
		rest = s.putStatus(m, rest)
	}
	tail(m, rest)
	end(m, f)
	return true
}

// lbsMulti decodes the multi-cell packets: 0x18 (GT03 LBS extension), 0x28
// and 0x2E (JM-VL03: date-time, MCC, MNC, the serving cell and six
// neighbours with LAC 2, cell id 3 and signal 1 each, timing advance,
// language), 0xA1 (the same with 4-byte LACs and 8-byte cell ids), 0x2C
// (as 0x28, then Wi-Fi access points: count, MAC 6 and signal 1 each) and
// 0x33 in a "78 78" frame (six cells with 4-byte cell ids, timing advance,
// Wi-Fi access points).
func (s *Session) lbsMulti(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 6+2 {
		return false
	}
	mcc := be16(c[6:])
	mncLen := 1
	if mcc&0x8000 != 0 {
		mcc &= 0x7FFF
		mncLen = 2
	}
	cells, lacLen, cidLen := 7, 2, 3
	switch f.proto {
	case typeLBS4G:
		lacLen, cidLen = 4, 8
	case typeWiFi5:
		cells, cidLen = 6, 4
	}
	entry := lacLen + cidLen + 1
	need := 6 + 2 + mncLen + cells*entry + 1
	if len(c) < need {
		return false
	}
	mnc := beN(c[8:], mncLen)
	m := s.begin(r)
	if ts, ok := dateTime(c); ok {
		m.SetInt(protocol.ParamTimestamp, ts)
	}
	p := c[8+mncLen:]
	if lac, cid := beN(p, lacLen), beN(p[lacLen:], cidLen); mcc != 0 || lac != 0 || cid != 0 {
		m.SetInt(paramMCC, int64(mcc))
		m.SetInt(paramMNC, int64(mnc))
		m.SetUint(paramLAC, lac)
		m.SetUint(paramCellID, cid)
	}
	js := []byte{'['}
	for i := 0; i < cells; i++ {
		e := p[i*entry:]
		lac, cid := beN(e, lacLen), beN(e[lacLen:], cidLen)
		if lac == 0 && cid == 0 {
			continue
		}
		js = protocol.AppendGSMCell(js, uint64(mcc), mnc, lac, cid, int64(e[lacLen+cidLen]), true)
	}
	if len(js) > 1 {
		m.Set(paramCells, protocol.RawJSON(string(append(js, ']'))))
	}
	rest := c[need:]
	if f.proto == typeWiFi || f.proto == typeWiFi5 {
		if len(rest) >= 1 {
			n := int(rest[0])
			if len(rest) >= 1+7*n {
				if n > 0 {
					m.Set(paramWiFi, protocol.RawJSON(wifiJSON(rest[1:], n)))
				}
				rest = rest[1+7*n:]
			}
		}
	} else if len(rest) == 2 {
		rest = nil // language
	}
	tail(m, rest)
	end(m, f)
	return true
}

// az735 decodes 0x32 and 0x33 in a "79 79" frame (AZ735): GPS block whose
// info byte 0 means no fix (the block is then kept out), LBS length, cell,
// signal, then lengths-prefixed neighbour cells and Wi-Fi (kept in hex),
// status (0x33: A0 armed, A1 disarmed, A2/A3 low battery, A4 alarm, A5
// door) and a length-prefixed reserved part.
func (s *Session) az735(f *frame, r *protocol.Result) bool {
	c := f.content
	if f.marker != extended || len(c) < gpsLen+1 {
		return false
	}
	rest := c[gpsLen:]
	var cell []byte
	if rest[0] != 0 {
		n := cell2G.size(rest[1:])
		if n < 0 || len(rest) < 1+n+1 {
			return false
		}
		cell, rest = rest[1:1+n+1], rest[1+n+1:]
	} else {
		rest = rest[1:]
	}
	var parts [2][]byte
	for i := range parts {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return false
		}
		parts[i], rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	}
	if len(rest) < 2 || len(rest) < 2+int(rest[1]) {
		return false
	}
	m := s.begin(r)
	if c[6] != 0 && fixInRange(c[7:]) {
		putGPS(m, c)
	} else if ts, ok := dateTime(c); ok {
		m.SetInt(protocol.ParamTimestamp, ts)
	}
	if cell != nil {
		cell2G.put(m, cell)
		m.SetInt(paramSignal, int64(cell[len(cell)-1]))
	}
	if len(parts[0]) > 0 {
		m.SetString("custom.cells.raw", binfield.HexString(parts[0]))
	}
	if len(parts[1]) > 0 {
		m.SetString("custom.wifi.raw", binfield.HexString(parts[1]))
	}
	st := rest[0]
	m.SetInt("custom.status.enum", int64(st))
	if f.proto == typeWiFi5 {
		switch st {
		case 0xA0, 0xA1:
			m.SetBool(paramDefense, st == 0xA0)
		case 0xA2, 0xA3:
			m.SetBool(paramBatteryLow, true)
			m.SetBool(paramAlarm, true)
		case 0xA4:
			m.SetBool(paramAlarm, true)
		case 0xA5:
			m.SetBool(paramDoorEvent, true)
			m.SetBool(paramAlarm, true)
		}
	}
	tail(m, rest[2+int(rest[1]):])
	end(m, f)
	return true
}

// alarmMedia decodes 0x95, the alarm of camera firmware (JC100, JC400):
// date-time and event (short form), or a fix and the event: JC400 (content
// starting FF FF) has marker, version, date-time, satellites, latitude,
// longitude, course/status, speed (2 bytes) and the external voltage (0.1
// V); JC100 has date-time, latitude, longitude and course/status. The
// event code and its data (2) follow, then the names of the recorded
// files.
func (s *Session) alarmMedia(f *frame, r *protocol.Result) bool {
	c := f.content
	var p []byte
	var m *protocol.Message
	switch {
	case len(c) >= 3+6+1+8+2+2+2+1 && c[0] == 0xFF && c[1] == 0xFF:
		g := c[3:]
		if !fixInRange(g[7:]) {
			return false
		}
		m = s.begin(r)
		if ts, ok := dateTime(g); ok {
			m.SetInt(protocol.ParamTimestamp, ts)
		}
		putLatLon(m, g[7:], be16(g[15:]))
		m.SetInt(protocol.ParamSpeed, int64(be16(g[17:])))
		m.SetInt(protocol.ParamSatellites, int64(g[6]&0x0F))
		m.SetFloat(paramExtVoltage, float64(be16(g[19:]))/10)
		p = g[21:]
	case len(c) > 7:
		if len(c) < 6+8+2+1 || !fixInRange(c[6:]) {
			return false
		}
		m = s.begin(r)
		if ts, ok := dateTime(c); ok {
			m.SetInt(protocol.ParamTimestamp, ts)
		}
		putLatLon(m, c[6:], be16(c[14:]))
		p = c[16:]
	case len(c) == 7:
		m = s.begin(r)
		if ts, ok := dateTime(c); ok {
			m.SetInt(protocol.ParamTimestamp, ts)
		}
		p = c[6:]
	default:
		return false
	}
	ev := p[0]
	m.SetInt(paramEvent, int64(ev))
	p = p[1:]
	if len(p) >= 2 {
		m.SetInt(paramEventData, int64(be16(p)))
		p = p[2:]
	}
	if ev != 0 {
		m.SetBool(paramAlarm, true)
	}
	if name, ok := mediaAlarms[ev]; ok {
		m.SetBool(name, true)
	} else if ev == 0x88 {
		m.SetBool(paramPowerOK, false)
	}
	if len(p) > 0 {
		m.SetString(paramEventFiles, text(p))
	}
	end(m, f)
	return true
}

// mediaAlarms names the 0x95 event codes.
var mediaAlarms = map[byte]string{
	0x01: paramSOS, 0x0E: paramExtPowerLow, 0x76: paramTemperature, 0x80: paramShock,
	0x87: paramOverspeed, 0x90: paramHarshAccel, 0x91: paramHarshBrake, 0x92: paramHarshCorner, 0x93: paramCrash,
}

// putLatLon decodes latitude and longitude (4 bytes each) with the
// hemisphere bits of the course/status word, and the course and validity.
func putLatLon(m *protocol.Message, b []byte, cs uint16) {
	lat := float64(be32(b)) / 1800000
	lon := float64(be32(b[4:])) / 1800000
	if cs&0x0400 == 0 && lat != 0 {
		lat = -lat
	}
	if cs&0x0800 != 0 && lon != 0 {
		lon = -lon
	}
	m.SetFloat(protocol.ParamLatitude, lat)
	m.SetFloat(protocol.ParamLongitude, lon)
	if course := cs & 0x03FF; course <= 360 {
		m.SetInt(protocol.ParamDirection, int64(course))
	}
	m.SetBool(protocol.ParamValid, cs&0x1000 != 0)
}

// serialData decodes 0x9B, data passed through from a serial device: the
// device type code, then the data (text when printable, else hex).
func (s *Session) serialData(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 1 {
		return false
	}
	m := s.begin(r)
	m.SetInt(paramSerialType, int64(c[0]))
	if d := c[1:]; printable(d) {
		m.SetString(paramSerialData, strings.TrimSpace(string(d)))
	} else {
		m.SetString(paramSerialData, binfield.HexString(d))
	}
	end(m, f)
	return true
}

// deviceStatus decodes 0xF1 (Jimi 4G device status) and 0xF2 (VL842
// peripherals): Unix time (4), then items of id (2), length and data. 0xF1
// items: 0x01 motion (2 or 4: moving), 0x02 armed, 0x04 ACC, 0x05 external
// voltage (0.01 V), 0x07 charging, 0x0A charge voltage, 0x0B battery
// temperature (0.1 °C). 0xF2 items: 0x000A a Bluetooth peripheral (length
// 2 bytes: MAC type, MAC, event, event data, data type, details), 0x000C
// an external battery (level %, charging, cycles, 6 reserved); other items
// have a 1-byte length (0: the length is in the next byte).
func (s *Session) deviceStatus(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 4 {
		return false
	}
	type item struct {
		id uint16
		d  []byte
	}
	var items []item
	for p := c[4:]; len(p) > 0; {
		if len(p) < 3 {
			return false
		}
		id, n, hl := be16(p), int(p[2]), 3
		switch {
		case f.proto == typePeripheral && id == 0x000A:
			if len(p) < 4 {
				return false
			}
			n, hl = int(be16(p[2:])), 4
		case f.proto == typePeripheral && id == 0x000C:
			n, hl = 11, 3
		case f.proto == typePeripheral && n == 0:
			if len(p) < 4 {
				return false
			}
			n, hl = int(p[3]), 4
		}
		if len(p) < hl+n {
			return false
		}
		items = append(items, item{id, p[hl : hl+n]})
		p = p[hl+n:]
	}
	m := s.begin(r)
	m.SetInt(protocol.ParamTimestamp, int64(be32(c)))
	for _, it := range items {
		d := it.d
		switch {
		case f.proto == typeDeviceStatus && it.id == 0x01 && len(d) == 1:
			m.SetBool(paramMovement, d[0] == 0x02 || d[0] == 0x04)
		case f.proto == typeDeviceStatus && it.id == 0x02 && len(d) == 1:
			m.SetBool(paramDefense, d[0] > 0)
		case f.proto == typeDeviceStatus && it.id == 0x04 && len(d) == 1:
			m.SetBool(paramIgnition, d[0] > 0)
		case f.proto == typeDeviceStatus && it.id == 0x05 && len(d) == 2:
			m.SetFloat(paramExtVoltage, float64(be16(d))/100)
		case f.proto == typeDeviceStatus && it.id == 0x07 && len(d) == 1:
			m.SetBool(paramCharging, d[0] > 0)
		case f.proto == typeDeviceStatus && it.id == 0x0A && len(d) == 2:
			m.SetFloat("custom.charge.voltage", float64(be16(d)))
		case f.proto == typeDeviceStatus && it.id == 0x0B && len(d) == 2:
			m.SetFloat("battery.temperature", float64(be16(d))/10)
		case f.proto == typePeripheral && it.id == 0x000A && len(d) >= 10:
			m.SetString(paramBLEMac+"#1", binfield.HexString(d[1:7]))
			m.SetInt(paramEvent, int64(d[7]))
			if d[7] > 0 {
				m.SetInt(paramEventData, int64(d[8]))
			}
			if details := d[10:]; printable(details) {
				m.SetString("custom.peripheral.data", string(details))
			} else {
				m.SetString("custom.peripheral.data", binfield.HexString(details))
			}
		case f.proto == typePeripheral && it.id == 0x000C && len(d) == 11:
			m.SetInt("custom.external.battery.level", int64(d[0]))
			m.SetBool("custom.external.battery.charging.status", d[1] > 0)
			m.SetInt("custom.external.battery.cycles", int64(be16(d[2:])))
		default:
			m.SetString("custom.status."+strconv.Itoa(int(it.id)), binfield.HexString(d))
		}
	}
	end(m, f)
	return true
}

// addressRequest decodes 0x2A (JM-VL03 "GPS address request"): GPS block,
// the phone number that asked (21, ASCII), language. It is a fix, so it
// makes a message; the reply is the English address packet (0x97, "79 79")
// saying no address is known ("NA&&NA&&0##"): the server has no geocoder,
// and the device passes the answer on to the phone.
func (s *Session) addressRequest(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < gpsLen+21 || !gpsFits(c) {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	m.SetString(paramPhone, strings.TrimRight(text(c[gpsLen:gpsLen+21]), " "))
	rest := c[gpsLen+21:]
	if len(rest) == 2 {
		rest = nil
	}
	tail(m, rest)
	end(m, f)
	const answer = "NA&&NA&&0##"
	var body [1 + 4 + len(answer)]byte
	body[0] = byte(len(answer))
	copy(body[5:], answer)
	r.Reply = appendPacket(r.Reply[:0], true, typeAddressEN, body[:], nil, f.serial)
	return true
}

// modular (0x70, "79 79" only) is a list of modules: type (2 bytes),
// length (2 bytes), data. Known modules: 0x0003 ICCID, 0x0009 satellites
// used, 0x000A visible, 0x0011 a cell (MCC 2, MNC 2, LAC 2, cell id 3,
// signal 1), 0x0018 battery voltage (0.01 V), 0x0028 HDOP (0.1), 0x0029
// record index, 0x002A door (low nibble) and tamper (high nibble), 0x002B
// boot reason, 0x002C Unix time of the packet, 0x002E mileage (m,
// little-endian), 0x0033 a GPS fix (Unix time 4, satellites 1, altitude in
// metres 2 signed, latitude 4, longitude 4, speed 1, course/status 2),
// 0x0034 an event (code, time, content), 0x007F a Bluetooth tag (MAC 6,
// battery 2 in mV, battery % 1, temperature 2 signed in 0.1 °C, humidity
// 2, status 1). Others, and a second fix, are kept in hex as
// "custom.module.<type>".
func (s *Session) modular(f *frame, r *protocol.Result) bool {
	c := f.content
	m := s.begin(r)
	hasTime, hasFix := false, false
	for len(c) >= 4 {
		typ, n := be16(c), int(be16(c[2:]))
		if len(c) < 4+n {
			break
		}
		d := c[4 : 4+n]
		c = c[4+n:]
		switch {
		case typ == 0x0033 && n >= 18 && !hasFix:
			hasFix = true
			m.SetInt(protocol.ParamTimestamp, int64(be32(d)))
			hasTime = true
			m.SetInt(protocol.ParamAltitude, int64(int16(be16(d[5:]))))
			putFix(m, d[7:], d[4])
		case typ == 0x002C && n == 4:
			if !hasTime {
				m.SetInt(protocol.ParamTimestamp, int64(be32(d)))
			}
		case typ == 0x0003 && n == 10:
			m.SetString(paramICCID, bcd(d))
		case typ == 0x0009 && n == 1:
			m.SetInt(protocol.ParamSatellites, int64(d[0]))
		case typ == 0x000A && n == 1:
			m.SetInt(paramSatVisible, int64(d[0]))
		case typ == 0x0011 && n == 10:
			if cid := beN(d[6:], 3); cid != 0 {
				m.SetUint(paramMCC, uint64(be16(d)))
				m.SetUint(paramMNC, uint64(be16(d[2:])))
				m.SetUint(paramLAC, uint64(be16(d[4:])))
				m.SetUint(paramCellID, cid)
			}
		case typ == 0x0018 && n == 2:
			m.SetFloat(paramBatteryVolt, float64(be16(d))/100)
		case typ == 0x0028 && n == 1:
			m.SetFloat(protocol.ParamHDOP, float64(d[0])/10)
		case typ == 0x0029 && n == 4:
			m.SetInt(paramRecordIndex, int64(be32(d)))
		case typ == 0x002A && n == 1:
			m.SetBool(paramDoor, d[0]&0x0F != 0)
			m.SetBool("tamper.status", d[0]>>4 != 0)
		case typ == 0x002B && n == 1:
			m.SetInt(paramBootReason, int64(d[0]))
		case typ == 0x002E && n == 4:
			v := uint32(d[0]) | uint32(d[1])<<8 | uint32(d[2])<<16 | uint32(d[3])<<24
			m.SetFloat(paramMileage, float64(v)/1000)
		case typ == 0x0034 && n >= 6 && n == 6+int(d[5]):
			s.moduleEvent(m, d[0])
			if d[5] > 0 {
				m.SetString(paramEventData, binfield.HexString(d[6:]))
			}
		case typ == 0x007F && n == 14:
			m.SetString(paramBLEMac+"#1", binfield.HexString(d[:6]))
			m.SetFloat(paramBLEBattVolt+"#1", float64(be16(d[6:]))/1000)
			m.SetInt(paramBLEBattLevel+"#1", int64(d[8]))
			m.SetFloat(paramBLETemp+"#1", float64(int16(be16(d[9:])))/10)
			m.SetInt(paramBLEHumidity+"#1", int64(int16(be16(d[11:]))))
			m.SetInt(paramBLEStatus+"#1", int64(d[13]))
		default:
			m.SetString(moduleParam(typ), binfield.HexString(d))
		}
	}
	tail(m, c)
	end(m, f)
	return true
}

// moduleEvent decodes the event code of module 0x0034.
func (s *Session) moduleEvent(m *protocol.Message, ev byte) {
	m.SetInt(paramEvent, int64(ev))
	switch {
	case ev == 0x14 || ev == 0x15:
		m.SetBool(paramGeofenceIn, ev == 0x14)
	case ev == 0x21:
		m.SetBool(paramPowerOK, false)
	default:
		name, ok := moduleEvents[ev]
		if !ok {
			return
		}
		m.SetBool(name, true)
	}
	m.SetBool(paramAlarm, true)
}

// moduleEvents names the event codes of module 0x0034.
var moduleEvents = map[byte]string{
	0x10: paramDoorEvent, 0x12: paramRemoval, 0x16: paramTemperature, 0x1A: paramBatteryLow,
	0x1B: paramOverspeed, 0x1C: paramPowerOn, 0x1D: paramPowerOff, 0x20: paramShock, 0x23: paramTamper,
}

// info (0x94) is "information transmission" (JM-VL03 V1.1.2): a sub-type
// byte, then data. 0x00 external voltage (0.01 V); 0x04 terminal status
// synchronisation, "ALM1=FF;ALM2=FF;…;STA1=C0;DYD=01;…" (text kept, and
// each ALMn, STA1, DYD byte as "custom.info.status.<name>"); 0x05 door
// status (bit 0 door, bit 1 trigger level, bit 2 I/O port; some firmware
// puts a date-time first); 0x09 satellites (GPS module status, satellites
// used and visible, with their strengths; kept with the status and the
// counts); 0x0A IMEI, IMSI and ICCID (BCD); 0x0B network technology (1
// byte: 0 2G, else 4G) or external voltage (2 bytes, 0.01 V); 0x1B an RFID
// card (framed: header, type, 4-byte id, checksum, footer) or a serial
// device's text; 0x1E temperature and humidity (4 bytes each, 0.1 °C and
// 0.1 %). Others are kept in hex. In a "78 78" frame some firmware sends
// only the external voltage (2 bytes, no sub-type).
func (s *Session) info(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 1 {
		return false
	}
	m := s.begin(r)
	if f.marker == short && len(c) == 2 {
		m.SetFloat(paramExtVoltage, float64(int16(be16(c)))/100)
		end(m, f)
		return true
	}
	sub, data := c[0], c[1:]
	m.SetInt(paramInfoType, int64(sub))
	switch {
	case sub == 0x00 && len(data) >= 2:
		m.SetFloat(paramExtVoltage, float64(be16(data))/100)
		data = data[2:]
	case sub == 0x04:
		t := text(data)
		m.SetString(paramInfoText, t)
		for _, kv := range strings.Split(t, ";") {
			k, v, ok := strings.Cut(kv, "=")
			switch k = strings.TrimSpace(k); {
			case !ok:
			case k == "ALM1" || k == "ALM2" || k == "ALM3" || k == "ALM4" || k == "STA1" || k == "DYD":
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 8); err == nil {
					m.SetInt(paramInfoStatus+strings.ToLower(k), int64(n))
				}
			}
		}
		data = nil
	case sub == 0x05 && (len(data) == 1 || len(data) == 7):
		if len(data) == 7 {
			if ts, ok := dateTime(data); ok {
				m.SetInt(protocol.ParamTimestamp, ts)
			}
			data = data[6:]
		}
		m.SetBool(paramDoor, data[0]&0x01 != 0)
		m.SetBool("custom.door.trigger.high.status", data[0]&0x02 != 0)
		m.SetBool("din#1", data[0]&0x04 != 0)
		data = nil
	case sub == 0x09 && len(data) >= 2 && len(data) >= 2+int(data[1]):
		m.SetInt(paramGPSState, int64(data[0]))
		m.SetInt(protocol.ParamSatellites, int64(data[1]))
		if p := data[2+int(data[1]):]; len(p) >= 1 && len(p) >= 1+int(p[0]) {
			m.SetInt(paramSatVisible, int64(p[0]))
		}
		m.SetString(paramInfoRaw, binfield.HexString(data))
		data = nil
	case sub == 0x0A && len(data) >= 26:
		m.SetString(paramIMSI, strings.TrimPrefix(bcd(data[8:16]), "0"))
		m.SetString(paramICCID, bcd(data[16:26]))
		data = data[26:]
	case sub == 0x0B && len(data) == 1:
		tech := "2G"
		if data[0] > 0 {
			tech = "4G"
		}
		m.SetString(paramNetworkTech, tech)
		data = nil
	case sub == 0x0B && len(data) == 2:
		m.SetFloat(paramExtVoltage, float64(be16(data))/100)
		data = nil
	case sub == 0x1B && len(data) > 0 && isLetter(data[0]):
		m.SetString(paramSerialData, strings.TrimSpace(text(data)))
		data = nil
	case sub == 0x1B && len(data) == 8:
		m.SetString(paramRFID, binfield.HexString(data[2:6]))
		data = nil
	case sub == 0x1E && len(data) == 8:
		m.SetFloat(paramTempSensor, float64(int32(be32(data)))/10)
		m.SetFloat(paramHumidity, float64(int32(be32(data[4:])))/10)
		data = nil
	default:
		if len(data) > 0 {
			m.SetString(paramInfoRaw, binfield.HexString(data))
		}
		data = nil
	}
	tail(m, data)
	end(m, f)
	return true
}

// response decodes a device's answer to a command: 0x15 (command length,
// server flag, text, language) and 0x21 (server flag, encoding: 1 ASCII, 2
// UTF-16 big-endian, text). Every answer becomes a message with
// "command.response", whether or not a command is pending (an answer to a
// command sent by SMS, or one the device sends on its own, is stored
// rather than lost), and a [protocol.CommandResponse] with the server flag
// as its ID, which completes the pending command with that ID. An answer
// that states a position ("Lat:N54.739332,Lon:E25.273270", the reply to
// WHERE#) also gives the message that position; an "<ICCID:…>" answer
// gives "gsm.sim.iccid".
func (s *Session) response(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 5 {
		return false
	}
	var flag uint32
	var txt string
	if f.proto == typeStringResp {
		flag = be32(c[1:])
		body := c[5:]
		if n := int(c[0]); n >= 4 && 1+n <= len(c) {
			body = c[5 : 1+n]
		} else if k := len(body); k >= 2 && body[k-2] == 0 && (body[k-1] == 1 || body[k-1] == 2) {
			body = body[:k-2] // the language word
		}
		txt = text(body)
	} else {
		flag = be32(c)
		if c[4] == 2 {
			txt = utf16Text(c[5:])
		} else {
			txt = text(c[5:])
		}
	}
	r.Responses = append(r.Responses, protocol.CommandResponse{ID: flag, HasID: true, Text: txt})
	m := s.begin(r)
	m.SetString(protocol.ParamCommandResponse, txt)
	m.SetInt("custom.server.flag", int64(flag))
	if lat, lon, ok := textPosition(txt); ok {
		m.SetFloat(protocol.ParamLatitude, lat)
		m.SetFloat(protocol.ParamLongitude, lon)
	}
	if rest, ok := strings.CutPrefix(txt, "<ICCID:"); ok && len(rest) >= 20 {
		m.SetString(paramICCID, rest[:20])
	}
	end(m, f)
	return true
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

func printable(b []byte) bool {
	for _, v := range b {
		if (v < 0x20 || v > 0x7E) && v != '\r' && v != '\n' && v != '\t' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
