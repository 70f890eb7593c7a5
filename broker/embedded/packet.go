package embedded

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mochi-mqtt/server/v2/packets"
)

// This file frames MQTT packets on the wire: reading one packet (fixed
// header, remaining length, body) within the size limit, running mochi's
// decoders safely, and encoding the small packets the broker writes itself.

// readPacket reads one packet; the body is freshly allocated and owned by
// the caller (decoded strings point into it). Its frame stays small: an
// idle connection waits in it (see serve).
func (c *conn) readPacket() (packets.FixedHeader, []byte, error) {
	c.in.idle()
	b, err := c.in.ReadByte()
	if err != nil {
		return packets.FixedHeader{}, nil, err
	}
	return c.readPacketFrom(b)
}

// refreshDeadline moves the keep-alive read deadline forward: the read
// loop calls it when it starts and after each packet, never on waking a
// parked connection, which would keep an idle one alive.
//
//go:noinline
func (c *conn) refreshDeadline() {
	if c.keepAlive > 0 {
		// Refreshing the deadline costs a syscall-ish timer update: do it at
		// most every keepAlive/4 (≤ 1 s), which still leaves every packet
		// at least 1.25 × keep-alive.
		if now := c.srv.clock.Load(); time.Duration(now-c.deadlineSet) > min(time.Second, c.keepAlive/4) {
			c.readDeadline = now + int64(c.keepAlive*3/2)
			c.nc.SetReadDeadline(time.Unix(0, c.readDeadline))
			c.deadlineSet, c.parkDeadline = now, 0
		}
	}
}

// readPacketFrom reads the rest of a packet whose first byte is b.
//
//go:noinline
func (c *conn) readPacketFrom(b byte) (packets.FixedHeader, []byte, error) {
	if c.version == 3 && b&0x08 != 0 {
		// MQTT 3.1 sets DUP on a retried PUBREL, SUBSCRIBE or UNSUBSCRIBE
		// (they are QoS 1 there); 3.1.1 made those flags fixed.
		if t := b >> 4; t == packets.Pubrel || t == packets.Subscribe || t == packets.Unsubscribe {
			b &^= 0x08
		}
	}
	var fh packets.FixedHeader
	if err := fh.Decode(b); err != nil {
		return fh, nil, &ProtocolError{Code: 0x81, Packet: "fixed header", Err: err}
	}
	rem, shift, n := 0, 0, 1
	for {
		b, err := c.in.ReadByte()
		if err != nil {
			return fh, nil, err
		}
		n++
		rem |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		shift += 7
		if shift > 21 {
			return fh, nil, &ProtocolError{Code: 0x81, Packet: packetName(fh.Type), Err: errors.New("remaining length over 4 bytes")}
		}
	}
	if n+rem > c.srv.lim.maxPacket {
		return fh, nil, &ProtocolError{Code: 0x95, Packet: packetName(fh.Type),
			Err: fmt.Errorf("%w: %d bytes", ErrPacketTooLarge, n+rem)}
	}
	fh.Remaining = rem
	body := make([]byte, rem)
	if _, err := io.ReadFull(c.in, body); err != nil {
		return fh, nil, err
	}
	return fh, body, nil
}

func packetName(t byte) string {
	if n, ok := packets.PacketNames[t]; ok {
		return strings.ToUpper(n)
	}
	return "packet " + strconv.Itoa(int(t))
}

// decode runs a mochi decoder, turning its errors and any panic on hostile
// input into a malformed-packet error.
func decode(t byte, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ProtocolError{Code: 0x81, Packet: packetName(t), Err: fmt.Errorf("malformed: %v", r)}
		}
	}()
	if err := f(); err != nil {
		code := byte(0x81)
		var mc packets.Code
		if errors.As(err, &mc) && mc.Code >= 0x80 {
			code = mc.Code
		}
		return &ProtocolError{Code: code, Packet: packetName(t), Err: err}
	}
	return nil
}

