package wsstream

import (
	"encoding/binary"
	"unicode/utf8"
)

// RFC 6455 §5.2 opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close status codes (RFC 6455 §7.4.1).
const (
	CloseNormal        = 1000
	CloseProtocolError = 1002
	CloseInvalidData   = 1007
	CloseTooBig        = 1009
)

// maxControl is the largest control frame payload (RFC 6455 §5.5).
const maxControl = 125

// maxHeader is the longest client frame header: 2 bytes, a 64-bit length
// and the masking key.
const maxHeader = 2 + 8 + 4

// A FrameError is a peer's violation of RFC 6455. Code is the close
// status the server sends before giving up on the connection.
type FrameError struct {
	Code uint16
	Msg  string
}

func (e *FrameError) Error() string { return "wsstream: " + e.Msg }

// Is makes every FrameError match ErrProtocol.
func (e *FrameError) Is(target error) bool { return target == ErrProtocol }

// The violations a frameReader reports, made once.
var (
	errUnmasked        = &FrameError{CloseProtocolError, "client frame not masked"}
	errReservedBits    = &FrameError{CloseProtocolError, "reserved bits set (no extension was negotiated)"}
	errReservedOpcode  = &FrameError{CloseProtocolError, "reserved opcode"}
	errControlFragment = &FrameError{CloseProtocolError, "fragmented control frame"}
	errControlTooLong  = &FrameError{CloseProtocolError, "control frame longer than 125 bytes"}
	errBadContinuation = &FrameError{CloseProtocolError, "continuation frame outside a fragmented message"}
	errUnfinished      = &FrameError{CloseProtocolError, "new message before the last one's final fragment"}
	errLengthMSB       = &FrameError{CloseProtocolError, "payload length has its most significant bit set"}
	errCloseLength     = &FrameError{CloseProtocolError, "close frame with a 1-byte payload"}
	errCloseCode       = &FrameError{CloseProtocolError, "invalid close status code"}
	errCloseReason     = &FrameError{CloseInvalidData, "close reason is not UTF-8"}
	errTooBig          = &FrameError{CloseTooBig, "message larger than the limit"}
)

// frameReader decodes the frames a client sends (RFC 6455 §5) as a stream:
// the payload of data frames goes to the caller, unmasked, as it arrives,
// and control frames are handed over whole. It holds no buffer: the
// caller's input holds the bytes, and between frames (or inside a data
// frame's payload) all its state is these few fields. That is what lets an
// idle connection be parked with nothing but its state.
type frameReader struct {
	max        int64 // bound on a message's payload (all its fragments); <= 0: none
	binaryOnly bool  // a text message is ErrTextFrame

	remaining int64   // payload bytes of the current data frame still to come
	msgLen    int64   // payload of the message in progress so far
	key       [4]byte // the current data frame's masking key
	keyPos    uint8   // position in key of the next payload byte
	inFrame   bool    // within a data frame's payload (remaining may be 0 only at its end)
	final     bool    // the current data frame is its message's last
	inMessage bool    // a data message has started and not yet ended
}

// A control is a control frame read whole: op and its unmasked payload,
// which aliases the input given to next.
type control struct {
	op      byte
	payload []byte
}

