package wialonips

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Name is the codec's name, as [Codec.Name] returns it.
const Name = "wialon-ips"

// inflateFactor bounds decompressed content relative to the frame limit: a
// 64 KiB compressed container may expand to at most 1 MiB by default.
const inflateFactor = 16

// Codec is the Wialon IPS 1.1 and 2.0 protocol. The zero value is ready to
// use; a Codec is safe for concurrent use and never modified by its sessions.
type Codec struct {
	// MaxFrameSize bounds one text line (without its CR LF), the length of a
	// compressed container and the binary block of a snapshot packet. 0
	// means [protocol.DefaultMaxFrameSize] (64 KiB). The decompressed content
	// of a container is bounded by 16 times this limit.
	MaxFrameSize int
	// Lenient keeps packets whose CRC16 is wrong or missing (in a 2.0
	// session): their messages are registered, answered as successful and
	// marked with "frame.checksum.invalid". When false such packets get the
	// spec's checksum error reply and register nothing.
	Lenient bool
	// CheckPassword, when set, is asked at login whether the device may log
	// in; password is "" when the device sends NA or nothing. A false
	// answer replies #AL#01 and closes the connection, and a TCP
	// connection whose login was not accepted gets no packet decoded. Nil
	// accepts every device. UDP datagrams carry no password and are not
	// checked. It may be called concurrently from many sessions.
	CheckPassword func(ident, password string) bool
}

// Name returns "wialon-ips".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one TCP connection or one UDP peer.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{
		limit:     protocol.FrameLimit(c.MaxFrameSize),
		lenient:   c.Lenient,
		checkPass: c.CheckPassword,
		transport: t,
	}
}

// Split cuts a TCP stream into frames: a text line without its "\r\n" (a
// bare "\n" ends a line too), a compressed container (0xFF, little-endian
// u16 length, zlib data) whole, or a snapshot or tachograph block packet
// (#I#, #T#, and the server-only #US#/#UC#) as its header line, "\r\n" and
// binary block. Empty lines are skipped. At the end of the stream an
// unterminated line is a frame. A line, container or block longer than the
// frame limit is a [protocol.ErrFrameTooLarge] error.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, atEOF, protocol.FrameLimit(c.MaxFrameSize))
}

func split(data []byte, atEOF bool, max int) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] == 0xFF {
		if len(data) < 3 {
			return 0, nil, nil
		}
		n := int(data[1]) | int(data[2])<<8
		if n > max {
			return 0, nil, protocol.Errorf(Name, 1, protocol.ErrFrameTooLarge, "compressed container longer than the frame limit")
		}
		if len(data) < 3+n {
			return 0, nil, nil
		}
		return 3 + n, data[:3+n], nil
	}
	i := bytes.IndexByte(data[:min(len(data), max+2)], '\n')
	if i < 0 {
		if len(data) > max+1 {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "line longer than the frame limit")
		}
		if !atEOF {
			return 0, nil, nil
		}
		line := trimCR(data)
		if len(line) == 0 {
			return len(data), nil, nil
		}
		return len(data), line, nil
	}
	line := trimCR(data[:i])
	if len(line) > max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "line longer than the frame limit")
	}
	adv := i + 1
	if len(line) == 0 {
		return adv, nil, nil
	}
	if sz, ok := binarySize(line); ok {
		if sz > max {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "binary block longer than the frame limit")
		}
		if len(data) < adv+sz {
			return 0, nil, nil
		}
		return adv + sz, data[:adv+sz], nil
	}
	return adv, line, nil
}

func trimCR(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

// binarySize reports the size of the binary block that follows a header
// line of type I, T, US or UC, when the line has a readable size field.
func binarySize(line []byte) (int, bool) {
	_, typ, body, ok := cutPacket(line)
	if !ok {
		return 0, false
	}
	var f []byte
	switch string(typ) {
	case "I", "US", "UC":
		f, _, _ = bytes.Cut(body, semi)
	case "T":
		_, rest, _ := bytes.Cut(body, semi)
		f, _, _ = bytes.Cut(rest, semi)
	default:
		return 0, false
	}
	n, ok := tf.Uint(f)
	if !ok || n > 1<<30 {
		return 0, false
	}
	return int(n), true
}

var semi = []byte{';'}

// cutPacket splits a line "[prefix]#TYPE#body" into its parts. prefix is
// the UDP form's "IMEI" or "2.0;IMEI", empty for the TCP form.
func cutPacket(line []byte) (prefix, typ, body []byte, ok bool) {
	i := bytes.IndexByte(line, '#')
	if i < 0 {
		return nil, nil, nil, false
	}
	prefix = line[:i]
	rest := line[i+1:]
	j := bytes.IndexByte(rest, '#')
	if j < 0 {
		return nil, nil, nil, false
	}
	return prefix, rest[:j], rest[j+1:], true
}
