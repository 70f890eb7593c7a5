package teltonika

import (
	"encoding/binary"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Session is one TCP connection or one UDP remote address. It remembers the
// device's IMEI. It is not safe for concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	ident     string              // IMEI once known
	idx       *ioIndex            // the codec's Family's view of the AVL ID table
	names     map[uint16]*ioEntry // custom.param entries of AVL IDs ≥ indexed
	opCode    uint64              // last GSM operator code (AVL ID 241) and
	opText    string              // its text, reused while it stays the same
	scratch   []byte              // copies of binary response payloads
}

// IMEI returns the device's IMEI, or "" before the device has sent it.
func (s *Session) IMEI() string { return s.ident }

// Decode decodes one frame: over TCP an IMEI packet or an AVL/GPRS packet as
// [Codec.Split] cut it, over UDP one datagram.
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	s.scratch = s.scratch[:0]
	if len(frame) == 1 && frame[0] == keepAlive {
		return nil // a keep-alive byte handed over by a framer other than Split
	}
	if s.transport == protocol.UDP && !hasPreamble(frame) {
		return s.decodeUDP(frame, r)
	}
	if len(frame) < 2 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "")
	}
	if frame[0] != 0 || frame[1] != 0 {
		return s.decodeIMEI(frame, r)
	}
	return s.decodePacket(frame, r)
}

func hasPreamble(b []byte) bool {
	return len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0
}

// decodeIMEI handles the TCP handshake: 00 0F and 15 ASCII digits, answered
// with 01 (accepted) or 00 (rejected, and the connection is closed).
func (s *Session) decodeIMEI(frame []byte, r *protocol.Result) error {
	n := int(binary.BigEndian.Uint16(frame))
	if n != imeiDigits {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "neither an IMEI packet (length "+strconv.Itoa(n)+") nor an AVL packet")
	}
	if len(frame) < 2+n {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "IMEI packet")
	}
	if len(frame) > 2+n {
		return protocol.Errorf(Name, 2+n, protocol.ErrMalformed, "bytes after the IMEI")
	}
	imei := frame[2:]
	if !validIMEI(imei) {
		r.SetReply([]byte{0})
		r.Close = true
		return nil
	}
	if s.ident != string(imei) {
		s.ident = string(imei)
	}
	r.Ident = s.ident
	r.SetReply([]byte{1})
	return nil
}

func validIMEI(b []byte) bool {
	if len(b) != imeiDigits {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// decodePacket decodes a packet in the TCP form: 00000000, u32 length, body
// (codec id .. N2), u32 CRC-16/ARC of the body.
func (s *Session) decodePacket(frame []byte, r *protocol.Result) error {
	if len(frame) < 12 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "packet of "+strconv.Itoa(len(frame))+" bytes")
	}
	if !hasPreamble(frame) {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "bad preamble")
	}
	body := frame[8 : len(frame)-4]
	crcField := frame[len(frame)-4:]
	length := binary.BigEndian.Uint32(frame[4:])
	if uint64(length) != uint64(len(body)) {
		// Split cut the packet where its records end; a stream that ended
		// inside the CRC leaves fewer than 4 CRC bytes.
		if end, ok, _ := walkBody(frame[8:]); ok && end < len(frame)-8 {
			body, crcField = frame[8:8+end], frame[8+end:]
		}
	}
	badLength := uint64(length) != uint64(len(body)) || len(crcField) != 4
	var crc uint32
	for _, c := range crcField {
		crc = crc<<8 | uint32(c)
	}
	badCRC := len(crcField) != 4 || crc > 0xFFFF || uint16(crc) != crc16.ARC.Checksum(body)
	if !s.codec.Lenient {
		switch {
		case uint64(length) != uint64(len(body)):
			return protocol.Errorf(Name, 4, protocol.ErrChecksum, "length field "+strconv.FormatUint(uint64(length), 10)+", packet holds "+strconv.Itoa(len(body)))
		case len(crcField) != 4:
			return protocol.Errorf(Name, 8+len(body), protocol.ErrChecksum, "CRC field of "+strconv.Itoa(len(crcField))+" bytes")
		case badCRC:
			return protocol.Errorf(Name, 8+len(body), protocol.ErrChecksum, "CRC "+strconv.FormatUint(uint64(crc), 16)+", computed "+strconv.FormatUint(uint64(crc16.ARC.Checksum(body)), 16))
		}
	}
	if len(body) < 3 {
		return protocol.Errorf(Name, 8, protocol.ErrTruncated, "empty body")
	}
	first := len(r.Messages)
	if isGPRS(body[0]) {
		// A command answer kept in lenient mode is marked like a record.
		err := s.decodeGPRS(body, 8, r)
		if err == nil && (badCRC || badLength) {
			markInvalid(r.Messages[first:], badCRC, badLength)
		}
		return err
	}
	n, err := s.decodeAVL(body, 8, r)
	if err != nil {
		return err
	}
	if badCRC || badLength {
		markInvalid(r.Messages[first:], badCRC, badLength)
	}
	r.Ident = s.ident
	var ack [4]byte
	binary.BigEndian.PutUint32(ack[:], uint32(n))
	r.SetReply(ack[:])
	return nil
}

