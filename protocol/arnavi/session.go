package arnavi

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// HEADER versions.
const (
	header1 = 0x22 // answered 7B 00 00 7D
	header2 = 0x23 // answered with the server time
	header3 = 0x24 // an 8-byte extended id follows the IMEI
	header4 = 0x25
)

// Packet types inside a PACKAGE.
const (
	packetPing   = 0x00
	packetTags   = 0x01
	packetText   = 0x03
	packetFile   = 0x04
	packetBinary = 0x06
)

// answerPackage is the package number of a device's answer to a server
// command; it is not confirmed.
const answerPackage = 0xFD

// Session is the state of one Arnavi connection: the ident from the
// HEADER (or the text sentences' device id) and the number of the last
// command sent. It implements [protocol.Session] and
// [protocol.CommandEncoder].
type Session struct {
	codec   *Codec
	ident   string
	version byte
	command byte // last SERVER_COM number sent
	fields  [64][]byte
}

// Ident returns the device's IMEI (binary) or id (text), or "".
func (s *Session) Ident() string { return s.ident }

// Decode decodes one frame. See the package documentation.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	if len(b) == 0 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "empty frame")
	}
	var err error
	switch b[0] {
	case headerSign:
		err = s.header(b, r)
	case packageSign:
		err = s.pkg(b, r)
	case '$':
		err = s.text(b, r)
	default:
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame starts with neither 0xFF, 0x5B nor '$'")
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	return err
}

// header takes the IMEI (8 bytes, little-endian) and answers: version 0x22
// with 7B 00 00 7D, later versions with 7B 04 00 CS <unix time, 4 bytes
// LE> 7D, CS the sum of the time bytes.
func (s *Session) header(b []byte, r *protocol.Result) error {
	if len(b) < 10 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "HEADER shorter than 10 bytes")
	}
	s.version = b[1]
	id := uint64(le32(b[2:])) | uint64(le32(b[6:]))<<32
	if v := strconv.FormatUint(id, 10); v != s.ident {
		s.ident = v
	}
	if s.version == header1 {
		r.Reply = append(r.Reply[:0], answerStart, 0, 0, answerEnd)
		return nil
	}
	now := time.Now
	if s.codec.Now != nil {
		now = s.codec.Now
	}
	t := uint32(now().Unix())
	tb := [4]byte{byte(t), byte(t >> 8), byte(t >> 16), byte(t >> 24)}
	r.Reply = append(r.Reply[:0], answerStart, 4, 0, sum(tb[:]))
	r.Reply = append(r.Reply, tb[:]...)
	r.Reply = append(r.Reply, answerEnd)
	return nil
}

// pkg decodes a PACKAGE: its number, then packets (type, length, unix
// time, data, checksum = sum of time and data bytes) up to 0x5D. Tag
// records become messages; text packets become the device's answers. A
// package is confirmed 7B 00 <number> 7D, unless it is itself an answer
// (number 0xFD).
func (s *Session) pkg(b []byte, r *protocol.Result) error {
	if len(b) < 3 || b[len(b)-1] != packageEnd {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "PACKAGE without its end 0x5D")
	}
	num := b[1]
	p := 2
	for p < len(b)-1 {
		if p+7 > len(b)-1 {
			return protocol.Errorf(Name, p, protocol.ErrTruncated, "packet header runs past the package")
		}
		typ, n, ts := b[p], int(le16(b[p+1:])), le32(b[p+3:])
		end := p + 7 + n
		if end+1 > len(b)-1 {
			return protocol.Errorf(Name, p, protocol.ErrTruncated, "packet data runs past the package")
		}
		data := b[p+7 : end]
		bad := sum(b[p+3:end]) != b[end]
		if bad && !s.codec.Lenient {
			return protocol.Errorf(Name, end, protocol.ErrChecksum, fmt.Sprintf("packet checksum %02x, computed %02x", b[end], sum(b[p+3:end])))
		}
		m := s.packet(r, num, typ, ts, data)
		if bad && m != nil {
			m.SetBool(protocol.ParamChecksumInvalid, true)
		}
		p = end + 1
	}
	if num != answerPackage {
		r.Reply = append(r.Reply[:0], answerStart, 0, num, answerEnd)
	}
	return nil
}

// packet decodes one packet; it returns its message, or nil.
func (s *Session) packet(r *protocol.Result, num, typ byte, ts uint32, data []byte) *protocol.Message {
	switch typ {
	case packetPing:
		return nil
	case packetTags:
		m := s.begin(r, 32)
		m.Add(protocol.ParamTimestamp, protocol.Int(int64(ts)))
		tags(m, data)
		return m
	case packetText:
		txt := strings.ToValidUTF8(string(bytes.TrimRight(data, "\x00")), "\uFFFD")
		m := s.begin(r, 4)
		m.Add(protocol.ParamTimestamp, protocol.Int(int64(ts)))
		m.Add(protocol.ParamCommandResponse, protocol.String(txt))
		if num == answerPackage {
			r.Responses = append(r.Responses, protocol.CommandResponse{Text: txt, Timestamp: float64(ts)})
		}
		return m
	default: // file, binary data, and types this codec does not know
		m := s.begin(r, 4)
		m.Add(protocol.ParamTimestamp, protocol.Int(int64(ts)))
		m.Add(paramPacketType, protocol.Int(int64(typ)))
		m.Add(paramPacketRaw, protocol.String(binfield.HexString(data)))
		return m
	}
}

func (s *Session) begin(r *protocol.Result, n int) *protocol.Message {
	return r.NewMessageFor(s.ident, n)
}

// EncodeCommand appends a SERVER_COM frame: 7B, the payload length, the
// command number (counting from 1 per connection), the payload's checksum
// (sum of its bytes), the payload, 7D. The payload is Command.Text, or
// Command.Data when Text is empty: the Arnavi command as the device's
// documentation gives it. The device answers with a package numbered
// 0xFD, whose text becomes a [protocol.CommandResponse] (in order: the
// answer does not carry the command number).
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if c.Name != "" {
		return dst, fmt.Errorf("%w: arnavi command %q (only Name \"\", the SERVER_COM payload, exists)", protocol.ErrUnsupported, c.Name)
	}
	payload := []byte(c.Text)
	if len(payload) == 0 {
		payload = c.Data
	}
	if len(payload) == 0 || len(payload) > 255 {
		return dst, fmt.Errorf("%w: arnavi command payload of %d bytes (1 to 255)", protocol.ErrMalformed, len(payload))
	}
	s.command++
	if s.command == 0 || s.command == answerPackage {
		s.command = 1
	}
	dst = append(dst, answerStart, byte(len(payload)), s.command, sum(payload))
	dst = append(dst, payload...)
	return append(dst, answerEnd), nil
}

func sum(b []byte) byte {
	var x byte
	for _, c := range b {
		x += c
	}
	return x
}

// round keeps 7 decimals (single-precision coordinates hold no more)
// and never returns -0.
func round(x float64) float64 {
	if x = math.Round(x*1e7) / 1e7; x == 0 {
		return 0
	}
	return x
}
