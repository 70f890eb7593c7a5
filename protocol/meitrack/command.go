package meitrack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// Errors of command encoding.
var (
	// ErrNoIMEI: commands carry the device's IMEI, and the session has not
	// seen a frame from the device yet.
	ErrNoIMEI = errors.New("meitrack: device IMEI not known yet")
	// ErrCommandText: the command text is empty, longer than the documents'
	// 1,024 bytes, or holds '*', '\r' or '\n', which would end the frame.
	ErrCommandText = errors.New("meitrack: bad command text")
)

// maxCommand is the documents' bound on a command.
const maxCommand = 1024

// EncodeCommand appends a server command to dst: "@@", a data identifier,
// the length, the IMEI, Command.Text (the command type and its parameters
// as the documents write them, e.g. "A10", "C01,0,12222", "B36,480"),
// "*", the checksum and "\r\n". Command.Name must be "" (the protocol has
// one kind of command).
//
// Each command gets the next data identifier ('A' … 'z'); the device answers
// with the same one, which is how the answer's [protocol.CommandResponse]
// gets Command.ID back (HasID set). An A10 location query is answered with
// an AAA report, which is both a message and the response.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if c.Name != "" {
		return dst, fmt.Errorf("%w: meitrack command %q (only the text command, Name \"\", exists)", protocol.ErrUnsupported, c.Name)
	}
	if s.ident == "" {
		return dst, ErrNoIMEI
	}
	text := c.Text
	if text == "" || len(text) > maxCommand || strings.ContainsAny(text, "*\r\n") {
		return dst, ErrCommandText
	}
	typ := commandType(text)
	if s.nextFlag < flagFirst || s.nextFlag > flagLast {
		s.nextFlag = flagFirst
	}
	flag := s.nextFlag
	s.nextFlag++
	s.pending[flag-flagFirst] = pendingCommand{id: c.ID, typ: typ, used: true}
	return AppendCommand(dst, flag, s.ident, text), nil
}

// commandType is the three-character type of a command text, after the
// optional parameter table number ("0D73,50,50" is a D73).
func commandType(text string) (t [3]byte) {
	i := 0
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	copy(t[:], text[i:])
	return t
}

// AppendCommand appends "@@<flag><length>,<imei>,<text>*<checksum>\r\n" to
// dst: a server command as the Meitrack documents lay it out. flag is the
// data identifier (0x41 'A' to 0x7A 'z') the device echoes in its answer.
func AppendCommand(dst []byte, flag byte, imei, text string) []byte {
	start := len(dst)
	n := 1 + len(imei) + 1 + len(text) + 1 + 2 + 2
	dst = append(dst, '@', '@', flag)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ',')
	dst = append(dst, imei...)
	dst = append(dst, ',')
	dst = append(dst, text...)
	return finish(dst, start)
}

// AppendFrame appends a frame "<mark><mark><flag><length>,<imei>,<typ>[,<body>]*<checksum>\r\n";
// mark is '@' for server frames, '$' for device frames.
func AppendFrame(dst []byte, mark, flag byte, imei string, typ, body []byte) []byte {
	start := len(dst)
	n := 1 + len(imei) + 1 + len(typ) + 1 + 2 + 2
	if len(body) > 0 {
		n += 1 + len(body)
	}
	dst = append(dst, mark, mark, flag)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ',')
	dst = append(dst, imei...)
	dst = append(dst, ',')
	dst = append(dst, typ...)
	if len(body) > 0 {
		dst = append(dst, ',')
		dst = append(dst, body...)
	}
	return finish(dst, start)
}

// finish appends "*", the checksum of dst[start:] through the '*', and
// "\r\n". The checksum is the sum of the bytes, modulo 256, in two
// uppercase hex digits.
func finish(dst []byte, start int) []byte {
	dst = append(dst, '*')
	var sum byte
	for _, c := range dst[start:] {
		sum += c
	}
	return append(dst, upperHex[sum>>4], upperHex[sum&15], '\r', '\n')
}
