package suntech

import (
	"bytes"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Session is one TCP connection or one UDP remote address. It remembers
// the device ID, which dialect the device speaks (for commands), and the
// parts of a crash report. It is not safe for concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	ident     string
	prefix    string // legacy header prefix ("ST300", "SA200", …); "" before one
	universal bool   // the device sent a universal-protocol report
	firmware  string // the last firmware version, kept so that repeats do not allocate

	fields [][]byte // reused by every text report

	crash      []byte // crash report parts received so far
	crashParts int    // the part count they announced
	crashNext  int    // the next part expected
}

// maxFields bounds the fields of one text report; the longest layouts
// have about 60.
const maxFields = 256

// ID returns the device ID once a report has carried it, or "".
func (s *Session) ID() string { return s.ident }

// Decode decodes one frame: over TCP as [Codec.Split] cut it, over UDP one
// datagram.
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	if len(frame) == 0 {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "empty frame")
	}
	switch b := frame[0]; {
	case b == zipSTX:
		return s.decodeZip(frame, r)
	case b >= 0x80:
		return s.decodeBinary(frame, r)
	case bytes.HasPrefix(frame, []byte("CRR;")):
		return s.decodeCrash(frame, r)
	}
	return s.decodeText(bytes.TrimRight(frame, "\r\n"), r)
}

// report is what a text report's header says.
type report struct {
	typ    []byte // STT, ALT, …
	prefix []byte // ST300, SA200, …; nil in the universal protocol
}

func (s *Session) decodeText(b []byte, r *protocol.Result) error {
	if len(b) == 0 {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "empty report")
	}
	if b[0] == '-' || b[0] == '+' { // "-Error", "+OK": a bare answer to a command
		s.answer(r, b, nil)
		return nil
	}
	s.fields = textfield.Split(s.fields, b, ';', maxFields)
	f := s.fields
	hdr := f[0]
	if isUniversalHeader(hdr) {
		s.universal = true
		return s.decodeUniversal(b, f, r)
	}
	if len(hdr) < 5 || !isHeaderText(hdr) {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "report header "+strconv.Quote(string(hdr[:min(len(hdr), 16)])))
	}
	if len(hdr) == 5 && bytes.HasPrefix(hdr, []byte("ST9")) {
		return s.decode9(b, f, r)
	}
	rep := report{typ: hdr[len(hdr)-3:], prefix: hdr[:len(hdr)-3]}
	if string(s.prefix) != string(rep.prefix) {
		s.prefix = string(rep.prefix)
	}
	if len(f) > 1 && string(f[1]) == "Res" {
		return s.decodeLegacyAnswer(b, f, rep, r)
	}
	if len(f) < 2 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "no device ID")
	}
	if err := s.setIdent(f[1], fieldOffset(f, 1), r); err != nil {
		return err
	}
	switch string(rep.typ) {
	case "ALV":
		return nil // keep-alive: nothing to store, no answer expected
	case "STT", "EMG", "EVT", "ALT", "UEX":
		if bytes.HasPrefix(rep.prefix, []byte("ST4")) {
			break // the ST4xx personal trackers' own layout: kept as sent
		}
		return s.decodeLegacy(b, f, rep, r)
	case "HTE":
		return s.decodeTravel(b, f, rep, r)
	}
	// A report type the manuals we built from do not lay out: kept whole.
	m := s.begin(r, 4)
	m.Add(paramReportType, protocol.String(textfield.Text(rep.typ)))
	if rest := afterField(b, f, 1); len(rest) > 0 {
		m.Add(paramReportTail, protocol.String(textfield.Text(rest)))
	}
	return nil
}

