package calamp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"

	"github.com/gnssgate/gnssgate/protocol"
)

// decoder decodes one message's contents into a Result.
type decoder struct {
	s      *Session
	r      *protocol.Result
	b      []byte // the datagram
	off    int    // offset of the contents in it
	badLen bool
}

// begin starts a message with the unit's ident, the message type and its
// sequence number.
func (d *decoder) begin(n int, typ byte, seq uint16) *protocol.Message {
	m := d.r.NewMessage()
	m.Grow(n)
	if d.s.ident != "" {
		m.Add(protocol.ParamIdent, protocol.String(d.s.ident))
	}
	m.Add(paramMessageType, protocol.Int(int64(typ)))
	m.Add(paramSeqnum, protocol.Int(int64(seq)))
	return m
}

// short reports a length field that runs past the datagram: an error, or
// in lenient mode a mark on the message.
func (d *decoder) short(at int, what string) error {
	if !d.s.codec.Lenient {
		return protocol.Errorf(Name, at, protocol.ErrChecksum, what+" runs past the end of the datagram")
	}
	d.badLen = true
	return nil
}

// locationLen is the size of the full location header of event, locate,
// user and application messages.
const locationLen = 36

// located decodes the messages that start with the full location header:
//
//	update time(4) time of fix(4) latitude(4) longitude(4) altitude(4) speed(4)
//	heading(2) satellites(1) fix status(1) carrier(2) RSSI(2) comm state(1)
//	HDOP(1) inputs(1) unit status(1)
//
// then, for event and locate reports, event index(1) event code(1)
// accumulator count(1) spare(1) and the accumulators (4 each); for user
// messages route(1) ID(1) length(2) and the data; for application
// messages type(2) length(2) and the data.
func (d *decoder) located(c []byte, typ byte, seq uint16) error {
	if len(c) < locationLen {
		return protocol.Errorf(Name, len(d.b), protocol.ErrTruncated, "location header")
	}
	m := d.begin(32, typ, seq)
	update := binary.BigEndian.Uint32(c)
	fix := binary.BigEndian.Uint32(c[4:])
	m.Add(protocol.ParamTimestamp, protocol.Int(int64(update)))
	lat := float64(int32(binary.BigEndian.Uint32(c[8:]))) / 1e7
	lon := float64(int32(binary.BigEndian.Uint32(c[12:]))) / 1e7
	if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
	}
	m.Add(protocol.ParamAltitude, protocol.Float(float64(int32(binary.BigEndian.Uint32(c[16:])))/100))
	m.Add(protocol.ParamSpeed, protocol.Float(float64(binary.BigEndian.Uint32(c[20:]))*36/1000)) // cm/s
	if h := binary.BigEndian.Uint16(c[24:]); h <= 360 {
		m.Add(protocol.ParamDirection, protocol.Int(int64(h)))
	}
	m.Add(protocol.ParamSatellites, protocol.Int(int64(c[26])))
	m.Add(protocol.ParamValid, protocol.Bool(c[27]&0x08 == 0)) // bit 3: invalid fix
	if fix != update {
		m.Add(paramFixTime, protocol.Int(int64(fix)))
	}
	m.Add(paramFixStatus, protocol.Int(int64(c[27])))
	m.Add(paramCarrier, protocol.Int(int64(binary.BigEndian.Uint16(c[28:]))))
	m.Add(paramSignalDBM, protocol.Int(int64(int16(binary.BigEndian.Uint16(c[30:])))))
	m.Add(paramCommState, protocol.Int(int64(c[32])))
	m.Add(protocol.ParamHDOP, protocol.Float(float64(c[33])/10))
	addInputs(m, c[34])
	m.Add(paramUnitStatus, protocol.Int(int64(c[35])))
	rest := c[locationLen:]
	at := d.off + locationLen
	switch typ {
	case msgEvent, msgLocate:
		if len(rest) < 4 {
			return protocol.Errorf(Name, len(d.b), protocol.ErrTruncated, "event fields")
		}
		m.Add(paramEventIndex, protocol.Int(int64(rest[0])))
		m.Add(paramEvent, protocol.Int(int64(rest[1])))
		return d.accumulators(m, rest[2], rest[4:], at+4)
	case msgUser, msgUserAcc:
		return d.userMessage(m, rest, at)
	case msgApplication, msgAppAcc:
		if len(rest) < 4 {
			return protocol.Errorf(Name, len(d.b), protocol.ErrTruncated, "application message header")
		}
		n := int(binary.BigEndian.Uint16(rest[2:]))
		m.Add(paramAppType, protocol.Int(int64(binary.BigEndian.Uint16(rest))))
		data := rest[4:]
		if n > len(data) {
			if err := d.short(at+2, "application message length"); err != nil {
				return err
			}
			n = len(data)
		}
		if n > 0 {
			m.Add(paramAppData, protocol.String(hex.EncodeToString(data[:n])))
		}
		if tail := data[n:]; len(tail) > 0 {
			m.Add(paramTail, protocol.String(hex.EncodeToString(tail)))
		}
	}
	return nil
}

