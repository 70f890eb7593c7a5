package protocol

import (
	"bytes"
	"errors"
	"testing"
)

// lenCodec is a minimal length-prefixed protocol used to test the stream
// decoder itself: one length byte, then that many payload bytes; a payload
// starting with '!' is malformed; the reply is the payload's length.
type lenCodec struct{}

func (lenCodec) Name() string { return "len" }
func (lenCodec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	n := int(data[0])
	if n == 0xFF {
		return 0, nil, Errorf("len", 0, ErrFrameTooLarge, "")
	}
	if len(data) < 1+n {
		return 0, nil, nil
	}
	return 1 + n, data[:1+n], nil
}
func (lenCodec) NewSession(Transport) Session { return &lenSession{} }

type lenSession struct{ frames int }

func (s *lenSession) Decode(frame []byte, r *Result) error {
	if len(frame) > 1 && frame[1] == '!' {
		return Errorf("len", 1, ErrMalformed, "bang")
	}
	s.frames++
	m := r.NewMessage()
	m.SetString("payload", string(frame[1:]))
	m.SetInt("frame", int64(s.frames))
	r.SetReply([]byte{byte(len(frame) - 1)})
	return nil
}

func collect(t *testing.T, d *StreamDecoder, chunks ...[]byte) (msgs []string, replies []byte, err error) {
	t.Helper()
	fn := func(_ []byte, r *Result) error {
		for i := range r.Messages {
			msgs = append(msgs, r.Messages[i].String())
		}
		replies = append(replies, r.Reply...)
		return nil
	}
	for _, c := range chunks {
		if err = d.Feed(c, fn); err != nil {
			return
		}
	}
	err = d.Finish(fn)
	return
}

func TestStreamDecoderChunks(t *testing.T) {
	stream := []byte("\x03abc\x00\x02de")
	whole, wholeReplies, err := collect(t, NewStreamDecoder(lenCodec{}, TCP, 0), stream)
	if err != nil || len(whole) != 3 || !bytes.Equal(wholeReplies, []byte{3, 0, 2}) {
		t.Fatalf("whole: %v %x %v", whole, wholeReplies, err)
	}
	for k := 1; k < len(stream); k++ {
		got, replies, err := collect(t, NewStreamDecoder(lenCodec{}, TCP, 0), stream[:k], stream[k:])
		if err != nil || len(got) != 3 || got[2] != whole[2] || !bytes.Equal(replies, wholeReplies) {
			t.Fatalf("split %d: %v %x %v", k, got, replies, err)
		}
	}
}

func TestStreamDecoderErrorsCarryStreamOffset(t *testing.T) {
	d := NewStreamDecoder(lenCodec{}, TCP, 0)
	_, _, err := collect(t, d, []byte("\x01a\x02!b\x01c"))
	var de *DecodeError
	if !errors.As(err, &de) || de.Offset != 3 || !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want malformed at offset 3", err)
	}
	// The faulty frame is consumed: feeding nothing goes on after it.
	var rest []string
	if err := d.Feed(nil, func(_ []byte, r *Result) error {
		rest = append(rest, r.Messages[0].String())
		return nil
	}); err != nil || len(rest) != 1 {
		t.Fatalf("after the error: %v %v", rest, err)
	}
}

func TestStreamDecoderTruncatedAndTooLarge(t *testing.T) {
	_, _, err := collect(t, NewStreamDecoder(lenCodec{}, TCP, 0), []byte("\x05ab"))
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated stream: %v", err)
	}
	_, _, err = collect(t, NewStreamDecoder(lenCodec{}, TCP, 0), []byte("\x01a\xff"))
	var de *DecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrFrameTooLarge) || de.Offset != 2 {
		t.Errorf("too large: %v", err)
	}
	// A codec that keeps asking for more hits the buffer cap.
	_, _, err = collect(t, NewStreamDecoder(lenCodec{}, TCP, 8), []byte("\xfe0123456789"))
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("buffer cap: %v", err)
	}
}

func TestStreamDecoderUDP(t *testing.T) {
	d := NewStreamDecoder(lenCodec{}, UDP, 0)
	msgs, replies, err := collect(t, d, []byte("\x02ab"), []byte("\x01c"))
	if err != nil || len(msgs) != 2 || !bytes.Equal(replies, []byte{2, 1}) {
		t.Fatalf("%v %x %v", msgs, replies, err)
	}
}

func TestResultReuse(t *testing.T) {
	var r Result
	m := r.NewMessage()
	m.SetInt("a", 1)
	r.SetReply([]byte{1, 2})
	r.Reset()
	if len(r.Messages) != 0 || len(r.Reply) != 0 {
		t.Fatalf("Reset left %d messages, reply %x", len(r.Messages), r.Reply)
	}
	m = r.NewMessage()
	if m.Len() != 0 {
		t.Fatalf("reused message not empty: %s", m.String())
	}
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset()
		m := r.NewMessage()
		m.SetInt("a", 1)
		m.SetFloat("b", 2)
		r.SetReply([]byte{1})
	})
	if allocs != 0 {
		t.Errorf("steady-state decode path allocates %v times", allocs)
	}
}

func TestStreamDecoderRelease(t *testing.T) {
	d := NewStreamDecoder(lenCodec{}, TCP, 0)
	d.res.Ident = "dev"
	var got []string
	fn := func(_ []byte, r *Result) error {
		got = append(got, r.Messages[0].String())
		return nil
	}
	if err := d.Feed([]byte("\x03abc\x02d"), fn); err != nil {
		t.Fatal(err)
	}
	if d.Release() {
		t.Fatal("Release dropped a partial frame")
	}
	if err := d.Feed([]byte("e"), fn); err != nil {
		t.Fatal(err)
	}
	if !d.Release() || d.buf != nil || d.res.Messages != nil || d.Ident() != "dev" {
		t.Fatalf("after Release: buf %v messages %v ident %q", d.buf, d.res.Messages, d.Ident())
	}
	if err := d.Feed([]byte("\x01f"), fn); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !bytes.Contains([]byte(got[1]), []byte("de")) || !bytes.Contains([]byte(got[2]), []byte(`"f"`)) {
		t.Fatalf("frames %v", got)
	}
}
