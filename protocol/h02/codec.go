package h02

import (
	"bytes"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's name, as [Codec.Name] returns it.
const Name = "h02"

// Frame sizes of the binary ("$") records: the documents' standard record,
// the record with base station data, and two sizes seen from devices whose
// record carries a longer id or a vendor tail.
const (
	sizeStandard = 32
	sizeLongID   = 42
	sizeCell     = 45
	sizeVendor   = 46
	// maxOddSize bounds a binary record of a size none of the above, taken
	// whole only when it ends the stream or datagram.
	maxOddSize = 64
)

// Codec is the H02 protocol (Sinotrack ST-901 and the many trackers on the
// same firmware): "*HQ,…#" text frames and "$" binary records. The zero
// value is ready to use; a Codec is safe for concurrent use and never
// modified by its sessions.
type Codec struct {
	// MaxFrameSize bounds one text frame, '*' to '#'. 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB).
	MaxFrameSize int
	// Lenient has no effect: H02 frames carry no checksum and no length.
	// It is here so that every codec takes the same options.
	Lenient bool
	// UTCOffset is how far the device's clock runs ahead of UTC. H02
	// devices send the time their firmware was set to: most send UTC (the
	// LKGPS document: "device time, GMT"), some send local time (the
	// V1.0.3 document shows China's +8 hours). Timestamps are the device's
	// date and time minus UTCOffset; 0 takes them as UTC.
	UTCOffset time.Duration
	// BinaryFrameSize fixes the size of a binary record (32 for the
	// documents' standard record, 45 with base station data). 0 detects
	// it: a record ends at 32, 42, 45 or 46 bytes where the next record of
	// the same device, or a text frame, begins; a session remembers the
	// size it found, so that only its first record waits for the next one.
	BinaryFrameSize int
	// NoTimeReply turns off the answer to V1 and NBR reports. By default
	// they are answered with the server's UTC time, "*HQ,<id>,V4,V1,
	// yyyyMMddHHmmss#", the LKGPS document's time calibration that
	// long-standby devices wait for (others ignore it).
	NoTimeReply bool
	// Now is the clock for time replies and for dating blind-spot (BC)
	// records, which carry a day of the month but no month or year. nil
	// means time.Now.
	Now func() time.Time
}

// Name returns "h02".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one TCP connection or one UDP peer.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	s := &Session{codec: c, transport: t, binSize: c.BinaryFrameSize}
	s.fields = make([][]byte, 0, 32)
	return s
}

// Split cuts a TCP stream into frames: a text frame from '*' to '#'
// inclusive, or a binary record starting with '$' or 'X' (see
// [Codec].BinaryFrameSize). CR, LF, spaces and NUL bytes between frames are
// skipped; any other byte where a frame should start is a
// [protocol.ErrMalformed] error, which drops the connection. A text frame
// longer than the frame limit is [protocol.ErrFrameTooLarge].
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	adv, frame, _, err := split(data, atEOF, protocol.FrameLimit(c.MaxFrameSize), c.BinaryFrameSize)
	return adv, frame, err
}

func isGap(c byte) bool { return c == '\r' || c == '\n' || c == ' ' || c == 0 || c == '\t' }

// split is Codec.Split with the binary record size known so far (0 when
// unknown). learnt is the size a record was found to have by the frame
// that follows it, for a session to remember.
func split(data []byte, atEOF bool, max, binSize int) (adv int, frame []byte, learnt int, err error) {
	i := 0
	for i < len(data) && isGap(data[i]) {
		i++
	}
	if i > 0 {
		return i, nil, 0, nil
	}
	if len(data) == 0 {
		return 0, nil, 0, nil
	}
	switch data[0] {
	case '*':
		end := bytes.IndexByte(data[:min(len(data), max)], '#')
		if end < 0 {
			if len(data) >= max {
				return 0, nil, 0, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no '#' within the frame size limit")
			}
			return 0, nil, 0, nil
		}
		return end + 1, data[:end+1], 0, nil
	case 'X':
		if len(data) < sizeStandard {
			return 0, nil, 0, nil
		}
		return sizeStandard, data[:sizeStandard], 0, nil
	case '$':
		n, learnt, err := binaryEnd(data, atEOF, binSize)
		if n == 0 || err != nil {
			return 0, nil, 0, err
		}
		return n, data[:n], learnt, nil
	}
	return 0, nil, 0, protocol.Errorf(Name, 0, protocol.ErrMalformed, "a frame starts with '*', '$' or 'X'")
}

// binaryEnd finds where the "$" record at data[0] ends; 0 asks for more
// data. learnt is set when a following frame confirmed the size.
func binaryEnd(data []byte, atEOF bool, known int) (n, learnt int, err error) {
	if known > 0 {
		if len(data) < known {
			return 0, 0, nil
		}
		return known, 0, nil
	}
	for _, size := range [...]int{sizeStandard, sizeLongID, sizeCell, sizeVendor} {
		if len(data) < size {
			if atEOF && len(data) >= sizeStandard {
				return len(data), 0, nil // an odd record that ends the stream
			}
			return 0, 0, nil
		}
		if len(data) == size {
			if atEOF {
				return size, 0, nil
			}
			return 0, 0, nil
		}
		switch nextFrame(data[size:], data, atEOF) {
		case yes:
			return size, size, nil
		case maybe:
			return 0, 0, nil
		}
	}
	if atEOF && len(data) <= maxOddSize {
		return len(data), 0, nil
	}
	if len(data) > maxOddSize {
		return 0, 0, protocol.Errorf(Name, 0, protocol.ErrMalformed, "binary record of no known size: no frame follows it at 32, 42, 45 or 46 bytes")
	}
	return 0, 0, nil
}

type verdict int

const (
	no verdict = iota
	yes
	maybe // not enough bytes to tell
)

// nextFrame reports whether b starts a frame that can follow the binary
// record rec: a record of the same device (its '$' and id bytes repeat), an
// X-mode record, or a text frame ("*XX,"). Requiring the id to repeat
// keeps a 0x24 or 0x2A inside a longer record from passing for a frame
// start.
func nextFrame(b, rec []byte, atEOF bool) verdict {
	need := func(n int) bool { return len(b) < n && !atEOF }
	switch b[0] {
	case '$':
		const idLen = 5
		for i := 1; i <= idLen; i++ {
			if i >= len(b) {
				if need(i + 1) {
					return maybe
				}
				return yes // the stream ends inside the next record's id
			}
			if b[i] != rec[i] {
				return no
			}
		}
		return yes
	case '*':
		for i := 1; i <= 3; i++ {
			if i >= len(b) {
				if need(i + 1) {
					return maybe
				}
				return yes
			}
			c := b[i]
			if i < 3 && !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') || i == 3 && c != ',' {
				return no
			}
		}
		return yes
	case 'X':
		for i := 1; i <= 5; i++ {
			if i >= len(b) {
				if need(i + 1) {
					return maybe
				}
				return yes
			}
			if b[i]>>4 > 9 || b[i]&0x0F > 9 {
				return no
			}
		}
		return yes
	}
	return no
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.Splitter       = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