// appendAck encodes a SUBACK or UNSUBACK (no properties).
func (c *conn) appendAck(dst []byte, typ byte, id uint16, codes []byte) []byte {
	rem := 2 + len(codes)
	if c.version == 5 {
		rem++
	}
	dst = append(dst, typ<<4)
	dst = appendVarint(dst, rem)
	dst = append(dst, byte(id>>8), byte(id))
	if c.version == 5 {
		dst = append(dst, 0)
	}
	return append(dst, codes...)
}

func appendVarint(dst []byte, n int) []byte {
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			dst = append(dst, b|0x80)
			continue
		}
		return append(dst, b)
	}
}

func varintLen(n int) int {
	switch {
	case n < 128:
		return 1
	case n < 16384:
		return 2
	case n < 2097152:
		return 3
	}
	return 4
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, byte(len(s)>>8), byte(len(s)))
	return append(dst, s...)
}

// checkConnect checks what mochi's ConnectDecode leaves unchecked in a
// decoded CONNECT, returning the MQTT 5 reason and the fault: flags that
// must be 0, a username that is not UTF-8, and bytes after the last field
// the flags announce (a username or password without its flag). A will
// payload may be empty [MQTT-3.1.3-11 allows zero bytes], which mochi's
// ConnectValidate refuses, so it is not used.
func checkConnect(pk *packets.Packet, body []byte) (byte, error) {
	cp := &pk.Connect
	v := pk.ProtocolVersion
	switch {
	case pk.ReservedBit != 0:
		return 0x81, errors.New("reserved connect flag set [MQTT-3.1.2-3]")
	case !cp.WillFlag && (cp.WillQos != 0 || cp.WillRetain):
		return 0x81, errors.New("will QoS or retain without the will flag [MQTT-3.1.2-11]")
	case cp.WillQos > 2:
		return 0x81, errors.New("will QoS 3 [MQTT-3.1.2-14]")
	case v != 5 && cp.PasswordFlag && !cp.UsernameFlag:
		return 0x81, errors.New("password flag without the username flag [MQTT-3.1.2-22]")
	case cp.WillFlag && (cp.WillTopic == "" || strings.ContainsAny(cp.WillTopic, "+#")):
		return 0x81, fmt.Errorf("will topic %q is not a topic name", cp.WillTopic)
	case cp.UsernameFlag && !validUTF8(cp.Username):
		return 0x81, errors.New("username is not UTF-8 [MQTT-3.1.3-11]")
	}
	n, err := connectLength(body, v, cp)
	if err != nil {
		return 0x81, err
	}
	if n != len(body) {
		return 0x81, fmt.Errorf("%d bytes after the fields the connect flags announce [MQTT-3.1.4-1]", len(body)-n)
	}
	return 0, nil
}

// validUTF8 reports whether b is an MQTT UTF-8 string: valid, without U+0000.
func validUTF8(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// connectLength walks a CONNECT body that ConnectDecode accepted and
// returns how many bytes its fields, as the flags announce them, take.
func connectLength(b []byte, v byte, cp *packets.ConnectParams) (int, error) {
	i := 0
	field := func() bool { // a two-byte length and that many bytes
		if i+2 > len(b) {
			return false
		}
		i += 2 + (int(b[i])<<8 | int(b[i+1]))
		return i <= len(b)
	}
	props := func() bool { // a variable byte integer length and the properties
		n, shift := 0, 0
		for k := 0; k < 4; k++ {
			if i >= len(b) {
				return false
			}
			c := b[i]
			i++
			n |= int(c&0x7f) << shift
			if c&0x80 == 0 {
				i += n
				return i <= len(b)
			}
			shift += 7
		}
		return false
	}
	ok := field() // protocol name
	i += 4        // level, flags, keep-alive
	ok = ok && i <= len(b)
	if v == 5 {
		ok = ok && props()
	}
	ok = ok && field() // client identifier
	if cp.WillFlag {
		if v == 5 {
			ok = ok && props()
		}
		ok = ok && field() && field()
	}
	if cp.UsernameFlag {
		ok = ok && field()
	}
	if cp.PasswordFlag {
		ok = ok && field()
	}
	if !ok {
		return 0, errors.New("connect fields overrun the packet")
	}
	return i, nil
}