// addInputs reads the inputs byte: bit 0 the ignition, bits 1–7 inputs
// 1–7 (din, input 1 = bit 0).
func addInputs(m *protocol.Message, in byte) {
	m.Add(paramIgnition, protocol.Bool(in&1 != 0))
	m.Add(paramDin, protocol.Int(int64(in>>1)))
}

// accumulators reads the accumulator list: count in the low 6 bits of
// the count byte, then 4 bytes each (custom.accumulator#1, #2, …).
func (d *decoder) accumulators(m *protocol.Message, count byte, list []byte, at int) error {
	n := int(count & 0x3f)
	if n*4 > len(list) {
		if err := d.short(at, "accumulator count"); err != nil {
			return err
		}
		n = len(list) / 4
	}
	for i := 0; i < n; i++ {
		m.Add(accumulatorNames[i], protocol.Int(int64(binary.BigEndian.Uint32(list[4*i:]))))
	}
	if tail := list[4*n:]; len(tail) > 0 {
		m.Add(paramTail, protocol.String(hex.EncodeToString(tail)))
	}
	return nil
}

// userMessage reads route(1) ID(1) length(2) and the data: the bytes a
// device on the unit's serial port sent.
func (d *decoder) userMessage(m *protocol.Message, rest []byte, at int) error {
	if len(rest) < 4 {
		return protocol.Errorf(Name, len(d.b), protocol.ErrTruncated, "user message header")
	}
	m.Add(paramUserRoute, protocol.Int(int64(rest[0])))
	m.Add(paramUserID, protocol.Int(int64(rest[1])))
	n := int(binary.BigEndian.Uint16(rest[2:]))
	data := rest[4:]
	if n > len(data) {
		if err := d.short(at+2, "user message length"); err != nil {
			return err
		}
		n = len(data)
	}
	addData(m, data[:n])
	if tail := data[n:]; len(tail) > 0 {
		m.Add(paramTail, protocol.String(hex.EncodeToString(tail)))
	}
	return nil
}

// addData keeps a user message as text when it is printable (trailing
// line ends dropped), else in hex.
func addData(m *protocol.Message, data []byte) {
	if len(data) == 0 {
		return
	}
	text := bytes.TrimRight(data, "\r\n\x00")
	for _, c := range text {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c >= 0x7f {
			m.Add(paramUserHex, protocol.String(hex.EncodeToString(data)))
			return
		}
	}
	m.Add(paramUserData, protocol.String(string(text)))
}

// mini decodes a mini event report:
//
//	update time(4) latitude(4) longitude(4) heading(2) speed(1, km/h)
//	fix status and satellites(1) comm state(1) inputs(1) event code(1)
//	accumulator count(1) accumulators(4 each)
//
// The satellites are the low four bits of their byte; bit 5 marks an
// invalid fix (as open decoders and the captures read it).
func (d *decoder) mini(c []byte, seq uint16) error {
	if len(c) < 20 {
		return protocol.Errorf(Name, len(d.b), protocol.ErrTruncated, "mini event report")
	}
	m := d.begin(24, msgMiniEvent, seq)
	m.Add(protocol.ParamTimestamp, protocol.Int(int64(binary.BigEndian.Uint32(c))))
	lat := float64(int32(binary.BigEndian.Uint32(c[4:]))) / 1e7
	lon := float64(int32(binary.BigEndian.Uint32(c[8:]))) / 1e7
	if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
	}
	if h := binary.BigEndian.Uint16(c[12:]); h <= 360 {
		m.Add(protocol.ParamDirection, protocol.Int(int64(h)))
	}
	m.Add(protocol.ParamSpeed, protocol.Int(int64(c[14])))
	m.Add(protocol.ParamSatellites, protocol.Int(int64(c[15]&0x0f)))
	m.Add(protocol.ParamValid, protocol.Bool(c[15]&0x20 == 0))
	m.Add(paramFixStatus, protocol.Int(int64(c[15]>>4)))
	m.Add(paramCommState, protocol.Int(int64(c[16])))
	addInputs(m, c[17])
	m.Add(paramEvent, protocol.Int(int64(c[18])))
	return d.accumulators(m, c[19], c[20:], d.off+20)
}

