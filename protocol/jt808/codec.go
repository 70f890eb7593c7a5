package jt808

import (
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's protocol name.
const Name = "jt808"

// Frame delimiters and the escape byte.
const (
	flag    = 0x7E
	escape  = 0x7D
	textBeg = '('
	textEnd = ')'
)

// Codec is the JT/T 808 protocol (2011, 2013 and 2019 editions). The zero
// value is ready to use and it is safe for concurrent use: per-connection
// state lives in the [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds a frame, delimiter to delimiter, as it arrives
	// (escaped). 0 means [protocol.DefaultMaxFrameSize].
	MaxFrameSize int
	// Lenient keeps frames whose check code or body-length field is wrong,
	// or that carry a bad escape sequence, and marks their messages with
	// [protocol.ParamChecksumInvalid] or [protocol.ParamLengthInvalid].
	// Otherwise such a frame is a [protocol.ErrChecksum] (or
	// [protocol.ErrMalformed]) error.
	Lenient bool
	// Location is the time zone of the BCD times devices send. nil means
	// UTC+8, the Beijing time the standard prescribes; devices configured
	// for UTC need time.UTC here.
	Location *time.Location
	// AuthCode gives the authentication code sent in the registration
	// answer (0x8100), which the device then presents in its
	// authentication (0x0102). nil sends the ident.
	AuthCode func(ident string) string
	// Authenticate, when set, checks the code a device presents in 0x0102.
	// A rejected device is answered 0x8001 with result 1 (failure) and the
	// connection is closed. nil accepts every code, as most servers do.
	Authenticate func(ident, code string) bool
	// TextFlag is the flag byte of text commands (0x8300): bit 0 urgent,
	// bit 2 show on the terminal display, bit 3 read aloud (TTS). 0 sends
	// 0x04 (display).
	TextFlag byte
	// Now is the clock used to answer time requests. nil means time.Now.
	Now func() time.Time
}

// Name returns "jt808".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection. JT/T 808 runs over TCP
// (and, rarely, UDP, where each datagram is one frame).
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, version: -1}
}

// maxSkip bounds the bytes before a start delimiter that Split discards
// when it is looking for a frame: a stream that never delimits one is an
// error rather than an endless drain.
const maxSkip = 4 << 10

// Split cuts a TCP stream into frames: 0x7E … 0x7E, escaped as it came (the
// session unescapes). Two delimiters in a row are the end of one frame and
// the start of the next, so the first is dropped. The parenthesised text
// frames some devices send in the same connection ("(id,1,001,BASE,2,TIME)")
// end at ")". Bytes before a delimiter (some devices prefix frames with
// "$$") are skipped; more than 4 KiB of them is a [protocol.ErrMalformed]
// error, and a frame longer than MaxFrameSize is
// [protocol.ErrFrameTooLarge].
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, protocol.FrameLimit(c.MaxFrameSize))
}

func split(data []byte, max int) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] != flag && data[0] != textBeg {
		for i, b := range data {
			if b == flag || b == textBeg {
				return i, nil, nil
			}
			if i >= maxSkip {
				return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "no frame delimiter 0x7E within 4 KiB")
			}
		}
		return len(data), nil, nil
	}
	end := byte(flag)
	if data[0] == textBeg {
		end = textEnd
	}
	for i := 1; i < len(data); i++ {
		if i >= max {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no closing delimiter within the frame size limit")
		}
		if data[i] != end {
			continue
		}
		if end == flag && i == 1 {
			return 1, nil, nil // "7E 7E": the end of a frame we did not see whole
		}
		return i + 1, data[:i+1], nil
	}
	if len(data) >= max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no closing delimiter within the frame size limit")
	}
	return 0, nil, nil
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
	_ protocol.Refuser        = (*Session)(nil)
)
