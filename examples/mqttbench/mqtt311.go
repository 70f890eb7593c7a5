package main

import (
	"errors"
	"fmt"
	"io"
)

// The idle scenario speaks just enough MQTT 3.1.1, written by hand, to hold
// thousands of connections with no client library: a CONNECT is ~20 bytes
// and a connection costs the load generator one socket and no goroutine.

// MQTT 3.1.1 packet types (first byte of the fixed header, flags included).
const (
	pktConnect    = 0x10
	pktConnack    = 0x20
	pktSubscribe  = 0x82 // flags 0b0010 are mandatory for SUBSCRIBE
	pktSuback     = 0x90
	pktPingreq    = 0xC0
	pktDisconnect = 0xE0
)

// maxIdlePacket bounds what readPacket accepts: the broker owes an idle
// client nothing longer than a CONNACK or SUBACK.
const maxIdlePacket = 64

var (
	errPacketTooLong = errors.New("mqttbench: packet longer than expected")
	errBadLength     = errors.New("mqttbench: malformed remaining length")
)

// appendLength appends n as an MQTT variable byte integer.
func appendLength(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func appendString(b []byte, s string) []byte {
	return append(append(b, byte(len(s)>>8), byte(len(s))), s...)
}

// connectPacket encodes an MQTT 3.1.1 CONNECT: clean session, no will, no
// credentials, the given client id and keep-alive in seconds.
func connectPacket(clientID string, keepAlive uint16, username string) []byte {
	flags := byte(0x02) // clean session
	if username != "" {
		flags |= 0x80
	}
	body := appendString(nil, "MQTT")
	body = append(body, 4, flags, byte(keepAlive>>8), byte(keepAlive)) // level 4
	body = appendString(body, clientID)
	if username != "" {
		body = appendString(body, username)
	}
	return append(appendLength([]byte{pktConnect}, len(body)), body...)
}

// subscribePacket encodes an MQTT 3.1.1 SUBSCRIBE of one filter at QoS 0.
func subscribePacket(id uint16, filter string) []byte {
	body := []byte{byte(id >> 8), byte(id)}
	body = appendString(body, filter)
	body = append(body, 0)
	return append(appendLength([]byte{pktSubscribe}, len(body)), body...)
}

// readPacket reads one packet, refusing bodies longer than maxBody.
func readPacket(r io.Reader, maxBody int) (header byte, body []byte, err error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, nil, err
	}
	header = b[0]
	n, mult := 0, 1
	for i := 0; ; i++ {
		if i == 4 {
			return 0, nil, errBadLength
		}
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, noEOF(err)
		}
		n += int(b[0]&0x7F) * mult
		mult *= 128
		if b[0]&0x80 == 0 {
			break
		}
	}
	if n > maxBody {
		return 0, nil, fmt.Errorf("%w: %d bytes", errPacketTooLong, n)
	}
	body = make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, noEOF(err)
	}
	return header, body, nil
}

// noEOF reports a stream that ends inside a packet as truncated.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// connackError checks a CONNACK: nil for return code 0.
func connackError(header byte, body []byte) error {
	if header != pktConnack || len(body) != 2 {
		return fmt.Errorf("mqttbench: expected CONNACK, got packet 0x%02x of %d bytes", header, len(body))
	}
	if body[1] != 0 {
		return &refusedError{Packet: "CONNACK", Code: body[1]}
	}
	return nil
}

// subackError checks the SUBACK for packet id: nil when the subscription
// was granted.
func subackError(header byte, body []byte, id uint16) error {
	if header != pktSuback || len(body) != 3 {
		return fmt.Errorf("mqttbench: expected SUBACK, got packet 0x%02x of %d bytes", header, len(body))
	}
	if got := uint16(body[0])<<8 | uint16(body[1]); got != id {
		return fmt.Errorf("mqttbench: SUBACK for packet %d, want %d", got, id)
	}
	if body[2] > 2 {
		return &refusedError{Packet: "SUBACK", Code: body[2]}
	}
	return nil
}

// refusedError is a broker's refusal: a non-zero CONNACK return code or a
// SUBACK failure code.
type refusedError struct {
	Packet string
	Code   byte
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("mqttbench: %s return code 0x%02x", e.Packet, e.Code)
}
