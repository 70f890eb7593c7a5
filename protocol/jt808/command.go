package jt808

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// EncodeCommand appends a platform message to dst, addressed with the
// phone number and header edition the device last used (so a command can
// only be encoded after the device sent a frame). Command.Name selects it:
//
//	""           0x8300 text: the flag byte ([Codec].TextFlag), in 2019 a
//	             text type of 1 (notice), then Command.Text as sent
//	             (devices expect GBK; ASCII commands are the same in both)
//	"locate"     0x8201 location query; the device answers 0x0201
//	"params"     0x8104 query of every parameter; the answer is 0x0104
//	"properties" 0x8107 query of the terminal's properties (0x0107)
//	"control"    0x8105 terminal control: Command.Data is the body (the
//	             command word and its parameters)
//	"raw"        any message: Command.Text is its ID in hex ("8103"),
//	             Command.Data its body
//
// The message's serial number is remembered with Command.ID: the device's
// general response (0x0001), or an answer that carries the serial (0x0104,
// 0x0201, 0x0500, …), becomes a [protocol.CommandResponse] with that ID.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if s.nphone == 0 {
		return dst, fmt.Errorf("%w: jt808 command before the device sent a frame (its phone number addresses the command)", protocol.ErrUnsupported)
	}
	var id uint16
	var body []byte
	switch c.Name {
	case "":
		flagByte := s.codec.TextFlag
		if flagByte == 0 {
			flagByte = 0x04
		}
		body = append(body, flagByte)
		if s.version >= 0 {
			body = append(body, 1)
		}
		body = append(body, c.Text...)
		id = msgText
	case "locate":
		id = msgLocate
	case "params":
		id = msgQueryParams
	case "properties":
		id = msgQueryProperties
	case "control":
		if len(c.Data) == 0 {
			return dst, fmt.Errorf("%w: jt808 control command without a command word in Data", protocol.ErrMalformed)
		}
		id, body = msgControl, c.Data
	case "raw":
		v, err := strconv.ParseUint(c.Text, 16, 16)
		if err != nil {
			return dst, fmt.Errorf("%w: jt808 raw command: message ID %q is not 4 hex digits", protocol.ErrMalformed, c.Text)
		}
		id, body = uint16(v), c.Data
	default:
		return dst, fmt.Errorf("%w: jt808 command %q", protocol.ErrUnsupported, c.Name)
	}
	if len(body) > 0x3FF {
		return dst, fmt.Errorf("%w: jt808 command body is %d bytes, at most 1023 fit", protocol.ErrUnsupported, len(body))
	}
	s.serial++
	p := &s.pending[s.next]
	*p = pendingCommand{serial: s.serial, id: c.ID, used: true}
	s.next = (s.next + 1) % maxPending
	return AppendFrame(dst, id, s.version, s.phone[:s.nphone], s.serial, body), nil
}

// PhoneBCD encodes an ident as the 6-byte (2011/2013) or 10-byte (2019)
// BCD phone number of a header, zero-padded on the left. It returns nil
// when the ident is not all digits or does not fit.
func PhoneBCD(ident string, size int) []byte {
	if len(ident) > 2*size {
		return nil
	}
	digits := make([]byte, 2*size)
	for i := range digits {
		digits[i] = '0'
	}
	copy(digits[2*size-len(ident):], ident)
	b, err := hex.DecodeString(string(digits))
	if err != nil || !isDigits([]byte(ident)) {
		return nil
	}
	return b
}
