package wialonips

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"io"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Protocol versions a session has learnt from the login or a UDP prefix.
const (
	versionUnknown = iota
	version11
	version20
)

// Limits that keep a hostile frame from costing quadratic time: the spec
// lets Wialon register 200 parameters and 5000 black-box messages.
const (
	maxParams      = 1024 // parameters (ADC inputs and params) in one message
	maxBlackBox    = 5000 // messages in one #B# packet
	maxNameCache   = 512  // distinct parameter names remembered per session
	maxParamName   = 255  // longest parameter name accepted (the spec says 38)
	maxImageBlocks = 1 << 16
)

// Session decodes one connection (or one UDP peer). It remembers the
// protocol version and ident from the login, the names of custom parameters
// it has seen, and a snapshot being received in blocks. It is not safe for
// concurrent use.
type Session struct {
	limit     int
	lenient   bool
	checkPass func(ident, password string) bool
	transport protocol.Transport

	version  int
	ident    string
	loggedIn bool // a login was accepted (only consulted with CheckPassword)
	names    map[string]paramDef
	ain      []string // "ain#N" names, made once per session

	// Decompression state, reused from container to container.
	zr      io.ReadCloser
	zsrc    bytes.Reader
	inflate bytes.Buffer

	image imageState
}

// Decode decodes one frame: a line, a compressed container, a snapshot
// block or (UDP) a whole datagram, which may hold several lines. It appends
// messages to r and sets r.Reply to the answers the spec defines.
//
// Packets that the spec answers with an error code (bad structure, bad
// time, bad coordinates, a CRC mismatch, …) are answered with that code and
// register no messages; Decode then returns nil so that the device gets its
// answer. Decode returns a [*protocol.DecodeError] only for frames the spec
// has no answer for: text that is not a Wialon IPS packet, an unknown or
// server-only packet type, or a container that does not inflate.
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	if len(frame) == 0 {
		return nil
	}
	var err error
	if frame[0] == 0xFF {
		err = s.decodeCompressed(frame, r)
	} else {
		err = s.decodeText(frame, 0, r)
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	return err
}

func (s *Session) decodeCompressed(frame []byte, r *protocol.Result) error {
	if len(frame) < 3 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "compressed container without its length")
	}
	n := int(frame[1]) | int(frame[2])<<8
	if len(frame) < 3+n {
		return protocol.Errorf(Name, 1, protocol.ErrTruncated, "compressed container shorter than its length")
	}
	if len(bytes.Trim(frame[3+n:], "\r\n")) != 0 {
		return protocol.Errorf(Name, 3+n, protocol.ErrMalformed, "bytes after the compressed container")
	}
	data, err := s.inflateData(frame[3 : 3+n])
	if err != nil {
		return err
	}
	return s.decodeText(data, 3, r)
}

// inflateData decompresses a container's zlib data (raw DEFLATE too, as
// v1.1 names RFC 1951) into the session's buffer, never beyond the limit.
func (s *Session) inflateData(data []byte) ([]byte, error) {
	limit := int64(s.limit) * inflateFactor
	s.zsrc.Reset(data)
	var zr io.Reader
	if s.zr == nil {
		z, err := zlib.NewReader(&s.zsrc)
		if err == nil {
			s.zr = z
		}
	} else if err := s.zr.(zlib.Resetter).Reset(&s.zsrc, nil); err != nil {
		s.zr.Close()
		s.zr = nil
	}
	if s.zr != nil {
		zr = s.zr
	} else {
		s.zsrc.Reset(data)
		zr = flate.NewReader(&s.zsrc)
	}
	s.inflate.Reset()
	got, err := s.inflate.ReadFrom(io.LimitReader(zr, limit+1))
	if got > limit {
		s.inflate.Reset()
		return nil, protocol.Errorf(Name, 3, protocol.ErrFrameTooLarge, "compressed packet inflates beyond the limit")
	}
	if err != nil {
		if errors.Is(err, zlib.ErrChecksum) {
			return nil, protocol.Errorf(Name, 3, protocol.ErrChecksum, "zlib checksum mismatch")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, protocol.Errorf(Name, 3, protocol.ErrTruncated, "compressed data ends early")
		}
		return nil, protocol.Errorf(Name, 3, protocol.ErrMalformed, "compressed data: "+err.Error())
	}
	return s.inflate.Bytes(), nil
}

