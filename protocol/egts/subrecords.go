package egts

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// epoch2010 is 2010-01-01 00:00:00 UTC, EGTS time zero, in Unix seconds.
const epoch2010 = 1262304000

// recordCtx decodes the subrecords of one service data record into
// messages: telematics subrecords fill one message per record (a second
// EGTS_SR_POS_DATA starts another).
type recordCtx struct {
	s     *Session
	r     *protocol.Result
	rn    uint16
	sst   byte
	tm    uint32
	hasTM bool
	m     *protocol.Message
	pos   bool   // m already holds a position
	seen  uint64 // subrecord types (below 64) already in m
	add   bool   // the current subrecord's names are new to m: append them
}

// put sets a parameter of the current subrecord: appended when the
// subrecord type is new to the message (each type has its own names),
// replaced otherwise.
func (c *recordCtx) put(name string, v protocol.Value) {
	if c.add {
		c.m.Add(name, v)
	} else {
		c.m.Set(name, v)
	}
}

// msg returns the record's message, starting it when needed.
func (c *recordCtx) msg() *protocol.Message {
	if c.m == nil {
		c.add = true
		c.m = c.s.begin(c.r)
		if c.hasTM {
			c.m.Add(protocol.ParamTimestamp, protocol.Int(int64(c.tm)+epoch2010))
		}
		c.m.Add(paramRecord, protocol.Int(int64(c.rn)))
		c.m.Add(paramService, protocol.Int(int64(c.sst)))
	}
	return c.m
}

func (c *recordCtx) subrecords(rd []byte, off int) (identified bool, err error) {
	for len(rd) > 0 {
		if len(rd) < 3 {
			return identified, protocol.Errorf(Name, off, protocol.ErrTruncated, "subrecord shorter than its header")
		}
		srt, srl := rd[0], int(le16(rd[1:]))
		if len(rd) < 3+srl {
			return identified, protocol.Errorf(Name, off, protocol.ErrTruncated, fmt.Sprintf("subrecord %d of %d bytes runs past its record", srt, srl))
		}
		d := rd[3 : 3+srl]
		c.add = srt < 64 && c.seen&(1<<srt) == 0 && c.m != nil
		if srt == srPosData && c.pos {
			c.add = true // a new message follows
		}
		ok := true
		switch {
		case srt == srRecordResponse:
			// The device confirms a record of ours: nothing to keep.
		case c.sst == serviceAuth && srt == srTermIdent:
			ok = c.termIdent(d)
			identified = identified || ok
		case c.sst == serviceAuth && srt == srVehicleData && len(d) >= 25:
			m := c.msg()
			m.Set(paramVIN, protocol.String(text(d[:17])))
			m.Set(paramVehicleType, protocol.Int(int64(le32(d[17:]))))
			m.Set(paramPropulsion, protocol.Int(int64(le32(d[21:]))))
		case c.sst == serviceAuth && srt == srAuthInfo:
			ok = c.authInfo(d)
		case c.sst == serviceAuth && srt == srModuleData:
			ok = c.moduleData(d)
		case c.sst == serviceCommands && srt == srCommandData:
			ok = c.command(d)
		case srt == srPosData:
			ok = c.posData(d)
		case srt == srExtPosData:
			ok = c.extPosData(d)
		case srt == srADSensors:
			ok = c.adSensors(d)
		case srt == srCounters:
			ok = c.counters(d)
		case srt == srAccel && len(d) == 5, srt == srState:
			// Some terminals send the state subrecord under type 20, the
			// acceleration type; its 5-byte length tells them apart.
			ok = c.state(d)
		case srt == srAbsDigSens && len(d) == 2:
			n := int(d[0]>>4) | int(d[1])<<4
			c.msg().Set(indexed(dinNames, n), protocol.Bool(d[0]&0x0F != 0))
		case srt == srAbsAnSens && len(d) == 4:
			c.msg().Set(indexed(analogNames, int(d[0])), protocol.Int(int64(le24(d[1:]))))
		case srt == srAbsCounter && len(d) == 4:
			c.msg().Set(indexed(counterNames, int(d[0])), protocol.Int(int64(le24(d[1:]))))
		case srt == srAbsLoopIn && len(d) == 2:
			n := int(le16(d) & 0x0FFF)
			c.msg().Set(indexed(loopInNames, n), protocol.Int(int64(d[1]>>4)))
		case srt == srLiquidLevel:
			ok = c.liquidLevel(d)
		default:
			ok = false
		}
		if !ok {
			c.msg().Set(subrecordNames[srt], protocol.String(binfield.HexString(d)))
		}
		if srt < 64 {
			c.seen |= 1 << srt
		}
		rd, off = rd[3+srl:], off+3+srl
	}
	return identified, nil
}

