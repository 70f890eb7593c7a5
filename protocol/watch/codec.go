package watch

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the protocol's name in errors and configuration.
const Name = "watch"

// Codec is the 3G/4G watch protocol. The zero value is ready to use; a
// Codec is safe for concurrent use: per-connection state lives in the
// [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds one frame, '[' to ']'. 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB); voice and picture parts
	// are the largest frames, a few kilobytes each.
	MaxFrameSize int
	// Lenient keeps frames whose length field does not match their content,
	// or whose binary data holds a bad escape, marking their messages with
	// [protocol.ParamLengthInvalid] or [protocol.ParamChecksumInvalid];
	// otherwise such a frame is a [protocol.ErrChecksum] or
	// [protocol.ErrMalformed] error.
	Lenient bool
}

// Name returns "watch".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t}
}

// Split cuts a TCP stream into frames, '[' to the matching ']'. Brackets
// nest: a Wi-Fi name such as "[LG_Wall-Mount A/C]" inside a report does not
// end it, and binary data escapes its brackets. Line ends between frames
// are skipped; any other byte outside a frame is a [protocol.ErrMalformed]
// error.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	skip := 0
	for skip < len(data) && (data[skip] == '\r' || data[skip] == '\n' || data[skip] == ' ') {
		skip++
	}
	if skip > 0 {
		return skip, nil, nil
	}
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] != '[' {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame does not start with '['")
	}
	max := protocol.FrameLimit(c.MaxFrameSize)
	// From each ']' to the next, count the '[' opened between them.
	depth, from := 0, 0
	limit := min(len(data), max)
	for from < limit {
		j := bytes.IndexByte(data[from:limit], ']')
		if j < 0 {
			break
		}
		depth += bytes.Count(data[from:from+j], []byte{'['}) - 1
		from += j + 1
		if depth <= 0 {
			return from, data[:from], nil
		}
	}
	if len(data) >= max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no closing ']' within the frame size limit")
	}
	return 0, nil, nil
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