func markInvalid(msgs []protocol.Message, badCRC, badLength bool) {
	for i := range msgs {
		if badCRC {
			msgs[i].Set(protocol.ParamChecksumInvalid, protocol.Bool(true))
		}
		if badLength {
			msgs[i].Set(protocol.ParamLengthInvalid, protocol.Bool(true))
		}
	}
}

// decodeUDP decodes a UDP datagram: u16 length, u16 packet id, a byte the
// protocol does not use, u8 AVL packet id, u16 IMEI length, IMEI, body
// (codec id .. N2). There is no CRC. The reply echoes both ids:
// 00 05 | packet id | 01 | AVL packet id | u8 accepted records.
func (s *Session) decodeUDP(d []byte, r *protocol.Result) error {
	if len(d) < 8 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "datagram of "+strconv.Itoa(len(d))+" bytes")
	}
	length := int(binary.BigEndian.Uint16(d))
	badLength := length != len(d)-2
	if badLength && !s.codec.Lenient {
		return protocol.Errorf(Name, 0, protocol.ErrChecksum, "length field "+strconv.Itoa(length)+", datagram holds "+strconv.Itoa(len(d)-2))
	}
	packetID := d[2:4]
	avlID := d[5]
	n := int(binary.BigEndian.Uint16(d[6:]))
	if 8+n > len(d) {
		return protocol.Errorf(Name, 6, protocol.ErrTruncated, "IMEI of "+strconv.Itoa(n)+" bytes")
	}
	// A remote address sends the same IMEI every time: it is checked once.
	if imei := d[8 : 8+n]; s.ident != string(imei) { // the comparison does not allocate
		if !validIMEI(imei) {
			return protocol.Errorf(Name, 8, protocol.ErrMalformed, "IMEI is not 15 digits")
		}
		s.ident = string(imei)
	}
	r.Ident = s.ident
	body := d[8+n:]
	if len(body) < 3 {
		return protocol.Errorf(Name, 8+n, protocol.ErrTruncated, "empty body")
	}
	if isGPRS(body[0]) {
		// A command answer over UDP comes in the same channel header as
		// AVL data, without a CRC, and expects no reply.
		return s.decodeGPRS(body, 8+n, r)
	}
	first := len(r.Messages)
	count, err := s.decodeAVL(body, 8+n, r)
	if err != nil {
		return err
	}
	if badLength {
		markInvalid(r.Messages[first:], false, badLength)
	}
	r.SetReply([]byte{0, 5, packetID[0], packetID[1], 1, avlID, byte(count)})
	return nil
}
