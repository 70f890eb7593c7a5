package protocoltest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// Encoded is a command and what it encodes to.
type Encoded struct {
	Command protocol.Command
	Want    string
}

// CheckCommands checks a session's EncodeCommand. Each good command must
// be appended, with no error, after what dst already held, as
// fmt.Sprintf(wire, Want): a wire of "(ID%s)" lets the cases list only the
// bodies, "%s" takes them whole. Each bad command must give an error and
// leave dst as it was.
func CheckCommands(t testing.TB, enc protocol.CommandEncoder, wire string, good []Encoded, bad []protocol.Command) {
	t.Helper()
	for _, tc := range good {
		got, err := enc.EncodeCommand([]byte("x"), tc.Command)
		if want := "x" + fmt.Sprintf(wire, tc.Want); err != nil || string(got) != want {
			t.Errorf("%+v = %q, %v; want %q", tc.Command, got, err, want)
		}
	}
	for _, c := range bad {
		if got, err := enc.EncodeCommand([]byte("x"), c); err == nil || string(got) != "x" {
			t.Errorf("%+v = %q, %v; want an error, dst unchanged", c, got, err)
		}
	}
}

// DecodeText is [Decode] of text chunks.
func DecodeText(codec protocol.Codec, t protocol.Transport, chunks ...string) Outcome {
	in := make([][]byte, len(chunks))
	for i, s := range chunks {
		in[i] = []byte(s)
	}
	return Decode(codec, t, in)
}

// Hex decodes hex text, spaces allowed between the digits, or fails the
// test.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// DecodeFrame decodes one frame with s into a new Result, or fails the
// test.
func DecodeFrame(t testing.TB, s protocol.Session, frame []byte) *protocol.Result {
	t.Helper()
	var r protocol.Result
	if err := s.Decode(frame, &r); err != nil {
		t.Fatalf("decode %x: %v", frame, err)
	}
	return &r
}

// SplitCase is one call of a codec's Split and what it must return.
type SplitCase struct {
	In      string
	AtEOF   bool
	Advance int
	Frame   string
	Err     error // matched with errors.Is; nil for none
}

// CheckSplit runs split on each case.
func CheckSplit(t testing.TB, split func([]byte, bool) (int, []byte, error), cases []SplitCase) {
	t.Helper()
	for _, tc := range cases {
		adv, frame, err := split([]byte(tc.In), tc.AtEOF)
		if adv != tc.Advance || string(frame) != tc.Frame || !errors.Is(err, tc.Err) {
			t.Errorf("Split(%q, %v) = %d, %q, %v; want %d, %q, %v", tc.In, tc.AtEOF, adv, frame, err, tc.Advance, tc.Frame, tc.Err)
		}
	}
}