// decodeText decodes one or more packets from p (several only in a UDP
// datagram or a container). off is p's offset in the frame, for errors.
func (s *Session) decodeText(p []byte, off int, r *protocol.Result) error {
	for len(p) > 0 {
		line, rest, _ := bytes.Cut(p, []byte{'\n'})
		line = trimCR(line)
		var bin []byte
		if sz, ok := binarySize(line); ok {
			if len(rest) < sz {
				return protocol.Errorf(Name, off, protocol.ErrTruncated, "binary block shorter than its size field")
			}
			bin, rest = rest[:sz], rest[sz:]
		}
		if len(line) > 0 {
			if err := s.decodeLine(line, bin, off, r); err != nil {
				return err
			}
		}
		off += len(p) - len(rest)
		p = rest
	}
	return nil
}

func (s *Session) decodeLine(line, bin []byte, off int, r *protocol.Result) error {
	prefix, typ, body, ok := cutPacket(line)
	if !ok {
		return protocol.Errorf(Name, off, protocol.ErrMalformed, "not a #TYPE# packet")
	}
	if !deviceType(typ) {
		if serverType(typ) {
			return protocol.Errorf(Name, off+1, protocol.ErrUnsupported, "#"+string(typ)+"# is sent by the server, not the device")
		}
		return protocol.Errorf(Name, off+1, protocol.ErrUnsupported, "unknown packet type")
	}
	if len(prefix) > 0 {
		if err := s.udpPrefix(prefix, off); err != nil {
			return err
		}
	}
	if s.checkPass != nil && !s.loggedIn && s.transport == protocol.TCP && string(typ) != "L" {
		// Passwords are checked: a device must not get round the check by
		// skipping the login the spec requires first.
		return protocol.Errorf(Name, off, protocol.ErrMalformed, "packet before a successful login")
	}
	switch string(typ) {
	case "L":
		s.login(body, r)
	case "SD":
		s.data(body, false, r)
	case "D":
		s.data(body, true, r)
	case "B":
		s.blackBox(body, r)
	case "P":
		r.Reply = append(r.Reply, "#AP#\r\n"...)
	case "M":
		s.driverMessage(body, r)
	case "AM":
		// The device's answer to a #M# the server sent.
		r.Responses = append(r.Responses, protocol.CommandResponse{Text: tf.Text(body)})
	case "I":
		s.snapshot(body, bin, r)
	case "IT":
		// Tachograph files are not supported: answer "error receiving" so
		// that the device does not believe the file was saved.
		r.Reply = append(r.Reply, "#AIT#0\r\n"...)
	case "T":
		s.tachographBlock(body, r)
	}
	return nil
}

func deviceType(typ []byte) bool {
	switch string(typ) {
	case "L", "SD", "D", "B", "P", "M", "AM", "I", "IT", "T":
		return true
	}
	return false
}

func serverType(typ []byte) bool {
	switch string(typ) {
	case "US", "UC", "QI", "QT", "AL", "AD", "ASD", "AB", "AP", "AI", "AIT", "AT":
		return true
	}
	return false
}

// udpPrefix reads the "IMEI" (v1.1) or "2.0;IMEI" (v2.0) that UDP packets
// carry before the packet type; it sets the session's ident and version.
func (s *Session) udpPrefix(prefix []byte, off int) error {
	ver, imei, hasVer := bytes.Cut(prefix, semi)
	if !hasVer {
		imei = ver
	}
	if !validIdent(imei) {
		return protocol.Errorf(Name, off, protocol.ErrMalformed, "bad ident in the packet prefix")
	}
	// One TCP connection carries one device (the spec registers only the
	// first); over UDP each datagram names its sender.
	if s.transport == protocol.TCP && s.ident != "" && s.ident != string(imei) {
		return protocol.Errorf(Name, off, protocol.ErrMalformed, "packet for another device on this connection")
	}
	if hasVer {
		if !isVersion2(ver) {
			return protocol.Errorf(Name, off, protocol.ErrUnsupported, "unknown protocol version in the packet prefix")
		}
		s.version = version20
	} else {
		s.version = version11
	}
	s.setIdent(imei)
	return nil
}

