package embedded

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// This file frames MQTT packets on the wire: reading one packet (fixed
// header, remaining length, body) within the size limit, running mochi's
// decoders safely, and encoding the small packets the broker writes itself.

// readPacket reads one packet; the body is freshly allocated and owned by
// the caller (decoded strings point into it). Its frame stays small: an
// idle connection waits in it (see serve).
func (c *conn) readPacket() (packets.FixedHeader, []byte, error) {
	c.refreshDeadline()
	c.in.idle()
	b, err := c.in.ReadByte()
	if err != nil {
		return packets.FixedHeader{}, nil, err
	}
	return c.readPacketFrom(b)
}

// refreshDeadline moves the keep-alive read deadline forward.
//
//go:noinline
func (c *conn) refreshDeadline() {
	if c.keepAlive > 0 {
		// Refreshing the deadline costs a syscall-ish timer update: do it at
		// most every keepAlive/4 (≤ 1 s), which still leaves every packet
		// at least 1.25 × keep-alive.
		if now := c.srv.now(); now.Sub(c.deadlineSet) > min(time.Second, c.keepAlive/4) {
			c.nc.SetReadDeadline(now.Add(c.keepAlive * 3 / 2))
			c.deadlineSet = now
		}
	}
}

// readPacketFrom reads the rest of a packet whose first byte is b.
//
//go:noinline
func (c *conn) readPacketFrom(b byte) (packets.FixedHeader, []byte, error) {
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
