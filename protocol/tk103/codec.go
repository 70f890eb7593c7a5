package tk103

import (
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's name, as [Codec.Name] returns it.
const Name = "tk103"

// Codec is the TK103 protocol: parenthesised text frames,
// "(<id><command><body>)" and the comma-separated "(<id>,<command>,…)" of
// later models. The zero value is ready to use; a Codec is safe for
// concurrent use and never modified by its sessions.
type Codec struct {
	// MaxFrameSize bounds one frame, '(' to ')'. 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB).
	MaxFrameSize int
	// Lenient has no effect: TK103 frames carry no checksum. It is here so
	// that every codec takes the same options.
	Lenient bool
	// UTCOffset is how far the device's clock runs ahead of UTC; it is
	// taken off every timestamp. 0 reads the device's date and time as
	// UTC, which is what the GPS gives.
	UTCOffset time.Duration
	// AnswerAlarms acknowledges an alarm (BO01) with "(<id>AS01<type>)",
	// the alarm answer TK103 documents list, so that a device that waits
	// for it stops repeating the alarm. Off by default, as Traccar runs
	// this protocol.
	AnswerAlarms bool
}

// Name returns "tk103".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one TCP connection or one UDP peer.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t, fields: make([][]byte, 0, 24)}
}

// Split cuts a TCP stream into frames, '(' to ')' inclusive. Bytes before
// a '(' are skipped (devices send line ends and, some, noise between
// frames). A ')' inside a "$…$" text (the answer to a query, which may
// hold parentheses and line ends) does not end the frame. A frame longer
// than the frame limit is [protocol.ErrFrameTooLarge].
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, protocol.FrameLimit(c.MaxFrameSize))
}

func split(data []byte, max int) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] != '(' {
		i := 1
		for i < len(data) && data[i] != '(' {
			i++
		}
		return i, nil, nil
	}
	inText := false
	n := min(len(data), max)
	for i := 1; i < n; i++ {
		switch data[i] {
		case '$':
			inText = !inText
		case ')':
			if !inText {
				return i + 1, data[:i+1], nil
			}
		}
	}
	if len(data) >= max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no ')' within the frame size limit")
	}
	return 0, nil, nil
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