// next decodes from src, which starts at a frame boundary or inside the
// current data frame's payload. Data payload is unmasked into dst. It stops
// when dst is full, when src holds no whole header (or control frame) more,
// after a control frame (returned in ctl, its payload unmasked in place in
// src), or at a violation (err, a *FrameError or ErrTextFrame). used is
// how much of src was consumed, n how much of dst was filled.
func (fr *frameReader) next(src, dst []byte) (used, n int, ctl *control, err error) {
	for {
		if fr.inFrame {
			k := min(int64(len(src)-used), int64(len(dst)-n), fr.remaining)
			if k > 0 {
				m := copy(dst[n:n+int(k)], src[used:])
				fr.keyPos = mask(fr.key, fr.keyPos, dst[n:n+m])
				used += m
				n += m
				fr.remaining -= int64(m)
			}
			if fr.remaining > 0 {
				return used, n, nil, nil // needs more src, or dst is full
			}
			fr.inFrame = false
			if fr.final {
				fr.inMessage, fr.msgLen = false, 0
			}
		}
		if n == len(dst) && len(dst) > 0 {
			return used, n, nil, nil
		}
		h := src[used:]
		if len(h) < 2 {
			return used, n, nil, nil
		}
		b0, b1 := h[0], h[1]
		if b0&0x70 != 0 {
			return used, n, nil, errReservedBits
		}
		if b1&0x80 == 0 {
			return used, n, nil, errUnmasked
		}
		fin, op := b0&0x80 != 0, b0&0x0F
		hl := 2 + 4
		length := int64(b1 & 0x7F)
		switch length {
		case 126:
			hl += 2
		case 127:
			hl += 8
		}
		if len(h) < hl {
			return used, n, nil, nil
		}
		switch length {
		case 126:
			length = int64(binary.BigEndian.Uint16(h[2:]))
		case 127:
			u := binary.BigEndian.Uint64(h[2:])
			if u>>63 != 0 {
				return used, n, nil, errLengthMSB
			}
			length = int64(u)
		}
		var key [4]byte
		copy(key[:], h[hl-4:hl])
		switch op {
		case opClose, opPing, opPong:
			if !fin {
				return used, n, nil, errControlFragment
			}
			if length > maxControl {
				return used, n, nil, errControlTooLong
			}
			if int64(len(h)) < int64(hl)+length {
				return used, n, nil, nil // wait for the whole control frame
			}
			p := h[hl : hl+int(length)]
			mask(key, 0, p)
			return used + hl + int(length), n, &control{op: op, payload: p}, nil
		case opContinuation:
			if !fr.inMessage {
				return used, n, nil, errBadContinuation
			}
		case opText, opBinary:
			if fr.inMessage {
				return used, n, nil, errUnfinished
			}
			if op == opText && fr.binaryOnly {
				return used, n, nil, ErrTextFrame
			}
		default:
			return used, n, nil, errReservedOpcode
		}
		if fr.max > 0 && length > fr.max-fr.msgLen {
			return used, n, nil, errTooBig
		}
		used += hl
		fr.msgLen += length
		fr.remaining, fr.key, fr.keyPos = length, key, 0
		fr.inFrame, fr.final, fr.inMessage = true, fin, true
	}
}

// closeReply checks a close frame's payload (RFC 6455 §5.5.1, §7.4) and
// returns the status to answer with: the peer's own, echoed, or none (0)
// for an empty close frame.
func closeReply(p []byte) (code uint16, err error) {
	switch len(p) {
	case 0:
		return 0, nil
	case 1:
		return 0, errCloseLength
	}
	code = binary.BigEndian.Uint16(p)
	if !validCloseCode(code) {
		return 0, errCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return 0, errCloseReason
	}
	return code, nil
}

// validCloseCode: the codes a peer may send (RFC 6455 §7.4.1 and the IANA
// registry): 1000–1003, 1007–1014, and 3000–4999 for libraries and
// applications. 1004–1006 and 1015 are never sent on the wire.
func validCloseCode(c uint16) bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// mask XORs p with key starting at key position pos (RFC 6455 §5.3) and
// returns the position after p; masking twice unmasks.
func mask(key [4]byte, pos uint8, p []byte) uint8 {
	if len(p) >= 16 {
		var k [8]byte
		for i := range k {
			k[i] = key[(int(pos)+i)&3]
		}
		kw := binary.LittleEndian.Uint64(k[:])
		for len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^kw)
			p = p[8:]
		}
	}
	for i := range p {
		p[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}

// appendHeader appends the header of an unmasked frame (a server's) with
// FIN set.
func appendHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n <= 125:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
}
