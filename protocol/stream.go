package protocol

import (
	"errors"
	"fmt"
)

// StreamDecoder runs a codec over one connection's bytes as a channel does:
// it buffers, frames, decodes, and hands each frame's [Result] (with its
// reply) to a callback. It is what channel servers, the decode tool and
// protocoltest share, so a capture replayed through it behaves as it did on
// the wire. A StreamDecoder is not safe for concurrent use.
type StreamDecoder struct {
	codec     Codec
	session   Session
	split     func([]byte, bool) (int, []byte, error)
	transport Transport
	maxBuffer int

	buf    []byte
	start  int   // first unconsumed byte in buf
	offset int64 // stream offset of buf[start]
	res    Result
}

// NewStreamDecoder starts decoding one connection. maxBuffer bounds the bytes
// held while waiting for the rest of a frame; 0 means twice
// [DefaultMaxFrameSize]. Codecs bound their own frames too: this is the last
// guard against a codec that keeps asking for more.
func NewStreamDecoder(c Codec, t Transport, maxBuffer int) *StreamDecoder {
	if maxBuffer <= 0 {
		maxBuffer = 2 * DefaultMaxFrameSize
	}
	d := &StreamDecoder{codec: c, session: c.NewSession(t), transport: t, maxBuffer: maxBuffer}
	d.split = c.Split
	if s, ok := d.session.(Splitter); ok {
		d.split = s.Split
	}
	return d
}

// Session returns the connection's session, e.g. to encode commands.
func (d *StreamDecoder) Session() Session { return d.session }

// Ident returns the device identifier the session has learnt, or "".
func (d *StreamDecoder) Ident() string { return d.res.Ident }

// Buffered returns the number of bytes held for an incomplete frame.
func (d *StreamDecoder) Buffered() int { return len(d.buf) - d.start }

// Release drops the storage the decoder keeps between frames (its buffer and
// the last frame's decoded messages) if no partial frame is held, so that an
// idle connection holds no memory for them; the next Feed allocates again.
// It reports whether it did. The session's Ident is kept.
func (d *StreamDecoder) Release() bool {
	if d.Buffered() > 0 {
		return false
	}
	d.buf, d.start = nil, 0
	d.res = Result{Ident: d.res.Ident}
	return true
}

// FrameFunc receives one decoded frame. r is valid only during the call; a
// non-nil error stops decoding and is returned by [StreamDecoder.Feed].
type FrameFunc func(frame []byte, r *Result) error

// Feed adds bytes from the connection (for UDP, one whole datagram) and calls
// fn for every complete frame. A decode error stops at the faulty frame,
// which is consumed: calling Feed again (with nil to add nothing) goes on
// with the bytes after it. Errors from the codec are [*DecodeError]s whose
// Offset counts from the start of the stream.
func (d *StreamDecoder) Feed(p []byte, fn FrameFunc) error {
	if d.transport == UDP {
		if p == nil {
			return nil
		}
		off := d.offset
		d.offset += int64(len(p))
		return d.decode(p, off, fn)
	}
	if len(p) > 0 {
		if d.start > 0 && d.start == len(d.buf) {
			d.buf, d.start = d.buf[:0], 0
		}
		d.buf = append(d.buf, p...)
	}
	return d.drain(false, fn)
}

// Finish tells the decoder the stream has ended and decodes what remains.
// Bytes that do not make a whole frame are reported as [ErrTruncated].
func (d *StreamDecoder) Finish(fn FrameFunc) error {
	if d.transport == UDP {
		return nil
	}
	if err := d.drain(true, fn); err != nil {
		return err
	}
	if n := d.Buffered(); n > 0 {
		off := d.offset
		d.start = len(d.buf)
		d.offset += int64(n)
		return &DecodeError{Protocol: d.codec.Name(), Offset: int(off), Err: &detailError{ErrTruncated, fmt.Sprintf("stream ends inside a frame (%d bytes left)", n)}}
	}
	return nil
}

func (d *StreamDecoder) drain(atEOF bool, fn FrameFunc) error {
	for d.start < len(d.buf) {
		data := d.buf[d.start:]
		adv, frame, err := d.split(data, atEOF)
		if err != nil {
			return d.frameError(err, d.offset)
		}
		if adv < 0 || adv > len(data) || (adv == 0 && frame != nil) {
			return d.frameError(fmt.Errorf("%w: codec split returned advance %d of %d bytes", ErrMalformed, adv, len(data)), d.offset)
		}
		if adv == 0 {
			if len(data) > d.maxBuffer {
				return d.frameError(fmt.Errorf("%w: %d bytes buffered without a complete frame", ErrFrameTooLarge, len(data)), d.offset)
			}
			break
		}
		off := d.offset
		d.start += adv
		d.offset += int64(adv)
		if frame != nil {
			if err := d.decode(frame, off, fn); err != nil {
				return err
			}
		}
	}
	// Move the partial frame down so the buffer does not grow without end.
	if d.start > 0 && d.start >= len(d.buf)/2 {
		n := copy(d.buf, d.buf[d.start:])
		d.buf, d.start = d.buf[:n], 0
	}
	return nil
}

func (d *StreamDecoder) decode(frame []byte, off int64, fn FrameFunc) error {
	d.res.Reset()
	if err := d.session.Decode(frame, &d.res); err != nil {
		return d.frameError(err, off)
	}
	return fn(frame, &d.res)
}

// frameError moves a frame-relative error to a stream offset, and names the
// protocol on errors a codec returned bare.
func (d *StreamDecoder) frameError(err error, off int64) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return &DecodeError{Protocol: de.Protocol, Offset: int(off) + de.Offset, Err: de.Err}
	}
	return &DecodeError{Protocol: d.codec.Name(), Offset: int(off), Err: err}
}
