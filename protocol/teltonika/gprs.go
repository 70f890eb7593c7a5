package teltonika

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// GPRS message types.
const (
	typeCommand  = 0x05
	typeResponse = 0x06
	typeNack     = 0x11 // Codec 14: the command's IMEI is not the device's
	typeCodec15  = 0x0B
)

// Plausible Codec 13 millisecond timestamps: 2000-01-01 to 2100-01-01.
const (
	minMillis = 946684800000
	maxMillis = 4102444800000
	minSecs   = 946684800
)

func isGPRS(codec byte) bool {
	return codec == codec12 || codec == codec13 || codec == codec14 || codec == codec15
}

// decodeGPRS decodes a Codec 12/13/14/15 body (codec id .. N2) into
// r.Responses and, for text, messages (see answerMessage). The device
// expects no reply.
func (s *Session) decodeGPRS(body []byte, base int, r *protocol.Result) error {
	codec := body[0]
	n1, n2 := int(body[1]), int(body[len(body)-1])
	if n1 != n2 {
		return protocol.Errorf(Name, base+len(body)-1, protocol.ErrMalformed, "quantities differ: "+strconv.Itoa(n1)+" and "+strconv.Itoa(n2))
	}
	// Binary payloads are copied here; sized once so that appends never
	// move what earlier responses of this frame point to.
	if cap(s.scratch) < len(body) {
		s.scratch = make([]byte, 0, len(body))
	}
	b := body[:len(body)-1]
	off := 2
	for range n1 {
		if off+5 > len(b) {
			return protocol.Errorf(Name, base+off, protocol.ErrMalformed, "message overruns the packet")
		}
		typ := b[off]
		size := uint64(binary.BigEndian.Uint32(b[off+1:]))
		off += 5
		rest := len(b) - off
		if size > uint64(rest) {
			return protocol.Errorf(Name, base+off-4, protocol.ErrMalformed, "size "+strconv.FormatUint(size, 10)+" overruns the packet")
		}
		payload := b[off : off+int(size)]
		var resp protocol.CommandResponse
		switch codec {
		case codec12:
			if typ == typeCommand {
				return protocol.Errorf(Name, base+off-5, protocol.ErrMalformed, "Codec 12 type 5 is a command to the device, not an answer")
			}
		case codec13:
			// The wiki's Codec 13 has a 4-byte timestamp counted in the
			// size; some devices leave it out of the size (traccar's
			// "#GET DATAORDER" capture) and wiki revisions before 2021 showed
			// an 8-byte millisecond timestamp.
			if n1 == 1 && int(size)+4 == rest {
				payload = b[off : off+int(size)+4]
				size += 4
			}
			if len(payload) < 4 {
				return protocol.Errorf(Name, base+off, protocol.ErrMalformed, "Codec 13 message without a timestamp")
			}
			secs := binary.BigEndian.Uint32(payload)
			if ms := uint64(0); len(payload) >= 8 && secs < minSecs {
				if ms = binary.BigEndian.Uint64(payload); ms >= minMillis && ms < maxMillis {
					resp.Timestamp = float64(ms) / 1000
					payload = payload[8:]
					break
				}
			}
			resp.Timestamp = float64(secs)
			payload = payload[4:]
		case codec14:
			if typ == typeCommand {
				return protocol.Errorf(Name, base+off-5, protocol.ErrMalformed, "Codec 14 type 5 is a command to the device, not an answer")
			}
			if len(payload) < 8 {
				return protocol.Errorf(Name, base+off, protocol.ErrMalformed, "Codec 14 message without an IMEI")
			}
			if typ == typeResponse {
				payload = payload[8:] // a nACK (0x11) keeps the IMEI it refused
			}
		case codec15:
			if len(payload) < 12 {
				return protocol.Errorf(Name, base+off, protocol.ErrMalformed, "Codec 15 message without timestamp and IMEI")
			}
			resp.Timestamp = float64(binary.BigEndian.Uint32(payload))
			payload = payload[12:]
		}
		if typ == typeResponse || codec == codec13 || (codec == codec15 && typ == typeCodec15) {
			resp.Text = string(payload)
			s.answerMessage(r, resp)
		} else {
			start := len(s.scratch)
			s.scratch = append(s.scratch, payload...)
			resp.Data = s.scratch[start:len(s.scratch):len(s.scratch)]
		}
		r.Responses = append(r.Responses, resp)
		off += int(size)
	}
	if off != len(b) {
		return protocol.Errorf(Name, base+off, protocol.ErrMalformed, strconv.Itoa(len(b)-off)+" bytes after the messages")
	}
	r.Ident = s.ident
	return nil
}

