package watch

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Session is one TCP connection. It remembers the watch's ID, maker code
// and whether its frames carry an index, which replies and commands
// repeat, and the commands sent and not yet answered. It is not safe for
// concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	ident     string
	maker     string // SG, 3G, CS, ZJ, …
	index     bool   // frames carry a 4-digit index before the length
	nextIndex int

	fields  [][]byte
	scratch []byte           // reused to build JSON lists
	pending []pendingCommand // commands sent, oldest first
}

type pendingCommand struct {
	keyword string
	id      uint32
}

// maxPending bounds the commands remembered for matching answers.
const maxPending = 32

// header is a frame's "[MAKER*ID*[INDEX*]LEN*" part.
type header struct {
	maker, id, index, length []byte
	content                  []byte // between the header and the final ']'
	contentOff               int
}

// parseHeader splits a frame.
func parseHeader(b []byte) (h header, err error) {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return h, protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame is not [ … ]")
	}
	in := b[1 : len(b)-1]
	var f [4][]byte
	rest := in
	n := 0
	for ; n < 4; n++ {
		i := bytes.IndexByte(rest, '*')
		if i < 0 || i > 24 {
			break
		}
		f[n], rest = rest[:i], rest[i+1:]
	}
	if n < 3 {
		return h, protocol.Errorf(Name, 1, protocol.ErrMalformed, "no MAKER*ID*LEN* header")
	}
	h.maker, h.id = f[0], f[1]
	if n == 4 && isHex4(f[2]) && isHex4(f[3]) {
		h.index, h.length = f[2], f[3]
	} else {
		h.length = f[2]
		rest = in[len(f[0])+len(f[1])+len(f[2])+3:]
	}
	h.content = rest
	h.contentOff = len(b) - 1 - len(rest)
	if len(h.maker) == 0 || len(h.maker) > 4 || !isAlnum(h.maker) {
		return h, protocol.Errorf(Name, 1, protocol.ErrMalformed, "maker code")
	}
	if len(h.id) == 0 || len(h.id) > 20 || !textfield.IsDigits(h.id) {
		return h, protocol.Errorf(Name, 2+len(h.maker), protocol.ErrMalformed, "device ID is not 1 to 20 digits")
	}
	if !isHex4(h.length) {
		return h, protocol.Errorf(Name, h.contentOff-5, protocol.ErrMalformed, "length is not 4 hex digits")
	}
	return h, nil
}

func isHex4(b []byte) bool { return len(b) == 4 && textfield.IsHex(b) }

func isAlnum(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Decode decodes one frame as [Codec.Split] cut it.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	h, err := parseHeader(b)
	if err != nil {
		return err
	}
	n, _ := textfield.Hex(h.length)
	badLen := int(n) != len(h.content)
	if badLen && !s.codec.Lenient {
		return protocol.Errorf(Name, h.contentOff-5, protocol.ErrChecksum,
			"length field "+string(h.length)+", content holds "+strconv.FormatInt(int64(len(h.content)), 16))
	}
	if s.ident != string(h.id) {
		s.ident = string(h.id)
	}
	if s.maker != string(h.maker) {
		s.maker = string(h.maker)
	}
	s.index = h.index != nil
	r.Ident = s.ident
	first := len(r.Messages)
	c := h.content
	typ := c
	var body []byte
	if i := bytes.IndexByte(c, ','); i >= 0 {
		typ, body = c[:i], c[i+1:]
	}
	d := frame{s: s, r: r, h: h, typ: typ, body: body}
	switch {
	case isLocation(typ):
		err = d.location()
	case string(typ) == "LK":
		d.reply("LK")
		d.linkKeep()
	case string(typ) == "INIT":
		d.reply("INIT,1")
	case string(typ) == "TKQ", string(typ) == "TKQ2":
		d.reply(string(typ))
	case string(typ) == "TK", string(typ) == "TK2":
		d.reply(string(typ) + ",1")
		err = d.audio()
	case string(typ) == "JXTK":
		d.reply("JXTKR,1")
		err = d.audioPart()
	case string(typ) == "img":
		err = d.image()
	case isHealth(typ):
		d.health()
	default:
		d.answer()
	}
	if err != nil {
		r.Reply = r.Reply[:0]
		return err
	}
	for i := first; i < len(r.Messages); i++ {
		m := &r.Messages[i]
		if badLen {
			m.Add(protocol.ParamLengthInvalid, protocol.Bool(true))
		}
		if d.badEscape {
			m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
		}
	}
	return nil
}

// isLocation reports the location report types: UD (and UD2, UD3,
// UD_LTE, UD_WCDMA, …), AL (alarms) and WT.
func isLocation(t []byte) bool {
	return bytes.HasPrefix(t, []byte("UD")) || bytes.HasPrefix(t, []byte("AL")) || bytes.HasPrefix(t, []byte("WT"))
}

func isHealth(t []byte) bool {
	switch strings.ToLower(string(t)) {
	case "heart", "pulse", "blood", "bphrt", "oxygen", "temp", "btemp2":
		return true
	}
	return false
}

