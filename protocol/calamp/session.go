package calamp

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// Service types of the message header.
const (
	serviceUnacknowledged = 0
	serviceAcknowledged   = 1 // the unit sends it again until it gets an ACK
	serviceResponse       = 2
)

// Message types.
const (
	msgNull        = 0
	msgAck         = 1
	msgEvent       = 2
	msgID          = 3
	msgUser        = 4
	msgApplication = 5
	msgParameter   = 6
	msgUnitRequest = 7
	msgLocate      = 8
	msgUserAcc     = 9
	msgMiniEvent   = 10
	msgMiniUser    = 11
	msgMiniApp     = 12
	msgVersion     = 13
	msgAppAcc      = 14
)

// NAK codes of the acknowledgement message.
const (
	ackOK             = 0
	nakNoReason       = 1
	nakNotSupported   = 2
	nakOperation      = 3
	nakSerialPort     = 4
	nakAuthentication = 5
	nakMobileID       = 6
	nakSequence       = 7
)

var nakReasons = [...]string{"ACK", "NAK: no reason", "NAK: message type not supported", "NAK: operation not supported",
	"NAK: unable to pass to the serial port", "NAK: authentication failure", "NAK: mobile ID look-up failure",
	"NAK: non-zero sequence number expected"}

// Session is one remote address (a unit). It remembers the unit's mobile
// ID, which later messages may leave out, and the commands sent and not yet
// acknowledged. It is not safe for concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	ident     string

	// The last message, for Refusal.
	lastType  byte
	lastSeq   uint16
	lastAcked bool // it asked for an acknowledgement

	seq     uint16             // the last sequence number a command used
	pending [16]pendingCommand // commands sent, by sequence number
}

type pendingCommand struct {
	seq  uint16
	id   uint32
	used bool
}

// MobileID returns the unit's mobile ID once a message has carried it, or "".
func (s *Session) MobileID() string { return s.ident }

// Decode decodes one datagram: the options header (when its first byte
// has bit 7 set), the message header (service type, message type, sequence
// number) and the message.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	if len(b) > protocol.FrameLimit(s.codec.MaxFrameSize) {
		return protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "datagram longer than the frame size limit")
	}
	if len(b) == 0 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "empty datagram")
	}
	p := 0
	var redirect []byte
	var mobileType = -1
	if b[0]&0x80 != 0 {
		opts := b[0]
		p = 1
		for bit := 0; bit < 7; bit++ {
			if opts&(1<<bit) == 0 {
				continue
			}
			if p >= len(b) || p+1+int(b[p]) > len(b) {
				return protocol.Errorf(Name, p, protocol.ErrTruncated, "options header field")
			}
			v := b[p+1 : p+1+int(b[p])]
			switch bit {
			case 0:
				var buf [40]byte
				id, ok := mobileID(buf[:0], v)
				if !ok {
					return protocol.Errorf(Name, p, protocol.ErrMalformed, "mobile ID")
				}
				if s.ident != string(id) {
					s.ident = string(id)
				}
			case 1:
				if len(v) > 0 {
					mobileType = int(v[0])
				}
			case 5:
				redirect = v
			}
			p += 1 + len(v)
		}
	}
	if len(b)-p < 4 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "message header")
	}
	svc, typ := b[p], b[p+1]
	seq := binary.BigEndian.Uint16(b[p+2:])
	body := b[p+4:]
	off := p + 4
	s.lastType, s.lastSeq, s.lastAcked = typ, seq, svc == serviceAcknowledged
	r.Ident = s.ident
	if svc == serviceAcknowledged {
		r.Reply = appendAck(r.Reply[:0], typ, seq, ackOK)
	}
	d := decoder{s: s, r: r, b: b, off: off}
	var err error
	switch typ {
	case msgNull:
		return nil // a keep-alive
	case msgAck:
		err = d.ack(body, seq)
	case msgEvent, msgLocate, msgUser, msgApplication, msgUserAcc, msgAppAcc:
		err = d.located(body, typ, seq)
	case msgMiniEvent:
		err = d.mini(body, seq)
	case msgID:
		err = d.idReport(body, seq)
	default:
		m := d.begin(16, typ, seq)
		if len(body) > 0 {
			m.Add(paramRaw, protocol.String(hex.EncodeToString(body)))
		}
	}
	if err != nil {
		r.Reply = r.Reply[:0]
		return err
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		if mobileType >= 0 && !m.Has(paramMobileType) {
			m.Add(paramMobileType, protocol.Int(int64(mobileType)))
		}
		if len(redirect) == 6 {
			m.Add(paramRedirect, protocol.String(ipPort(redirect)))
		}
		if d.badLen {
			m.Add(protocol.ParamLengthInvalid, protocol.Bool(true))
		}
	}
	return nil
}

// Refusal is the NAK "mobile ID look-up failure" for the last message when
// it asked for an acknowledgement (the unit then stops sending it), and
// nothing otherwise.
func (s *Session) Refusal() []byte {
	if !s.lastAcked {
		return nil
	}
	return appendAck(nil, s.lastType, s.lastSeq, nakMobileID)
}

// appendAck appends an acknowledgement message: service type 2
// (response), message type 1, the acknowledged message's sequence number,
// then its type, the ACK/NAK code, a spare byte and the application
// version (three bytes, zero from a server).
func appendAck(dst []byte, typ byte, seq uint16, code byte) []byte {
	dst = append(dst, serviceResponse, msgAck)
	dst = binary.BigEndian.AppendUint16(dst, seq)
	return append(dst, typ, code, 0, 0, 0, 0)
}

// mobileID reads a mobile ID: its bytes as hex digits (packed BCD for
// ESN, IMEI, IMSI and phone numbers), the trailing F padding dropped.
func mobileID(id, v []byte) ([]byte, bool) {
	if len(v) == 0 || len(v) > 20 {
		return nil, false
	}
	for _, c := range v {
		id = append(id, hexDigits[c>>4], hexDigits[c&15])
	}
	for len(id) > 0 && id[len(id)-1] == 'f' {
		id = id[:len(id)-1]
	}
	return id, len(id) > 0
}

func ipPort(v []byte) string {
	b := strconv.AppendUint(nil, uint64(v[0]), 10)
	for _, c := range v[1:4] {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(c), 10)
	}
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(v[4:])), 10))
}

const hexDigits = "0123456789abcdef"
