package device

import (
	"errors"
	"fmt"
	"strconv"
)

// Protocol names, as the codecs of this module name themselves.
const (
	Teltonika = "teltonika"
	GT06      = "gt06"
	WialonIPS = "wialon-ips"
)

// Protocols lists the protocols [New] knows.
func Protocols() []string { return []string{Teltonika, GT06, WialonIPS} }

// Errors of [New] and [Session.Data].
var (
	ErrProtocol    = errors.New("device: unknown protocol")
	ErrUDP         = errors.New("device: the protocol has no UDP transport")
	ErrIdent       = errors.New("device: ident not valid for the protocol")
	ErrPacket      = errors.New("device: unknown packet kind for the protocol")
	ErrTooMany     = errors.New("device: too many records for one packet")
	ErrReplyFormat = errors.New("device: reply not in the protocol's format")
)

// Packet is what a device sends and the reply that acknowledges it. A
// Session fills it, reusing its storage.
type Packet struct {
	Bytes []byte // one or more frames, in the order they go on the wire
	Ack   []byte // the exact reply the device waits for
}

// Session is one device's side of a protocol: its ident, serial numbers
// and packet ids. Not safe for concurrent use.
type Session interface {
	// Protocol returns the protocol's name, e.g. "teltonika".
	Protocol() string
	// Ident returns the device's ident (its IMEI).
	Ident() string
	// Login fills p with the login packet and its reply and returns true,
	// or returns false when the transport has none (UDP, where every
	// packet names its device).
	Login(p *Packet) bool
	// Data fills p with a packet carrying pts, in order. resend says the
	// records were sent before and not acknowledged: GT06 marks them
	// re-uploaded. Data fails with [ErrTooMany] beyond [Session.MaxRecords].
	Data(p *Packet, pts []Point, resend bool) error
	// MaxRecords is the most records one Data packet may carry.
	MaxRecords() int
	// SplitReply cuts the first reply from the bytes a TCP device has
	// received, like a bufio.SplitFunc: (0, nil, nil) asks for more bytes,
	// an error ([ErrReplyFormat]) means the stream cannot be read on.
	// want is the reply being waited for: Teltonika replies carry no
	// framing, so their length is the awaited reply's. A UDP reply is a
	// whole datagram and needs no splitting.
	SplitReply(data, want []byte) (advance int, reply []byte, err error)
}

// Options are the protocol settings of a [Session]. The zero value is TCP
// with each protocol's default packet kind.
type Options struct {
	// UDP makes packets for the protocol's UDP transport (Teltonika and
	// Wialon IPS): no login, the ident in every datagram.
	UDP bool
	// Packet chooses the packet kind: "8" (default) or "8e" for Teltonika,
	// "0x22" (default) or "0x12" for GT06; Wialon IPS has only "D" (the
	// default; several records go in a "#B#" black-box packet).
	Packet string
	// Password is the Wialon IPS login password; "" sends NA.
	Password string
}

// New returns the session of a device of the named protocol.
func New(protocol, ident string, o Options) (Session, error) {
	switch protocol {
	case Teltonika:
		return newTeltonika(ident, o)
	case GT06:
		return newGT06(ident, o)
	case WialonIPS:
		return newWialon(ident, o)
	}
	return nil, fmt.Errorf("%w %q (known: teltonika, gt06, wialon-ips)", ErrProtocol, protocol)
}

// IMEIDigits is the length of the number an IMEI is made from, without its
// check digit.
const IMEIDigits = 14

// MaxIMEIBody is the largest number [IMEI] accepts.
const MaxIMEIBody = 99_999_999_999_999

// IMEI returns the 15-digit IMEI whose first 14 digits are body (zero
// padded; taken modulo 10^14) and whose last is the Luhn check digit, as
// on a real device.
func IMEI(body uint64) string {
	b := make([]byte, 0, 15)
	b = strconv.AppendUint(b, body%(MaxIMEIBody+1), 10)
	for len(b) < IMEIDigits {
		b = append([]byte{'0'}, b...)
	}
	return string(append(b, luhn(b)))
}

// ValidIMEI reports whether s is 15 digits whose last is the Luhn check
// digit of the others.
func ValidIMEI(s string) bool {
	if len(s) != 15 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return luhn([]byte(s[:14])) == s[14]
}

// luhn returns the check digit of body: from the right, every other digit
// (starting with the last) is doubled and its digits summed.
func luhn(body []byte) byte {
	sum := 0
	for i := range body {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