// EncodeCommand appends a command packet to dst. Command.Name selects the
// codec: "" or "codec12" sends Codec 12 (Text, or Data when Text is empty);
// "codec14" sends Codec 14 addressed to the session's IMEI, which the
// device answers only when the IMEI is its own. Over UDP the packet is the
// same: Teltonika sends GPRS commands over UDP exactly as over TCP.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	payload := []byte(c.Text)
	if c.Text == "" {
		payload = c.Data
	}
	switch c.Name {
	case "", "codec12":
		return appendGPRS(dst, codec12, nil, payload, s.codec.maxFrame())
	case "codec14":
		if s.ident == "" {
			return dst, ErrNoIMEI
		}
		return appendGPRS(dst, codec14, imeiBCD(s.ident), payload, s.codec.maxFrame())
	}
	return dst, fmt.Errorf("%w: %q", ErrCommandKind, c.Name)
}

// imeiBCD writes a 15-digit IMEI as the 8 bytes of Codec 14: a leading 0
// nibble, then one digit a nibble.
func imeiBCD(imei string) []byte {
	digits := "0" + imei
	out := make([]byte, 8)
	for i := range out {
		out[i] = (digits[2*i]-'0')<<4 | (digits[2*i+1] - '0')
	}
	return out
}

// appendGPRS appends one GPRS command packet: preamble, length, codec, 1,
// type 5, size, [imei], payload, 1, CRC.
func appendGPRS(dst []byte, codec byte, imei, payload []byte, max int) ([]byte, error) {
	size := len(imei) + len(payload)
	length := 1 + 1 + 1 + 4 + size + 1
	if 12+length > max {
		return dst, fmt.Errorf("%w: %d bytes, the limit is %d", ErrCommandTooLarge, 12+length, max)
	}
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(length))
	start := len(dst)
	dst = append(dst, codec, 1, typeCommand)
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	dst = append(dst, imei...)
	dst = append(dst, payload...)
	dst = append(dst, 1)
	return binary.BigEndian.AppendUint32(dst, uint32(crc16.ARC.Checksum(dst[start:]))), nil
}

// answerMessage records a text answer as a message too, so that an answer
// nobody waits for (a command sent by SMS or by another server, text a
// device sends on its own with Codec 13 or 15) is stored rather than lost;
// the channel matches the Response to a pending command when there is one.
// The message carries the ident (once the IMEI is known) and
// command.response; its timestamp is the device's (Codec 13 and 15) when that
// is a plausible date, and otherwise left for the channel to stamp with the
// time of reception, as Codec 12 and 14 carry none.
func (s *Session) answerMessage(r *protocol.Result, resp protocol.CommandResponse) {
	m := r.NewMessageFor(s.ident, 0)
	if resp.Timestamp >= minSecs && resp.Timestamp < maxMillis/1000 {
		m.Add(protocol.ParamTimestamp, protocol.Float(resp.Timestamp))
	}
	text := resp.Text
	if !utf8.ValidString(text) {
		// Answers are ASCII; stray bytes become U+FFFD so the message
		// survives a JSON round trip (the Response keeps them as sent).
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	m.Add(protocol.ParamCommandResponse, protocol.String(text))
}
