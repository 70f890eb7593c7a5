package queclink

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// report is a text frame cut into its parts:
//
//	+RESP:GT<typ>,<version>,<imei>,[<vin>,]<name>,<body…>,<send time>,<count>$
type report struct {
	kind     byte   // 'R' +RESP, 'B' +BUFF, 'A' +ACK
	typ      []byte // "FRI"
	version  []byte
	imei     []byte
	vin      []byte
	name     []byte
	body     [][]byte
	extra    [][]byte // fields after the count number (a few old firmwares)
	send     int64
	hasSend  bool
	count    []byte
	hasCount bool
}

// parseReport cuts a text frame. f is the frame's fields.
func parseReport(f [][]byte) (rp report, err error) {
	head := f[0]
	var rest []byte
	switch {
	case bytes.HasPrefix(head, []byte("+RESP:GT")):
		rp.kind, rest = 'R', head[8:]
	case bytes.HasPrefix(head, []byte("+BUFF:GT")):
		rp.kind, rest = 'B', head[8:]
	case bytes.HasPrefix(head, []byte("+ACK:GT")):
		rp.kind, rest = 'A', head[7:]
	default:
		return rp, protocol.Errorf(Name, 0, protocol.ErrMalformed, "a text frame starts \"+RESP:GT\", \"+BUFF:GT\" or \"+ACK:GT\"")
	}
	if len(rest) != 3 || !isUpperAlnum(rest) {
		return rp, protocol.Errorf(Name, 6, protocol.ErrMalformed, "message type is not three letters")
	}
	rp.typ = rest
	i := 1
	if i < len(f) && isVersion(f[i]) && !(len(f[i]) == 15 && tf.IsDigits(f[i])) {
		rp.version = f[i]
		i++
	}
	if i >= len(f) || !isIMEI(f[i]) {
		return rp, protocol.Errorf(Name, 0, protocol.ErrMalformed, "no IMEI where the header has it")
	}
	rp.imei = f[i]
	i++
	// Trailer: <send time>,<count number>, searched from the end (a few
	// old firmwares put a field after the count).
	end := -1
	for k := len(f) - 1; k >= i+1 && k >= len(f)-3; k-- {
		if isCount(f[k]) && isTime(f[k-1]) {
			end = k - 1
			rp.count, rp.hasCount = f[k], true
			rp.extra = f[k+1:]
			break
		}
	}
	if end < 0 {
		// The count number missing: a frame ending in its send time.
		if k := len(f) - 1; k >= i && (len(f[k]) == 14 || len(f[k]) == 12) && tf.IsDigits(f[k]) {
			end = k
		} else {
			return rp, protocol.Errorf(Name, 0, protocol.ErrTruncated, "no send time and count number at the end of the frame")
		}
	}
	rp.send, rp.hasSend = timeOf(f[end])
	// Frames without a protocol version (the first GL100/GL200 firmwares)
	// have no device name either.
	if string(rp.typ) != "GSM" && i < end && len(rp.version) > 0 {
		rp.name = f[i]
		i++
		if rp.kind != 'A' && vinInHeader(rp.version) && i < end {
			// The GV500 family's reports always carry the VIN field, empty
			// when the vehicle has not told it.
			rp.vin, rp.name = rp.name, f[i]
			i++
		} else if isVIN(rp.name) && i < end {
			rp.vin, rp.name = rp.name, f[i]
			i++
		}
	}
	if i > end {
		i = end
	}
	rp.body = f[i:end]
	return rp, nil
}

// vinInHeader: the OBD models (GV500, GV500VC, GV500MAP) put <VIN> before
// <Device Name> in their reports.
func vinInHeader(version []byte) bool {
	if len(version) < 2 || len(version) > 6 {
		return false
	}
	a, b := upperByte(version[0]), upperByte(version[1])
	switch {
	case a == '1' && b == 'F', a == '2' && b == 'D', a == '3' && b == '6', a == '5' && b == 'E':
		return true
	}
	return false
}