func (s *Session) setIdent(b []byte) {
	if s.ident != string(b) {
		s.ident = string(b)
	}
}

// isVersion2 accepts "2.0" and later 2.x versions, which keep 2.0's layout.
func isVersion2(v []byte) bool {
	if len(v) < 3 || v[0] != '2' || v[1] != '.' {
		return false
	}
	_, ok := tf.Uint(v[2:])
	return ok
}

func (s *Session) reply(r *protocol.Result, typ, code string) {
	r.Reply = append(r.Reply, '#')
	r.Reply = append(r.Reply, typ...)
	r.Reply = append(r.Reply, '#')
	r.Reply = append(r.Reply, code...)
	r.Reply = append(r.Reply, '\r', '\n')
}

// login handles #L#imei;password (v1.1) and #L#2.0;imei;password;CRC16.
func (s *Session) login(body []byte, r *protocol.Result) {
	var f [5][]byte
	n := splitFields(body, f[:])
	var ident, pass []byte
	switch n {
	case 2:
		ident, pass = f[0], f[1]
		s.version = version11
	case 4:
		if !isVersion2(f[0]) {
			s.rejectLogin(r, "0")
			return
		}
		s.version = version20
		ident, pass = f[1], f[2]
		k := bytes.LastIndexByte(body, ';')
		if !crcMatches(body[:k+1], body[k+1:]) && !s.lenient {
			s.reply(r, "AL", "10")
			return
		}
	default:
		s.rejectLogin(r, "0")
		return
	}
	if !validIdent(ident) {
		s.rejectLogin(r, "0")
		return
	}
	if isNA(pass) {
		pass = nil
	}
	if s.checkPass != nil && !s.checkPass(string(ident), string(pass)) {
		s.rejectLogin(r, "01")
		return
	}
	s.setIdent(ident)
	s.loggedIn = true
	s.reply(r, "AL", "1")
}

func (s *Session) rejectLogin(r *protocol.Result, code string) {
	s.reply(r, "AL", code)
	r.Close = true
}

// splitFields cuts b at ';' into f and returns the number of fields, which
// may exceed len(f) (the extra ones are not stored).
func splitFields(b []byte, f [][]byte) int {
	n := 0
	for {
		i := bytes.IndexByte(b, ';')
		if i < 0 {
			if n < len(f) {
				f[n] = b
			}
			return n + 1
		}
		if n < len(f) {
			f[n] = b[:i]
		}
		n++
		b = b[i+1:]
	}
}

// Reply codes of #SD# and #D# (ASD and AD share them; 16 is D's CRC code,
// 13 SD's).
const (
	codeOK        = "1"
	codeStructure = "-1"
	codeTime      = "0"
	codeCoords    = "10"
	codeMotion    = "11"
	codeSats      = "12"
	codeIO        = "13"
	codeADC       = "14"
	codeParams    = "15"
)

// Field counts of the two record layouts, without the CRC16.
const (
	shortFields = 10
	longFields  = 16
)

// data handles #SD# and #D#.
func (s *Session) data(body []byte, extended bool, r *protocol.Result) {
	typ, want, crcCode := "ASD", shortFields, "13"
	if extended {
		typ, want, crcCode = "AD", longFields, "16"
	}
	nf := bytes.Count(body, semi) + 1
	bad := false
	switch {
	case nf == want+1:
		k := bytes.LastIndexByte(body, ';')
		if k == len(body)-1 && s.version != version20 {
			// A trailing ';' from a device without CRC16s.
			body = body[:k]
			break
		}
		bad = !crcMatches(body[:k+1], body[k+1:])
		body = body[:k]
	case nf == want:
		// v1.1 carries no CRC16; a 2.0 device must send one.
		bad = s.version == version20
	default:
		s.reply(r, typ, codeStructure)
		return
	}
	if bad && !s.lenient {
		s.reply(r, typ, crcCode)
		return
	}
	m := r.NewMessage()
	if code := s.record(m, body, extended); code != codeOK {
		dropLast(r)
		s.reply(r, typ, code)
		return
	}
	if bad {
		m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
	}
	s.reply(r, typ, codeOK)
}

