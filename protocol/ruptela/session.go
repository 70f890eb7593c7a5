package ruptela

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Commands a device sends (the packet's command byte).
const (
	cmdRecords        = 1
	cmdConfiguration  = 2  // answer to a configuration command: text
	cmdVersion        = 3  // answer to a version request: text
	cmdFirmware       = 4  // answer to a firmware update command: text
	cmdConnection     = 5  // answer to a set-connection command
	cmdOdometer       = 6  // answer to a set-odometer command
	cmdSMSResponse    = 7  // answer to an SMS-via-GPRS command: text
	cmdSMS            = 8  // an SMS-via-GPRS command (server to device)
	cmdDTC            = 9  // diagnostic trouble codes
	cmdIdentification = 15 // device identification
	cmdHeartbeat      = 16
	cmdSetIO          = 17 // answer to a set-IO command: result byte
	cmdFiles          = 37 // file (picture, tachograph) transfer
	cmdExtRecords     = 68 // records with 2-byte IO IDs
)

// replyBase is added to a command to make the server's command byte: the
// answer to records is 100, to identification 115, to DTCs 109.
const replyBase = 100

// Session is one TCP connection or one UDP remote address. It remembers the
// device's IMEI. It is not safe for concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	imei      uint64
	ident     string
	names     map[uint16]string // custom.param names of IDs beyond the IO list
	seen      seenIDs
}

// IMEI returns the device's IMEI once a packet has carried it, or "".
func (s *Session) IMEI() string { return s.ident }

// Refusal is the negative acknowledgement of records ("00 02 64 00" and
// its CRC): the device keeps them and sends them again later.
func (s *Session) Refusal() []byte { return AppendPacket(nil, replyBase, []byte{0}) }

// Decode decodes one packet: over TCP as [Codec.Split] cut it, over UDP one
// datagram.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	if len(b) < minPacket {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "packet of "+itoa(len(b))+" bytes")
	}
	n := len(b)
	length := int(binary.BigEndian.Uint16(b))
	badLen := length != n-4
	crc := crc16.Kermit.Checksum(b[2 : n-2])
	badCRC := crc != binary.BigEndian.Uint16(b[n-2:])
	if !s.codec.Lenient {
		switch {
		case badLen:
			return protocol.Errorf(Name, 0, protocol.ErrChecksum, "length field "+itoa(length)+", packet holds "+itoa(n-4))
		case badCRC:
			return protocol.Errorf(Name, n-2, protocol.ErrChecksum, "CRC-16/KERMIT "+strconv.FormatUint(uint64(binary.BigEndian.Uint16(b[n-2:])), 16)+", computed "+strconv.FormatUint(uint64(crc), 16))
		}
	}
	imei := binary.BigEndian.Uint64(b[2:])
	if imei > 999_999_999_999_999_999 {
		return protocol.Errorf(Name, 2, protocol.ErrMalformed, "IMEI field is not an IMEI")
	}
	if imei != s.imei || s.ident == "" {
		s.imei = imei
		s.ident = formatIMEI(imei)
	}
	r.Ident = s.ident
	cmd := b[10]
	p := b[11 : n-2]
	first := len(r.Messages)
	var err error
	switch cmd {
	case cmdRecords, cmdExtRecords:
		err = s.decodeRecords(p, cmd == cmdExtRecords, r)
		if err == nil {
			r.Reply = AppendPacket(r.Reply[:0], replyBase, ack)
		}
	case cmdDTC:
		err = s.decodeDTC(p, r)
		if err == nil {
			r.Reply = AppendPacket(r.Reply[:0], replyBase+cmdDTC, ack)
		}
	case cmdIdentification:
		s.decodeIdentification(p, r)
		r.Reply = AppendPacket(r.Reply[:0], replyBase+cmdIdentification, ack)
	case cmdHeartbeat:
		r.Reply = AppendPacket(r.Reply[:0], replyBase+cmdHeartbeat, ack)
	case cmdFiles:
		err = s.decodeFile(p, r)
	case cmdConfiguration, cmdVersion, cmdFirmware, cmdSMSResponse:
		s.answer(cmd, text(p), r)
	case cmdSetIO, cmdConnection, cmdOdometer:
		s.answer(cmd, hexLower(p), r)
	default:
		m := s.begin(r, 4)
		if len(p) > 0 {
			m.Add(paramPacketRaw, protocol.String(hexLower(p)))
		}
		m.Add(paramCommand, protocol.Int(int64(cmd)))
	}
	if err != nil {
		return err
	}
	for i := first; i < len(r.Messages); i++ {
		m := &r.Messages[i]
		if badCRC {
			m.Set(protocol.ParamChecksumInvalid, protocol.Bool(true))
		}
		if badLen {
			m.Set(protocol.ParamLengthInvalid, protocol.Bool(true))
		}
	}
	return nil
}

// ack is the payload of a positive acknowledgement.
var ack = []byte{1}

// formatIMEI writes the IMEI as 15 digits (more when it needs them).
func formatIMEI(v uint64) string {
	var b [20]byte
	i := len(b)
	for v > 0 || i > len(b)-15 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result, n int) *protocol.Message {
	m := r.NewMessage()
	m.Grow(n)
	m.Add(protocol.ParamIdent, protocol.String(s.ident))
	return m
}

