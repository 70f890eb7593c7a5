package gps103

import (
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's name, as [Codec.Name] returns it.
const Name = "gps103"

// Codec is the Coban GPS102/GPS103/GPS104 protocol (TK103-2, TK102B and
// the many trackers that copy it): text messages "imei:…,keyword,…;". The
// zero value is ready to use; a Codec is safe for concurrent use and never
// modified by its sessions.
type Codec struct {
	// MaxFrameSize bounds one message, delimiter included. 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB): a photo chunk ("vr") is a
	// few kilobytes of hex.
	MaxFrameSize int
	// Lenient has no effect: Coban messages carry no checksum. It is here
	// so that every codec takes the same options.
	Lenient bool
	// UTCOffset is the offset from UTC of the device's local clock (the
	// time zone set on it with "time zone" / the I command). It dates
	// messages that carry only the local date and time: those without a
	// GPS fix ("L") and OBD reports. A session that has seen a message with
	// both local time and the GPS's UTC time learns the offset from it and
	// uses that instead.
	UTCOffset time.Duration
	// AcknowledgeSOS answers an SOS message ("help me") with the cancel
	// alarm command "**,imei:<imei>,E;", so that the device stops
	// repeating it. Off by default: cancelling the alarm is the operator's
	// decision.
	AcknowledgeSOS bool
}

// Name returns "gps103".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one TCP connection or one UDP peer.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t, fields: make([][]byte, 0, 24)}
}

// Split cuts a TCP stream into messages. A message ends with ';', '*'
// (the alternative layout), or a line end; the delimiter stays in the
// frame. Empty messages (";\r\n" after a message) are skipped. At the end
// of the stream an unterminated message is a frame. A message longer than
// the frame limit is [protocol.ErrFrameTooLarge].
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, atEOF, protocol.FrameLimit(c.MaxFrameSize))
}

func isDelim(c byte) bool { return c == ';' || c == '*' || c == '\n' || c == '\r' }

func split(data []byte, atEOF bool, max int) (int, []byte, error) {
	i := 0
	for i < len(data) && (isDelim(data[i]) && data[i] != '*' || data[i] == ' ' || data[i] == 0) {
		i++
	}
	if i > 0 {
		return i, nil, nil
	}
	n := min(len(data), max)
	for j := 0; j < n; j++ {
		if isDelim(data[j]) {
			return j + 1, data[:j+1], nil
		}
	}
	if len(data) >= max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no ';' or line end within the frame size limit")
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