// ack decodes the unit's acknowledgement of a command: the acknowledged
// message's type, the ACK/NAK code, a spare byte and the unit's
// application version. It answers the command sent with the same
// sequence number.
func (d *decoder) ack(c []byte, seq uint16) error {
	if len(c) < 3 {
		return protocol.Errorf(Name, len(d.b), protocol.ErrTruncated, "acknowledgement")
	}
	code := c[1]
	text := "NAK: code " + itoa(int(code))
	if int(code) < len(nakReasons) {
		text = nakReasons[code]
	}
	resp := protocol.CommandResponse{Text: text}
	for i := range d.s.pending {
		if p := &d.s.pending[i]; p.used && p.seq == seq {
			resp.ID, resp.HasID = p.id, true
			p.used = false
			break
		}
	}
	d.r.Responses = append(d.r.Responses, resp)
	m := d.begin(8, msgAck, seq)
	m.Add(protocol.ParamCommandResponse, protocol.String(text))
	if len(c) >= 6 {
		if v := printable(c[3:6]); v != "" {
			m.Add(paramFirmware, protocol.String(v))
		}
	}
	return nil
}

// idReport decodes an ID report: script version(1), configuration
// version(1), application version(3), vehicle class(1), unit status(1),
// modem selection(1), application ID(1), mobile ID type(1), query ID(4),
// ESN(8), IMEI(8), IMSI(8), MIN(8), ICCID(10), all identifiers packed BCD
// padded with F, then extension strings ("KEY:value", each ending in a
// zero byte).
func (d *decoder) idReport(c []byte, seq uint16) error {
	const fixed = 1 + 1 + 3 + 1 + 1 + 1 + 1 + 1 + 4 + 8 + 8 + 8 + 8 + 10
	if len(c) < fixed {
		return protocol.Errorf(Name, len(d.b), protocol.ErrTruncated, "ID report")
	}
	m := d.begin(24, msgID, seq)
	m.Add(paramScript, protocol.Int(int64(c[0])))
	m.Add(paramConfig, protocol.Int(int64(c[1])))
	if v := printable(c[2:5]); v != "" {
		m.Add(paramFirmware, protocol.String(v))
	} else {
		m.Add(paramFirmware, protocol.String(hex.EncodeToString(c[2:5])))
	}
	m.Add(paramVehicle, protocol.Int(int64(c[5])))
	m.Add(paramUnitStatus, protocol.Int(int64(c[6])))
	m.Add(paramModem, protocol.Int(int64(c[7])))
	m.Add(paramAppID, protocol.Int(int64(c[8])))
	m.Add(paramMobileType, protocol.Int(int64(c[9])))
	for _, f := range [...]struct {
		name     string
		from, to int
	}{{paramESN, 14, 22}, {paramIMEI, 22, 30}, {paramIMSI, 30, 38}, {paramMIN, 38, 46}, {paramICCID, 46, 56}} {
		var buf [20]byte
		if v, ok := mobileID(buf[:0], c[f.from:f.to]); ok {
			m.Add(f.name, protocol.String(string(v)))
		}
	}
	ext := c[fixed:]
	if len(ext) == 0 {
		return nil
	}
	js := []byte{'['}
	for len(ext) > 0 {
		i := bytes.IndexByte(ext, 0)
		if i < 0 {
			i = len(ext)
		}
		str := ext[:i]
		ext = ext[min(i+1, len(ext)):]
		if len(str) == 0 {
			continue
		}
		if len(js) > 1 {
			js = append(js, ',')
		}
		js = protocol.AppendJSONString(js, string(str))
		if v, ok := bytes.CutPrefix(str, []byte("VIN-INFO:VIN=")); ok {
			if j := bytes.IndexByte(v, ','); j >= 0 {
				v = v[:j]
			}
			if len(v) > 0 {
				m.Set(paramVIN, protocol.String(string(v)))
			}
		}
	}
	js = append(js, ']')
	if len(js) > 2 {
		m.Add(paramExtension, protocol.RawJSON(string(js)))
	}
	return nil
}

// printable returns b as a string when every byte is printable ASCII.
func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return ""
		}
	}
	return string(b)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