// answer records a device's answer to a command: a message with
// command.response (so an answer nobody waits for is kept) and a
// Result.Responses entry. Ruptela answers carry no command identifier:
// they come in order.
func (s *Session) answer(cmd byte, txt string, r *protocol.Result) {
	r.Responses = append(r.Responses, protocol.CommandResponse{Text: txt})
	m := s.begin(r, 3)
	m.Add(protocol.ParamCommandResponse, protocol.String(txt))
	m.Add(paramCommand, protocol.Int(int64(cmd)))
}

// text turns device text into a valid UTF-8 string without trailing NULs,
// "\r\n" or spaces.
func text(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == '\r' || b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// decodeDTC decodes diagnostic trouble codes: a count, then per code a
// reserved byte, u32 time, i32 longitude and latitude (×10⁻⁷), an archive
// flag (2: from the archive) and five ASCII characters of code. Each code
// is one message.
func (s *Session) decodeDTC(p []byte, r *protocol.Result) error {
	if len(p) < 1 {
		return protocol.Errorf(Name, 11, protocol.ErrTruncated, "DTC count")
	}
	count := int(p[0])
	const size = 19
	if 1+count*size > len(p) {
		return protocol.Errorf(Name, 11, protocol.ErrTruncated, "DTC packet holds fewer than "+itoa(count)+" codes")
	}
	for k := 0; k < count; k++ {
		d := p[1+k*size:]
		m := s.begin(r, 8)
		m.Add(protocol.ParamTimestamp, protocol.Int(int64(binary.BigEndian.Uint32(d[1:]))))
		addPosition(m, d[5:], d[9:])
		m.Add(paramDTC, protocol.String(text(d[14:19])))
		if d[13] == 2 {
			m.Add(paramBuffered, protocol.Bool(true))
		}
		m.Add(paramCommand, protocol.Int(cmdDTC))
	}
	return nil
}

// addPosition adds the coordinates of i32 longitude and latitude (×10⁻⁷)
// unless they are 0x80000000, which means no fix.
func addPosition(m *protocol.Message, lon, lat []byte) bool {
	lo := int32(binary.BigEndian.Uint32(lon))
	la := int32(binary.BigEndian.Uint32(lat))
	if lo == -1<<31 || la == -1<<31 || la < -900_000_000 || la > 900_000_000 || lo < -1_800_000_000 || lo > 1_800_000_000 {
		return false
	}
	m.Add(protocol.ParamLatitude, protocol.Float(float64(la)/1e7))
	m.Add(protocol.ParamLongitude, protocol.Float(float64(lo)/1e7))
	return true
}

// decodeIdentification decodes the identification packet a device sends
// when it connects: its firmware version (15 ASCII characters), IMSI (u64)
// and GSM operator code (u32); what follows is kept in hex.
func (s *Session) decodeIdentification(p []byte, r *protocol.Result) {
	m := s.begin(r, 6)
	if len(p) >= 15+8+4 {
		m.Add(paramFirmware, protocol.String(text(p[:15])))
		if imsi := binary.BigEndian.Uint64(p[15:]); imsi != 0 {
			m.Add(paramIMSI, protocol.String(strconv.FormatUint(imsi, 10)))
		}
		if op := binary.BigEndian.Uint32(p[23:]); op != 0 {
			m.Add(paramOperator, protocol.String(strconv.FormatUint(uint64(op), 10)))
		}
		if rest := p[27:]; len(rest) > 0 {
			m.Add(paramPacketRaw, protocol.String(hexLower(rest)))
		}
	} else if len(p) > 0 {
		m.Add(paramPacketRaw, protocol.String(hexLower(p)))
	}
	m.Add(paramCommand, protocol.Int(cmdIdentification))
}

// decodeFile handles a file transfer packet (command 37): a sub-command and
// a source, then for a file part (sub-command 2) an 8-byte file name, u16
// part count, u16 part index and the part's bytes. The part is a message;
// the server asks for the next part, and the device waits for that.
func (s *Session) decodeFile(p []byte, r *protocol.Result) error {
	if len(p) < 2 {
		return protocol.Errorf(Name, 11, protocol.ErrTruncated, "file packet header")
	}
	m := s.begin(r, 8)
	m.Add(paramFileCommand, protocol.Int(int64(p[0])))
	m.Add(paramFileSource, protocol.Int(int64(p[1])))
	if p[0] != 2 || len(p) < 2+8+4 {
		if len(p) > 2 {
			m.Add(paramPacketRaw, protocol.String(hexLower(p[2:])))
		}
		m.Add(paramCommand, protocol.Int(cmdFiles))
		return nil
	}
	name := p[2:10]
	total := binary.BigEndian.Uint16(p[10:])
	part := binary.BigEndian.Uint16(p[12:])
	m.Add(paramFileName, protocol.String(text(name)))
	m.Add(paramFileParts, protocol.Int(int64(total)))
	m.Add(paramFilePart, protocol.Int(int64(part)))
	if data := p[14:]; len(data) > 0 {
		m.Add(paramFileData, protocol.String(hexLower(data)))
	}
	m.Add(paramCommand, protocol.Int(cmdFiles))
	if int(part)+1 < int(total) {
		var req [12]byte
		req[0], req[1] = 2, p[1]
		copy(req[2:10], name)
		binary.BigEndian.PutUint16(req[10:], part+1)
		r.Reply = AppendPacket(r.Reply[:0], replyBase+cmdFiles, req[:])
	}
	return nil
}