// termIdent decodes EGTS_SR_TERM_IDENT: TID, flags, then the optional
// HDID, IMEI, IMSI, language code, network id, buffer size and MSISDN the
// flags announce. The ident is the IMEI when sent (and not all zeros),
// else the TID.
func (c *recordCtx) termIdent(d []byte) bool {
	if len(d) < 5 {
		return false
	}
	tid, fl := le32(d), d[4]
	p := 5
	var imei, imsi, msisdn string
	var hdid, bs uint16
	var lng, nid []byte
	field := func(bit byte, n int) []byte {
		if fl&bit == 0 || p+n > len(d) {
			return nil
		}
		v := d[p : p+n]
		p += n
		return v
	}
	if v := field(0x01, 2); v != nil {
		hdid = le16(v)
	}
	if v := field(0x02, 15); v != nil {
		imei = text(v)
	}
	if v := field(0x04, 16); v != nil {
		imsi = text(v)
	}
	lng = field(0x08, 3)
	// bit 4 (SSRA) is a flag without a field
	nid = field(0x20, 3)
	if v := field(0x40, 2); v != nil {
		bs = le16(v)
	}
	if v := field(0x80, 15); v != nil {
		msisdn = text(v)
	}
	ident := strconv.FormatUint(uint64(tid), 10)
	if imei != "" && trimZeros(imei) != "" {
		ident = imei
	}
	if ident != c.s.ident {
		c.s.ident = ident
	}
	c.s.tid = tid
	m := c.msg()
	m.Set(protocol.ParamIdent, protocol.String(c.s.ident))
	m.Set(paramTID, protocol.Int(int64(tid)))
	if fl&0x01 != 0 {
		m.Set(paramHDID, protocol.Int(int64(hdid)))
	}
	if imei != "" {
		m.Set(paramIMEI, protocol.String(imei))
	}
	if imsi != "" {
		m.Set(paramIMSI, protocol.String(imsi))
	}
	if lng != nil {
		m.Set(paramLanguage, protocol.String(text(lng)))
	}
	if nid != nil {
		m.Set(paramNetwork, protocol.String(binfield.HexString(nid)))
	}
	if fl&0x40 != 0 {
		m.Set(paramBuffer, protocol.Int(int64(bs)))
	}
	if msisdn != "" {
		m.Set(paramMSISDN, protocol.String(msisdn))
	}
	return true
}

// authInfo decodes EGTS_SR_AUTH_INFO: user name and password, each
// NUL-terminated, and an optional server sequence. The password is not
// kept.
func (c *recordCtx) authInfo(d []byte) bool {
	name, _, ok := cutZero(d)
	if !ok {
		return false
	}
	c.msg().Set(paramUser, protocol.String(text(name)))
	return true
}

// moduleData decodes EGTS_SR_MODULE_DATA: type, vendor id, firmware and
// software versions, modification, state, then NUL-terminated serial
// number and description.
func (c *recordCtx) moduleData(d []byte) bool {
	if len(d) < 11 {
		return false
	}
	m := c.msg()
	m.Set(paramModuleType, protocol.Int(int64(d[0])))
	m.Set(paramVendor, protocol.Int(int64(le32(d[1:]))))
	m.Set(paramFirmware, protocol.String(version(le16(d[5:]))))
	m.Set(paramSoftware, protocol.String(version(le16(d[7:]))))
	m.Set(paramModuleState, protocol.Int(int64(d[10])))
	rest := d[11:]
	if sn, tail, ok := cutZero(rest); ok {
		if v := text(sn); v != "" {
			m.Set(paramModuleSerial, protocol.String(v))
		}
		if desc, _, ok := cutZero(tail); ok && len(desc) > 0 {
			m.Set(paramModuleDesc, protocol.String(text(desc)))
		}
	}
	return true
}

func version(v uint16) string {
	return strconv.Itoa(int(v>>8)) + "." + strconv.Itoa(int(v&0xFF))
}