func upperByte(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func isUpperAlnum(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isVersion: the protocol version, 6 hex characters (8 or 10 for later
// models).
func isVersion(b []byte) bool {
	return (len(b) == 6 || len(b) == 8 || len(b) == 10) && tf.IsHex(b)
}

// isIMEI: 15 digits, or a 14-character MEID of CDMA models.
func isIMEI(b []byte) bool {
	return len(b) >= 14 && len(b) <= 16 && tf.IsHex(b)
}

func isCount(b []byte) bool { return len(b) == 4 && tf.IsHex(b) }
func isTime(b []byte) bool  { return len(b) == 14 && tf.IsDigits(b) }

// isVIN: 17 letters and digits, as a vehicle identification number.
func isVIN(b []byte) bool {
	if len(b) != 17 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// timeOf reads YYYYMMDDHHMMSS (UTC).
func timeOf(b []byte) (int64, bool) {
	if len(b) < 12 || !tf.IsDigits(b) {
		return 0, false
	}
	y1, _ := tf.Digits2(b, 0)
	y2, _ := tf.Digits2(b, 2)
	mo, _ := tf.Digits2(b, 4)
	d, _ := tf.Digits2(b, 6)
	h, _ := tf.Digits2(b, 8)
	mi, _ := tf.Digits2(b, 10)
	sec := 0
	if len(b) >= 14 {
		sec, _ = tf.Digits2(b, 12)
	}
	return tf.Unix(y1*100+y2, mo, d, h, mi, sec)
}

// decodeText decodes "+RESP:…$", "+BUFF:…$" and "+ACK:…$".
func (s *Session) decodeText(frame []byte, r *protocol.Result) error {
	t := trimFrame(frame)
	f := tf.Split(s.fields, t, ',', maxFields)
	s.fields = f[:0]
	rp, err := parseReport(f)
	if err != nil {
		return err
	}
	s.setIdent(rp.imei)
	s.setVersion(rp.version)
	if string(rp.typ) == "HBD" {
		heartbeatAck(r, rp.version, rp.count)
		return nil
	}
	if rp.kind == 'A' {
		s.ack(&rp, r)
	} else {
		s.decodeReport(&rp, r)
	}
	if s.codec.SACK && rp.hasCount {
		sack(r, rp.count)
	}
	return nil
}

// footer ends every message of a report: what the header says.
func (s *Session) footer(m *protocol.Message, rp *report) {
	if len(rp.vin) > 0 {
		m.Set(paramVIN, protocol.String(tf.Text(rp.vin)))
	}
	if len(rp.name) > 0 {
		m.Add(paramDeviceName, protocol.String(tf.Text(rp.name)))
	}
	if rp.hasSend {
		m.Add(paramSendTime, protocol.Float(float64(rp.send)))
	}
	if rp.hasCount {
		if v, ok := tf.Hex(rp.count); ok {
			m.Add(paramSeqnum, protocol.Int(int64(v)))
		}
	}
	if len(rp.version) > 0 {
		m.Add(paramVersion, protocol.String(s.version))
		if s.model != "" {
			m.Add(paramModel, protocol.String(s.model))
		}
	}
	if rp.kind == 'B' {
		m.Add(paramBuffered, protocol.Bool(true))
	}
	if len(rp.version) == 0 && len(rp.extra) == 1 && len(rp.extra[0]) == 10 && tf.IsHex(rp.extra[0]) {
		// The first firmwares end a frame with their version.
		m.Add(paramVersion, protocol.String(string(rp.extra[0])))
	} else if len(rp.extra) > 0 {
		x := tf.Text(bytes.Join(rp.extra, []byte{','}))
		if t, ok := m.Str(paramTail); ok {
			m.Set(paramTail, protocol.String(t+";"+x))
		} else {
			m.Add(paramTail, protocol.String(x))
		}
	}
	m.Add(paramType, protocol.String(typeName(rp.typ)))
}

// typeName returns "GT"+typ without allocating for the common reports.
func typeName(t []byte) string {
	switch string(t) {
	case "FRI":
		return "GTFRI"
	case "ERI":
		return "GTERI"
	case "IGN":
		return "GTIGN"
	case "IGF":
		return "GTIGF"
	case "STT":
		return "GTSTT"
	case "INF":
		return "GTINF"
	case "SPD":
		return "GTSPD"
	case "GEO":
		return "GTGEO"
	case "RTL":
		return "GTRTL"
	case "SOS":
		return "GTSOS"
	}
	return "GT" + string(t)
}

// ack decodes "+ACK:GT<cmd>,<version>,<imei>,<name>,[<sub>,…]<serial>,<send time>,<count>$",
// the device's acknowledgement of a command: a response whose ID is the
// command's serial number, and a message with command.response.
func (s *Session) ack(rp *report, r *protocol.Result) {
	m := s.begin(r)
	if rp.hasSend {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(rp.send)))
	}
	resp := protocol.CommandResponse{}
	body := rp.body
	if n := len(body); n > 0 && isCount(body[n-1]) {
		if v, ok := tf.Hex(body[n-1]); ok {
			resp.ID, resp.HasID = uint32(v), true
			m.Add(paramSerial, protocol.String(string(body[n-1])))
		}
		body = body[:n-1]
	}
	txt := "GT" + string(rp.typ)
	if len(body) > 0 {
		txt += "," + tf.Text(bytes.Join(body, []byte{','}))
	}
	resp.Text = txt
	if rp.hasSend {
		resp.Timestamp = float64(rp.send)
	}
	m.Add(paramResponse, protocol.String(txt))
	s.footer(m, rp)
	r.Responses = append(r.Responses, resp)
}
