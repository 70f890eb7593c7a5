package protocoltest

import (
	"fmt"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// Bench is one decoding benchmark: the frames a connection sends first (a
// login, a negotiation), the frame measured, and what it must decode to.
type Bench struct {
	Codec     protocol.Codec
	Transport protocol.Transport // TCP when zero
	// Setup frames are decoded once, in order, by the same session before
	// the measured frame: what puts a connection in its steady state.
	Setup [][]byte
	Frame []byte
	// Split frames Frame first in every iteration, as a channel does: with
	// the session's [protocol.Splitter] if it has one, else Codec.Split.
	Split bool

	// What Frame must decode to, checked before and after the loop.
	Messages  int  // exactly this many messages; 0: at least one
	MinParams int  // the first message has at least this many parameters
	Reply     bool // the frame is answered (Result.Reply is not empty)
}

// Benchmark decodes bc.Frame into one reused [protocol.Result] every
// iteration, as a channel does on an established connection, and reports
// the frame's bytes and the allocations per op. One iteration runs before
// the timed loop, so that a frame the session refuses fails at once, with
// the check of what it decoded, rather than after b.N iterations.
func Benchmark(b *testing.B, bc Bench) {
	b.Helper()
	s := bc.Codec.NewSession(bc.Transport)
	var r protocol.Result
	for i, f := range bc.Setup {
		r.Reset()
		if err := s.Decode(f, &r); err != nil {
			b.Fatalf("setup frame %d: %v", i, err)
		}
	}
	frame := bc.Frame
	var split func([]byte, bool) (int, []byte, error)
	if bc.Split {
		split = bc.Codec.Split
		if sp, ok := s.(protocol.Splitter); ok {
			split = sp.Split
		}
	}
	f := frame
	if split != nil {
		var err error
		if _, f, err = split(frame, false); err != nil || f == nil {
			b.Fatalf("split: frame %q, error %v", f, err)
		}
	}
	r.Reset()
	if err := s.Decode(f, &r); err != nil {
		b.Fatal(err)
	}
	if err := bc.check(&r); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	// Two loops rather than a test inside one: the loop is what is measured.
	if split == nil {
		for b.Loop() {
			r.Reset()
			if err := s.Decode(frame, &r); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		for b.Loop() {
			r.Reset()
			_, f, err := split(frame, false)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Decode(f, &r); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := bc.check(&r); err != nil {
		b.Fatal(err)
	}
}

// check compares what the last decode produced with what bc expects.
func (bc *Bench) check(r *protocol.Result) error {
	n := len(r.Messages)
	switch {
	case bc.Messages > 0 && n != bc.Messages, n == 0:
		return fmt.Errorf("decoded %d messages, want %d", n, max(bc.Messages, 1))
	case r.Messages[0].Len() < bc.MinParams:
		return fmt.Errorf("first message has %d parameters, want at least %d: %s", r.Messages[0].Len(), bc.MinParams, r.Messages[0].String())
	case bc.Reply && len(r.Reply) == 0:
		return fmt.Errorf("no reply")
	}
	return nil
}
