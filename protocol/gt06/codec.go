package gt06

import (
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's protocol name.
const Name = "gt06"

// Start markers and the stop marker of a frame.
const (
	short    = 0x78 // "78 78": one-byte length
	extended = 0x79 // "79 79": two-byte length
)

// Codec is the GT06 / Concox protocol. The zero value is ready to use and it
// is safe for concurrent use: per-connection state lives in the [Session]s
// it makes.
type Codec struct {
	// MaxFrameSize bounds a frame, start to stop marker. 0 means
	// [protocol.DefaultMaxFrameSize].
	MaxFrameSize int
	// Lenient keeps frames whose CRC or length field is wrong (some devices
	// really send them) and marks their messages with
	// [protocol.ParamChecksumInvalid] or [protocol.ParamLengthInvalid].
	// Otherwise such a frame is a [protocol.ErrChecksum] error.
	Lenient bool
	// CommandLanguage, when not 0, is appended to server commands (0x80) as
	// the two-byte language field that later Concox firmware (GT06N, JM-VL
	// series) expects: 1 Chinese, 2 English. 0 omits the field, as the GT06
	// v1.8 document lays the command out.
	CommandLanguage uint16
	// Now is the clock used to answer time requests (0x8A). nil means
	// time.Now.
	Now func() time.Time
	// Model names the device model when a port serves firmware that departs
	// from the Concox documents in ways the bytes cannot tell: "LW…"
	// (LW4G family: alarm 0x18 is a crash and 0x19 a harsh acceleration,
	// the 0x13 heartbeat ends with the external voltage), "NT20" and the
	// other NT models, "VL100", "XT40" (0x22/0x25 start with a source byte,
	// the IMEI and a device time, and carry voltages, mileage and hours),
	// "TR08X" (alarm 0x0C is tampering, not power-on). Matched without
	// regard to case; "" (the default) follows the documents.
	Model string
}

// model reports what Model selects.
func (c *Codec) model() modelQuirks {
	m := strings.ToUpper(c.Model)
	switch {
	case m == "":
		return modelQuirks{}
	case strings.HasPrefix(m, "LW"):
		return modelQuirks{lw: true}
	case m == "TR08X":
		return modelQuirks{tr08x: true}
	case m == "NT11" || m == "NT20" || m == "NT26" || m == "NT40" || m == "NT46" || m == "VL100" || m == "XT40":
		return modelQuirks{nt: true}
	}
	return modelQuirks{}
}

// modelQuirks are the departures from the documents that Codec.Model
// selects.
type modelQuirks struct {
	lw    bool // LW4G family
	nt    bool // NT models, VL100, XT40
	tr08x bool
}

// Name returns "gt06".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection. GT06 runs over TCP; a UDP
// datagram is decoded as one frame.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, quirks: c.model()}
}

// Split cuts a TCP stream into frames. A frame normally ends where its
// length field says, on "0D 0A". When the length field is wrong (some
// devices send Wi-Fi and status packets with a length of 0, 3 or 8), the
// frame is taken to end at the first "0D 0A" that is followed by the next
// frame's start marker or by the end of the bytes read so far; the session
// then reports the bad length (or, when lenient, marks the message). Bytes
// that do not start with "78 78" or "79 79" are a [protocol.ErrMalformed]
// error, which drops the connection: the stream cannot be trusted after
// garbage.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, protocol.FrameLimit(c.MaxFrameSize))
}

func split(data []byte, max int) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] != short && data[0] != extended {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "bad start marker")
	}
	if len(data) < 2 {
		return 0, nil, nil
	}
	if data[1] != data[0] {
		return 0, nil, protocol.Errorf(Name, 1, protocol.ErrMalformed, "bad start marker")
	}
	hl := headerLen(data[0])
	if len(data) < hl {
		return 0, nil, nil
	}
	end := hl + declaredLen(data) + 2
	if end > len(data) {
		if end > max {
			return 0, nil, protocol.Errorf(Name, 2, protocol.ErrFrameTooLarge, "length field exceeds the frame size limit")
		}
		return 0, nil, nil
	}
	if data[end-2] == '\r' && data[end-1] == '\n' && end <= max {
		return end, data[:end], nil
	}
	// The length field is wrong: look for the stop marker instead, within
	// maxScan bytes (frames with a wrong length are short; the bound keeps
	// a hostile trickle of bytes from costing quadratic time).
	limit := min(max, maxScan)
	for p := hl + 1; p+1 < len(data) && p+2 <= limit; p++ {
		if data[p] != '\r' || data[p+1] != '\n' {
			continue
		}
		if rest := data[p+2:]; len(rest) == 0 || isMarkerPrefix(rest) {
			return p + 2, data[:p+2], nil
		}
	}
	if len(data) >= limit {
		if limit == max {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no stop marker within the frame size limit")
		}
		return 0, nil, protocol.Errorf(Name, 2, protocol.ErrMalformed, "wrong length field and no stop marker within 4 KiB")
	}
	return 0, nil, nil
}

// maxScan bounds the search for the stop marker of a frame whose length
// field is wrong.
const maxScan = 4 << 10

// isMarkerPrefix reports whether b starts like a frame: "78 78", "79 79", or
// the first byte of one.
func isMarkerPrefix(b []byte) bool {
	if b[0] != short && b[0] != extended {
		return false
	}
	return len(b) == 1 || b[1] == b[0]
}

func headerLen(marker byte) int {
	if marker == extended {
		return 4
	}
	return 3
}

// declaredLen reads the length field of a frame whose header is complete.
func declaredLen(frame []byte) int {
	if frame[0] == extended {
		return int(frame[2])<<8 | int(frame[3])
	}
	return int(frame[2])
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