// posData decodes EGTS_SR_POS_DATA: navigation time, latitude and
// longitude (modulus scaled to 0xFFFFFFFF for 90 and 180 degrees), flags,
// speed with the altitude sign and direction's high bit, direction,
// odometer (3 bytes, 0.1 km), digital inputs, source (why the point was
// made), then the altitude (3 bytes) when flagged and the source data.
func (c *recordCtx) posData(d []byte) bool {
	if len(d) < 21 {
		return false
	}
	if c.pos {
		c.m, c.seen = nil, 0 // a second position in the record: a message of its own
	}
	m := c.msg()
	c.pos = true
	fl := d[12]
	lat := float64(le32(d[4:])) * 90 / math.MaxUint32
	lon := float64(le32(d[8:])) * 180 / math.MaxUint32
	if fl&0x20 != 0 && lat != 0 {
		lat = -lat
	}
	if fl&0x40 != 0 && lon != 0 {
		lon = -lon
	}
	spd := le16(d[13:])
	dir := int(d[15]) | int(spd>>15)<<8
	ts := protocol.Int(int64(le32(d)) + epoch2010)
	if c.hasTM {
		m.Set(protocol.ParamTimestamp, ts)
	} else {
		m.Add(protocol.ParamTimestamp, ts)
	}
	m.Add(protocol.ParamLatitude, protocol.Float(round7(lat)))
	m.Add(protocol.ParamLongitude, protocol.Float(round7(lon)))
	m.Add(protocol.ParamSpeed, protocol.Float(float64(spd&0x3FFF)/10))
	m.Add(protocol.ParamDirection, protocol.Int(int64(dir)))
	m.Add(protocol.ParamValid, protocol.Bool(fl&0x01 != 0))
	m.Add(paramFix3D, protocol.Bool(fl&0x02 != 0))
	if fl&0x04 != 0 {
		m.Add(paramPZ90, protocol.Bool(true))
	}
	m.Add(paramBuffered, protocol.Bool(fl&0x08 != 0))
	m.Add(paramMoving, protocol.Bool(fl&0x10 != 0))
	m.Add(paramMileage, protocol.Float(float64(le24(d[16:]))/10))
	m.Add(paramDIN, protocol.Int(int64(d[19])))
	m.Add(paramSource, protocol.Int(int64(d[20])))
	p := 21
	if fl&0x80 != 0 && len(d) >= p+3 {
		alt := int64(le24(d[p:]))
		if spd&0x4000 != 0 {
			alt = -alt
		}
		m.Add(protocol.ParamAltitude, protocol.Int(alt))
		p += 3
	}
	if len(d) >= p+2 {
		m.Add(paramSourceData, protocol.Int(int64(le16(d[p:]))))
		p += 2
	}
	if p < len(d) {
		m.Set(paramTail, protocol.String(binfield.HexString(d[p:])))
	}
	return true
}

// round7 keeps 7 decimals (1 cm): the 32-bit scaling gives no more, and
// the rounding keeps the JSON short and stable.
func round7(v float64) float64 {
	if v = math.Round(v*1e7) / 1e7; v == 0 {
		return 0 // not -0, which JSON cannot tell apart
	}
	return v
}

// extPosData decodes EGTS_SR_EXT_POS_DATA: flags, then VDOP, HDOP, PDOP
// (0.01), satellites and navigation systems as flagged.
func (c *recordCtx) extPosData(d []byte) bool {
	if len(d) < 1 {
		return false
	}
	fl, p := d[0], 1
	c.msg()
	for _, f := range [3]struct {
		bit  byte
		name string
	}{{0x01, paramVDOP}, {0x02, protocol.ParamHDOP}, {0x04, paramPDOP}} {
		if fl&f.bit != 0 {
			if p+2 > len(d) {
				return false
			}
			c.put(f.name, protocol.Float(float64(le16(d[p:]))/100))
			p += 2
		}
	}
	if fl&0x08 != 0 {
		if p+1 > len(d) {
			return false
		}
		c.put(protocol.ParamSatellites, protocol.Int(int64(d[p])))
		p++
	}
	if fl&0x10 != 0 {
		if p+2 > len(d) {
			return false
		}
		c.put(paramNavSystems, protocol.Int(int64(le16(d[p:]))))
	}
	return true
}

// adSensors decodes EGTS_SR_AD_SENSORS_DATA: which additional digital
// input bytes follow, the digital outputs, which analog inputs follow,
// then those bytes and 3-byte analog values. Inputs join the position's
// inputs 1-8 in "din" (additional byte n holds inputs 8n+1 … 8n+8).
func (c *recordCtx) adSensors(d []byte) bool {
	if len(d) < 3 {
		return false
	}
	dioe, dout, asfe := d[0], d[1], d[2]
	p := 3
	m := c.msg()
	var din uint64
	if v, ok := m.Int(paramDIN); ok {
		din = uint64(v)
	}
	for i := range 8 {
		if dioe&(1<<i) != 0 {
			if p >= len(d) {
				return false
			}
			din |= uint64(d[p]) << (8 * (i + 1))
			p++
		}
	}
	m.Set(paramDIN, protocol.Uint(din))
	c.put(paramDOUT, protocol.Int(int64(dout)))
	for i := range 8 {
		if asfe&(1<<i) != 0 {
			if p+3 > len(d) {
				return false
			}
			c.put(indexed(analogNames, i+1), protocol.Int(int64(le24(d[p:]))))
			p += 3
		}
	}
	return true
}