// isUniversalHeader reports a universal-protocol header: two to four
// capital letters ("STT", "ALT", "RES", "BLE").
func isUniversalHeader(h []byte) bool {
	if len(h) < 2 || len(h) > 4 {
		return false
	}
	for _, c := range h {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func isHeaderText(h []byte) bool {
	for _, c := range h {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// setIdent takes the device ID from a report: decimal digits, 1 to 20 of
// them (9 in the legacy protocol, 10 in the universal one, 6 on SA200).
func (s *Session) setIdent(id []byte, off int, r *protocol.Result) error {
	if len(id) == 0 || len(id) > 20 || !textfield.IsDigits(id) {
		return protocol.Errorf(Name, off, protocol.ErrMalformed, "device ID is not 1 to 20 digits")
	}
	if s.ident != string(id) { // the comparison does not allocate
		s.ident = string(id)
	}
	r.Ident = s.ident
	return nil
}

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result, n int) *protocol.Message {
	return r.NewMessageFor(s.ident, n)
}

// fieldOffset is the byte offset of field i in the report.
func fieldOffset(f [][]byte, i int) int {
	off := 0
	for j := 0; j < i && j < len(f); j++ {
		off += len(f[j]) + 1
	}
	return off
}

// afterField returns the report's bytes after field i and its ';'.
func afterField(b []byte, f [][]byte, i int) []byte {
	off := fieldOffset(f, i+1)
	if off > len(b) {
		return nil
	}
	return b[off:]
}

func (s *Session) setFirmware(m *protocol.Message, v []byte) {
	if len(v) == 0 {
		return
	}
	if s.firmware != string(v) {
		s.firmware = textfield.Text(v)
	}
	m.Add(paramFirmware, protocol.String(s.firmware))
}

// answer records a device's answer to a command: a Result.Responses entry
// and, once the device is known, a message with command.response, so that
// an answer nobody waits for is stored.
func (s *Session) answer(r *protocol.Result, text []byte, typ []byte) *protocol.Message {
	t := textfield.Text(text)
	r.Responses = append(r.Responses, protocol.CommandResponse{Text: t})
	if s.ident == "" {
		return nil
	}
	r.Ident = s.ident
	m := s.begin(r, 4)
	m.Add(protocol.ParamCommandResponse, protocol.String(t))
	if len(typ) > 0 {
		m.Add(paramReportType, protocol.String(textfield.Text(typ)))
	}
	return m
}

// decodeLegacyAnswer: "ST300CMD;Res;<id>;<version>;<command>[;…]", the
// answer to a command of any type (CMD, RPT, NTW, HGD, …).
func (s *Session) decodeLegacyAnswer(b []byte, f [][]byte, rep report, r *protocol.Result) error {
	if len(f) < 3 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "answer without a device ID")
	}
	if err := s.setIdent(f[2], fieldOffset(f, 2), r); err != nil {
		return err
	}
	rest := afterField(b, f, 2)
	var version []byte
	if len(f) > 4 {
		version = f[3]
		rest = afterField(b, f, 3)
	}
	m := s.answer(r, rest, rep.typ)
	s.setFirmware(m, version)
	return nil
}

// udpAck sets the acknowledgement a legacy device waits for over UDP
// ("ST300ACK;<id>"): without it the device sends the report again.
func (s *Session) udpAck(r *protocol.Result, prefix []byte) {
	if s.transport != protocol.UDP || len(prefix) == 0 {
		return
	}
	r.Reply = append(r.Reply[:0], prefix...)
	r.Reply = append(r.Reply, "ACK;"...)
	r.Reply = append(r.Reply, s.ident...)
}

// setDate reads "yyyymmdd" and "hh:mm:ss" into timestamp; a date the device
// could not set (no fix since power-up) is left out.
func setDate(m *protocol.Message, date, clock []byte) {
	if len(date) != 8 || len(clock) != 8 || clock[2] != ':' || clock[5] != ':' {
		return
	}
	y1, ok1 := textfield.Digits2(date, 0)
	y2, ok2 := textfield.Digits2(date, 2)
	mo, ok3 := textfield.Digits2(date, 4)
	d, ok4 := textfield.Digits2(date, 6)
	h, ok5 := textfield.Digits2(clock, 0)
	mi, ok6 := textfield.Digits2(clock, 3)
	sec, ok7 := textfield.Digits2(clock, 6)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return
	}
	if t, ok := textfield.Unix(y1*100+y2, mo, d, h, mi, sec); ok {
		m.Add(protocol.ParamTimestamp, protocol.Int(t))
	}
}

// isDate reports an 8-digit "yyyymmdd" field.
func isDate(b []byte) bool {
	return len(b) == 8 && textfield.IsDigits(b) && (b[0] == '1' || b[0] == '2')
}

// isCoord reports a coordinate field: signed or not, with a decimal point.
func isCoord(b []byte) bool {
	if len(b) < 3 || bytes.IndexByte(b, '.') < 0 {
		return false
	}
	_, ok := textfield.Decimal(b)
	return ok
}

// addPosition adds latitude and longitude when both read and lie in range.
func addPosition(m *protocol.Message, lat, lon []byte) bool {
	la, ok1 := textfield.Decimal(lat)
	lo, ok2 := textfield.Decimal(lon)
	if !ok1 || !ok2 || la < -90 || la > 90 || lo < -180 || lo > 180 {
		return false
	}
	m.Add(protocol.ParamLatitude, protocol.Float(la))
	m.Add(protocol.ParamLongitude, protocol.Float(lo))
	return true
}

func addDecimal(m *protocol.Message, name string, b []byte) {
	if v, ok := textfield.Decimal(b); ok {
		m.Add(name, protocol.Float(v))
	}
}

func addUint(m *protocol.Message, name string, b []byte) {
	if v, ok := textfield.Uint(b); ok {
		m.Add(name, protocol.Uint(v))
	}
}

func addHex(m *protocol.Message, name string, b []byte) {
	if v, ok := textfield.Hex(b); ok {
		m.Add(name, protocol.Uint(v))
	}
}

// addCourse adds speed (km/h) and direction (degrees).
func addCourse(m *protocol.Message, spd, crs []byte) {
	if v, ok := textfield.Decimal(spd); ok && v >= 0 {
		m.Add(protocol.ParamSpeed, protocol.Float(v))
	}
	if v, ok := textfield.Decimal(crs); ok && v >= 0 && v <= 360 {
		m.Add(protocol.ParamDirection, protocol.Float(v))
	}
}

// addTextOrNumber adds a field as a number when it reads as one, else as
// text.
func addTextOrNumber(m *protocol.Message, name string, b []byte) {
	if v, ok := textfield.Decimal(b); ok {
		m.Add(name, protocol.Float(v))
		return
	}
	m.Add(name, protocol.String(textfield.Text(b)))
}