// frame decodes one frame's content.
type frame struct {
	s         *Session
	r         *protocol.Result
	h         header
	typ       []byte
	body      []byte
	badEscape bool
}

// reply sets the answer the watch waits for: the frame's maker, ID and
// index with the given content.
func (d *frame) reply(content string) {
	d.r.Reply = appendFrame(d.r.Reply[:0], d.h.maker, d.h.id, d.h.index, []byte(content))
}

// appendFrame appends "[MAKER*ID*[INDEX*]LEN*content]", LEN the content's
// length in four hex digits.
func appendFrame(dst, maker, id, index, content []byte) []byte {
	dst = append(dst, '[')
	dst = append(dst, maker...)
	dst = append(dst, '*')
	dst = append(dst, id...)
	dst = append(dst, '*')
	if len(index) > 0 {
		dst = append(dst, index...)
		dst = append(dst, '*')
	}
	n := len(content)
	dst = append(dst, upperHex[n>>12&15], upperHex[n>>8&15], upperHex[n>>4&15], upperHex[n&15], '*')
	dst = append(dst, content...)
	return append(dst, ']')
}

const upperHex = "0123456789ABCDEF"

// begin starts a message with the ident and the report type.
func (d *frame) begin(n int) *protocol.Message {
	m := d.r.NewMessage()
	m.Grow(n)
	m.Add(protocol.ParamIdent, protocol.String(d.s.ident))
	return m
}

func (d *frame) finish(m *protocol.Message) {
	m.Add(paramReportType, reportType(d.typ))
	m.Add(paramMaker, protocol.String(d.s.maker))
}

// reportType returns the type as a string value, without allocating for
// the common ones.
func reportType(t []byte) protocol.Value {
	for _, k := range [...]string{"UD", "UD2", "UD3", "UD_LTE", "UD_WCDMA", "AL", "AL_LTE", "WT", "LK", "TK", "JXTK", "img", "heart"} {
		if string(t) == k {
			return protocol.String(k)
		}
	}
	return protocol.String(textfield.Text(t))
}

// linkKeep decodes "LK[,steps,tumbles,battery]": the keep-alive, with the
// pedometer, roll count and battery when the watch sends them.
func (d *frame) linkKeep() {
	if len(d.body) == 0 {
		return
	}
	f := textfield.Split(d.s.fields, d.body, ',', 8)
	d.s.fields = f
	if len(f) < 3 {
		return
	}
	m := d.begin(8)
	addUint(m, paramSteps, f[0])
	addUint(m, paramTumbles, f[1])
	addUint(m, paramBattery, f[2])
	d.finish(m)
}

// answer keeps a frame of a type the protocol does not otherwise define:
// the watch's answer to a command (it echoes the command's keyword, "CR",
// "UPLOAD", "SOS1", …), as command.response and, when this session sent
// the command, a Response with its ID.
func (d *frame) answer() {
	text := textfield.Text(d.h.content)
	resp := protocol.CommandResponse{Text: text}
	for i, p := range d.s.pending {
		if strings.EqualFold(p.keyword, string(d.typ)) {
			resp.ID, resp.HasID = p.id, true
			d.s.pending = append(d.s.pending[:i], d.s.pending[i+1:]...)
			break
		}
	}
	d.r.Responses = append(d.r.Responses, resp)
	m := d.begin(4)
	m.Add(protocol.ParamCommandResponse, protocol.String(text))
	d.finish(m)
}

// health decodes the health sensors' reports: heart (or pulse) rate,
// blood pressure ("bphrt"/"blood": systolic, diastolic, then the heart
// rate), blood oxygen ("oxygen": the second field), body temperature
// ("temp"; "btemp2": a valid flag, then the temperature).
func (d *frame) health() {
	if len(d.body) == 0 {
		return
	}
	f := textfield.Split(d.s.fields, d.body, ',', 16)
	d.s.fields = f
	m := d.begin(8)
	switch strings.ToLower(string(d.typ)) {
	case "heart", "pulse":
		addUint(m, paramHeartRate, f[0])
	case "blood", "bphrt":
		addUint(m, paramSystolic, f[0])
		if len(f) > 1 {
			addUint(m, paramDiastolic, f[1])
		}
		if len(f) > 2 {
			addUint(m, paramHeartRate, f[2])
		}
	case "oxygen":
		if len(f) > 1 {
			addUint(m, paramOxygen, f[1])
		}
	case "temp":
		addDecimal(m, paramBodyTemp, f[0])
	case "btemp2":
		if len(f) > 1 && string(f[0]) != "0" {
			addDecimal(m, paramBodyTemp, f[1])
		}
	}
	d.finish(m)
}

func addUint(m *protocol.Message, name string, b []byte) {
	if v, ok := textfield.Uint(b); ok {
		m.Add(name, protocol.Uint(v))
	}
}

func addDecimal(m *protocol.Message, name string, b []byte) {
	if v, ok := textfield.Decimal(textfield.Trim(b)); ok {
		m.Add(name, protocol.Float(v))
	}
}