// counters decodes EGTS_SR_COUNTERS_DATA: which of counters 1-8 follow,
// then their 3-byte values.
func (c *recordCtx) counters(d []byte) bool {
	if len(d) < 1 {
		return false
	}
	p := 1
	c.msg()
	for i := range 8 {
		if d[0]&(1<<i) != 0 {
			if p+3 > len(d) {
				return false
			}
			c.put(indexed(counterNames, i+1), protocol.Int(int64(le24(d[p:]))))
			p += 3
		}
	}
	return true
}

// state decodes EGTS_SR_STATE_DATA: the terminal's state, main power,
// backup battery and internal battery voltages (0.1 V) and flags
// (navigation module on, internal and backup battery in use).
func (c *recordCtx) state(d []byte) bool {
	if len(d) < 5 {
		return false
	}
	c.msg()
	c.put(paramState, protocol.Int(int64(d[0])))
	c.put(paramPower, protocol.Float(float64(d[1])/10))
	c.put(paramBackup, protocol.Float(float64(d[2])/10))
	c.put(paramBattery, protocol.Float(float64(d[3])/10))
	c.put(paramGNSS, protocol.Bool(d[4]&0x04 != 0))
	c.put(paramOnBattery, protocol.Bool(d[4]&0x02 != 0))
	c.put(paramOnBackup, protocol.Bool(d[4]&0x01 != 0))
	return true
}

// liquidLevel decodes EGTS_SR_LIQUID_LEVEL_SENSOR: flags (error, unit,
// raw-data flag, sensor number 0-7), module address, then a 4-byte level
// in the flagged unit (raw, 0.1 % or 0.1 l), or the sensor's raw bytes.
func (c *recordCtx) liquidLevel(d []byte) bool {
	if len(d) < 3 {
		return false
	}
	fl := d[0]
	n := int(fl&0x07) + 1
	c.msg()
	if fl&0x40 != 0 {
		c.put(indexed(llsErrorNames, n), protocol.Bool(true))
	}
	rest := d[3:]
	if fl&0x08 != 0 {
		c.put(indexed(llsRawNames, n), protocol.String(binfield.HexString(rest)))
		return true
	}
	if len(rest) < 4 {
		return false
	}
	v := le32(rest)
	switch fl >> 4 & 3 {
	case 1:
		c.put(indexed(llsLevelNames, n), protocol.Float(float64(v)/10))
	case 2:
		c.put(indexed(llsVolumeNames, n), protocol.Float(float64(v)/10))
	default:
		c.put(indexed(llsValueNames, n), protocol.Int(int64(v)))
	}
	return true
}

// text reads a text field: NUL padding dropped, non-printable bytes make
// it hex.
func text(b []byte) string {
	end := len(b)
	for end > 0 && (b[end-1] == 0 || b[end-1] == ' ') {
		end--
	}
	b = b[:end]
	for _, c := range b {
		if c < 0x20 || c >= 0x7F {
			return binfield.HexString(b)
		}
	}
	return string(b)
}

func trimZeros(s string) string {
	for len(s) > 0 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// cutZero cuts b at its first NUL.
func cutZero(b []byte) (before, after []byte, ok bool) {
	for i, c := range b {
		if c == 0 {
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}

// names is a family of indexed names ("din#3"): the small numbers come
// from a table so that decoding does not build strings.
type names struct {
	prefix string
	small  [17]string
}

func family(prefix string) *names {
	f := &names{prefix: prefix}
	for i := range f.small {
		f.small[i] = prefix + strconv.Itoa(i)
	}
	return f
}

// indexed returns the family's name for n.
func indexed(f *names, n int) string {
	if n >= 0 && n < len(f.small) {
		return f.small[n]
	}
	return f.prefix + strconv.Itoa(n)
}

var (
	dinNames       = family("din#")
	analogNames    = family(paramAnalog)
	counterNames   = family(paramCounter)
	loopInNames    = family(paramLoopIn)
	llsErrorNames  = family(paramLLSError)
	llsRawNames    = family(paramLLSRaw)
	llsLevelNames  = family(paramLLSLevel)
	llsVolumeNames = family(paramLLSVolume)
	llsValueNames  = family(paramLLSValue)
)

// subrecordNames are the names unknown subrecords are kept under:
// "custom.subrecord.<type>", hex.
var subrecordNames = func() (names [256]string) {
	for i := range names {
		names[i] = "custom.subrecord." + strconv.Itoa(i)
	}
	return
}()