func dropLast(r *protocol.Result) {
	r.Messages[len(r.Messages)-1].Reset()
	r.Messages = r.Messages[:len(r.Messages)-1]
}

// blackBox handles #B#: records in the SD or D layout separated by '|',
// then (v2.0) the CRC16 over everything before it, including the last '|'.
// The answer is the number of records registered; a CRC mismatch is
// answered with an empty count.
func (s *Session) blackBox(body []byte, r *protocol.Result) {
	bad := false
	if k := bytes.LastIndexByte(body, '|'); k >= 0 && k == len(body)-1 && s.version != version20 {
		// A trailing '|' from a device without CRC16s.
		body = body[:k]
	} else if k >= 0 && bytes.IndexByte(body[k+1:], ';') < 0 {
		bad = !crcMatches(body[:k+1], body[k+1:])
		body = body[:k]
	} else if k < 0 && bytes.IndexByte(body, ';') < 0 {
		// Nothing but a CRC16 (or nothing at all): no records.
		bad = len(body) > 0 && !crcMatches(nil, body)
		body = nil
	} else {
		bad = s.version == version20
	}
	if bad && !s.lenient {
		r.Reply = append(r.Reply, "#AB#\r\n"...)
		return
	}
	count := 0
	for len(body) > 0 {
		seg, rest, _ := bytes.Cut(body, []byte{'|'})
		body = rest
		if len(seg) == 0 {
			continue
		}
		if count >= maxBlackBox {
			break
		}
		var extended bool
		switch bytes.Count(seg, semi) + 1 {
		case shortFields:
		case longFields:
			extended = true
		default:
			continue
		}
		m := r.NewMessage()
		if s.record(m, seg, extended) != codeOK {
			dropLast(r)
			continue
		}
		if bad {
			m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
		}
		count++
	}
	r.Reply = append(r.Reply, "#AB#"...)
	r.Reply = appendInt(r.Reply, count)
	r.Reply = append(r.Reply, '\r', '\n')
}

func appendInt(dst []byte, n int) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// driverMessage handles #M#msg (v1.1) and #M#msg;CRC16 (v2.0). When the
// version is unknown, a trailing ";hex" that is a correct CRC16 is taken as
// one.
func (s *Session) driverMessage(body []byte, r *protocol.Result) {
	bad := false
	k := bytes.LastIndexByte(body, ';')
	switch s.version {
	case version20:
		if k < 0 {
			bad = true
		} else {
			bad = !crcMatches(body[:k+1], body[k+1:])
			body = body[:k]
		}
	case versionUnknown:
		if k >= 0 && crcMatches(body[:k+1], body[k+1:]) {
			body = body[:k]
		}
	}
	if bad && !s.lenient {
		s.reply(r, "AM", "01")
		return
	}
	if len(body) == 0 {
		s.reply(r, "AM", "0")
		return
	}
	m := r.NewMessageFor(s.ident, 0)
	m.SetString("driver.message", tf.Text(body))
	if bad {
		m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
	}
	s.reply(r, "AM", "1")
}

// tachographBlock answers a DDD file block. Tachograph files are not
// supported: every block is answered "error receiving".
func (s *Session) tachographBlock(body []byte, r *protocol.Result) {
	var f [4][]byte
	n := splitFields(body, f[:])
	if n < 3 {
		r.Reply = append(r.Reply, "#AT#NA;0\r\n"...)
		return
	}
	if _, ok := tf.Uint(f[2]); !ok {
		r.Reply = append(r.Reply, "#AT#NA;0\r\n"...)
		return
	}
	r.Reply = append(r.Reply, "#AT#"...)
	r.Reply = append(r.Reply, f[2]...)
	r.Reply = append(r.Reply, ";0\r\n"...)
}
