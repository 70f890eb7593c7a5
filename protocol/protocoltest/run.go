package protocoltest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// update is the -update flag of every test binary that imports this package:
// it rewrites the golden messages.json and reply.hex of each case.
var update = flag.Bool("update", false, "rewrite golden messages.json and reply.hex files")

// Config tells a codec factory how a case wants its codec.
type Config struct {
	Lenient bool
}

// NewCodec makes a codec for a case.
type NewCodec func(Config) protocol.Codec

// RunDir runs every *.txtar case in dir as a subtest: it decodes the case's
// input, checks the Expect and Want lines, compares messages and replies
// with the goldens, and runs [CheckChunked] and [CheckTruncated] on it.
func RunDir(t *testing.T, dir string, newCodec NewCodec) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no *.txtar cases in %s", dir)
	}
	sort.Strings(paths)
	for _, path := range paths {
		c, err := LoadCase(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.Name, func(t *testing.T) { RunCase(t, c, newCodec) })
	}
}

// RunCase runs one case; see [RunDir].
func RunCase(t *testing.T, c *Case, newCodec NewCodec) {
	t.Helper()
	codec := newCodec(Config{Lenient: c.Lenient})
	in := c.inbound()
	out := Decode(codec, c.Transport, in)

	if c.Expect == "error" {
		if out.Err == nil {
			t.Fatalf("decoded without error; the case expects one")
		}
		if msg := out.Err.Error(); c.ErrorText != "" && !bytes.Contains([]byte(msg), []byte(c.ErrorText)) {
			t.Errorf("error %q does not contain %q", msg, c.ErrorText)
		}
	} else if out.Err != nil {
		t.Fatalf("decode: %v\n%s", out.Err, hex.Dump(bytes.Join(in, nil)))
	}
	if err := CheckError(out.Err); err != nil {
		t.Error(err)
	}
	for i := range out.Messages {
		if err := CheckMessage(&out.Messages[i]); err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	switch c.Expect {
	case "position":
		if !slicesAny(out.Messages, HasPosition) {
			t.Errorf("no message has a position; the source says there is one")
		}
	case "no-position":
		if slicesAny(out.Messages, HasPosition) {
			t.Errorf("a message has a position; the source says there is none")
		}
	}
	for _, w := range c.Want {
		if !wanted(out.Messages, w) {
			t.Errorf("no message has %s = %v (stated by the source); got:\n%s", w.Name, w.Value, FormatMessages(out.Messages))
		}
	}
	gotMsgs, gotReply := FormatMessages(out.Messages), FormatHex(out.Replies)
	if *update {
		c.Archive.Set("messages.json", gotMsgs)
		c.Archive.Set("reply.hex", gotReply)
		if err := os.WriteFile(c.Path, c.Archive.Format(), 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		if want, ok := c.Archive.Get("messages.json"); !ok {
			t.Errorf("no messages.json golden (run with -update to write it)")
		} else if !bytes.Equal(normalizeJSON(t, want), gotMsgs) {
			t.Errorf("messages differ from the golden\ngot:\n%s\nwant:\n%s\ninput:\n%s", gotMsgs, want, hex.Dump(bytes.Join(in, nil)))
		}
		if want, ok := c.Archive.Get("reply.hex"); ok {
			wantBytes, err := traffic.ParseHex(string(want))
			if err != nil {
				t.Fatalf("reply.hex: %v", err)
			}
			if !bytes.Equal(wantBytes, out.Replies) {
				t.Errorf("replies differ\ngot:  %x\nwant: %x", out.Replies, wantBytes)
			}
		} else {
			t.Errorf("no reply.hex golden (run with -update to write it)")
		}
	}
	if c.Transport == protocol.TCP {
		CheckChunked(t, codec, bytes.Join(in, nil))
	}
	CheckTruncated(t, codec, c.Transport, in)
}

// normalizeJSON re-renders a golden messages.json so that hand-edited
// spacing does not fail a comparison.
func normalizeJSON(t *testing.T, data []byte) []byte {
	t.Helper()
	msgs, err := protocol.UnmarshalMessages(data)
	if err != nil {
		t.Fatalf("messages.json: %v", err)
	}
	return FormatMessages(msgs)
}

func slicesAny(msgs []protocol.Message, f func(*protocol.Message) bool) bool {
	for i := range msgs {
		if f(&msgs[i]) {
			return true
		}
	}
	return false
}

func wanted(msgs []protocol.Message, w Want) bool {
	for i := range msgs {
		v, ok := msgs[i].Lookup(w.Name)
		if !ok {
			continue
		}
		if v.Equal(w.Value) {
			return true
		}
		a, ok1 := v.Float()
		b, ok2 := w.Value.Float()
		if ok1 && ok2 && math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) {
			return true
		}
	}
	return false
}

// CheckChunked feeds stream to the codec split at every position, and one
// byte at a time, and checks each gives what the whole stream gives.
func CheckChunked(t *testing.T, codec protocol.Codec, stream []byte) {
	t.Helper()
	whole := Decode(codec, protocol.TCP, [][]byte{stream})
	want := FormatMessages(whole.Messages)
	same := func(how string, o Outcome) {
		t.Helper()
		if (o.Err == nil) != (whole.Err == nil) {
			t.Fatalf("%s: error %v, whole stream: %v", how, o.Err, whole.Err)
		}
		if got := FormatMessages(o.Messages); !bytes.Equal(got, want) {
			t.Fatalf("%s: messages differ\ngot:\n%s\nwant:\n%s", how, got, want)
		}
		if !bytes.Equal(o.Replies, whole.Replies) {
			t.Fatalf("%s: replies %x, whole stream %x", how, o.Replies, whole.Replies)
		}
	}
	for k := 1; k < len(stream); k++ {
		same(fmt.Sprintf("split at %d", k), Decode(codec, protocol.TCP, [][]byte{stream[:k], stream[k:]}))
	}
	bytewise := make([][]byte, len(stream))
	for i := range stream {
		bytewise[i] = stream[i : i+1]
	}
	same("one byte at a time", Decode(codec, protocol.TCP, bytewise))
}

// CheckTruncated decodes every prefix of the input (for UDP, of each
// datagram) and checks each ends in success or a clean, sentinel-wrapped
// error: never a panic.
func CheckTruncated(t *testing.T, codec protocol.Codec, tr protocol.Transport, chunks [][]byte) {
	t.Helper()
	if tr == protocol.TCP {
		stream := bytes.Join(chunks, nil)
		for k := 0; k < len(stream); k++ {
			if err := CheckError(decodeNoPanic(codec, tr, [][]byte{stream[:k]})); err != nil {
				t.Fatalf("prefix of %d bytes: %v", k, err)
			}
		}
		return
	}
	for i, dgram := range chunks {
		for k := 0; k < len(dgram); k++ {
			in := append(append([][]byte{}, chunks[:i]...), dgram[:k])
			if err := CheckError(decodeNoPanic(codec, tr, in)); err != nil {
				t.Fatalf("datagram %d cut to %d bytes: %v", i, k, err)
			}
		}
	}
}

func decodeNoPanic(codec protocol.Codec, tr protocol.Transport, chunks [][]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return Decode(codec, tr, chunks).Err
}

var sentinels = []error{protocol.ErrTruncated, protocol.ErrChecksum, protocol.ErrUnsupported,
	protocol.ErrFrameTooLarge, protocol.ErrMalformed}

// CheckError returns nil when err is nil or a [*protocol.DecodeError] that
// wraps one of the protocol package's sentinels, and a description of the
// fault otherwise.
func CheckError(err error) error {
	if err == nil {
		return nil
	}
	var de *protocol.DecodeError
	if !errors.As(err, &de) {
		return fmt.Errorf("error %v (%T) is not a *protocol.DecodeError", err, err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return nil
		}
	}
	return fmt.Errorf("error %v wraps none of the protocol sentinels", err)
}

// Fuzz seeds f with the input of every case in dir and fuzzes the codec over
// TCP (strict and lenient) and UDP. It checks that nothing panics, that Split
// keeps its contract, that every error is a clean sentinel-wrapped
// [*protocol.DecodeError], and that every message survives a JSON round trip.
func Fuzz(f *testing.F, dir string, newCodec NewCodec) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
	for _, p := range paths {
		c, err := LoadCase(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Join(c.inbound(), nil))
		for _, ch := range c.inbound() {
			f.Add(ch)
		}
	}
	strict, lenient := newCodec(Config{}), newCodec(Config{Lenient: true})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, atEOF := range []bool{false, true} {
			adv, frame, err := strict.Split(data, atEOF)
			if err == nil && (adv < 0 || adv > len(data) || adv == 0 && frame != nil) {
				t.Fatalf("Split(atEOF=%v) = advance %d, frame %d bytes, for %d bytes", atEOF, adv, len(frame), len(data))
			}
		}
		half := len(data) / 2
		for _, run := range []struct {
			codec protocol.Codec
			tr    protocol.Transport
			in    [][]byte
		}{
			{strict, protocol.TCP, [][]byte{data}},
			{lenient, protocol.TCP, [][]byte{data[:half], data[half:]}},
			{strict, protocol.UDP, [][]byte{data}},
			{lenient, protocol.UDP, [][]byte{data}},
		} {
			o := Decode(run.codec, run.tr, run.in)
			if err := CheckError(o.Err); err != nil {
				t.Fatalf("%v: %v", run.tr, err)
			}
			for i := range o.Messages {
				enc := o.Messages[i].AppendJSON(nil)
				var back protocol.Message
				if err := back.UnmarshalJSON(enc); err != nil {
					t.Fatalf("message %s does not read back: %v", enc, err)
				}
				if again := back.AppendJSON(nil); !bytes.Equal(again, enc) {
					t.Fatalf("JSON round trip changed the message\n%s\n%s", enc, again)
				}
			}
		}
	})
}
