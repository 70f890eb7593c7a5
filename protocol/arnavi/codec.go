package arnavi

import (
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's protocol name.
const Name = "arnavi"

// Frame markers of the binary protocol.
const (
	headerSign  = 0xFF // HEADER: version, IMEI
	packageSign = 0x5B // PACKAGE: number, packets, 0x5D
	packageEnd  = 0x5D
	answerStart = 0x7B // SERVER_COM
	answerEnd   = 0x7D
)

// Codec is the Arnavi protocol: the binary protocol of Arnavi 4/5 trackers
// (HEADER, PACKAGE of tagged records) and the "$AV" text protocol of older
// ones, told apart by their first byte on the same port. The zero value is
// ready to use and it is safe for concurrent use.
type Codec struct {
	// MaxFrameSize bounds a frame. 0 means [protocol.DefaultMaxFrameSize].
	MaxFrameSize int
	// Lenient keeps packets and sentences whose checksum is wrong and marks
	// their messages with [protocol.ParamChecksumInvalid]. Otherwise such a
	// frame is a [protocol.ErrChecksum] error.
	Lenient bool
	// Now is the clock of the HEADER answer, which tells the device the
	// server's time. nil means time.Now.
	Now func() time.Time
}

// Name returns "arnavi".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c}
}

// maxText bounds a text sentence.
const maxText = 1024

// Split cuts the stream: a HEADER is 10 bytes (18 for version 0x24), a
// PACKAGE runs from 0x5B over its packets (type, length, time, data,
// checksum) to 0x5D, and a text sentence from '$' to "*XX". CR and LF
// between frames are skipped. Any other first byte is a
// [protocol.ErrMalformed] error.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	max := protocol.FrameLimit(c.MaxFrameSize)
	if len(data) == 0 {
		return 0, nil, nil
	}
	switch data[0] {
	case '\r', '\n':
		n := 0
		for n < len(data) && (data[n] == '\r' || data[n] == '\n') {
			n++
		}
		return n, nil, nil
	case headerSign:
		if len(data) < 2 {
			return 0, nil, nil
		}
		n := 10
		if data[1] == 0x24 {
			n = 18
		}
		if len(data) < n {
			return 0, nil, nil
		}
		return n, data[:n], nil
	case packageSign:
		p := 2
		for {
			if p >= len(data) {
				if p >= max {
					return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "package beyond the frame size limit")
				}
				return 0, nil, nil
			}
			if data[p] == packageEnd {
				return p + 1, data[:p+1], nil
			}
			if p+3 > len(data) {
				return 0, nil, nil
			}
			p += 1 + 2 + 4 + int(le16(data[p+1:])) + 1
			if p > max {
				return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "package beyond the frame size limit")
			}
		}
	case '$':
		for i := 1; i < len(data); i++ {
			if i >= maxText {
				return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "text sentence without '*' within 1 KiB")
			}
			if data[i] == '*' {
				if i+3 > len(data) {
					return 0, nil, nil
				}
				return i + 3, data[:i+3], nil
			}
		}
		return 0, nil, nil
	}
	return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame starts with neither 0xFF, 0x5B nor '$'")
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
