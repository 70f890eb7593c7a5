package protocoltest

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// echoCodec is a tiny length-prefixed protocol for testing this package: one
// length byte, then "lat,lon" text; the reply is 0x06.
type echoCodec struct{}

func (echoCodec) Name() string { return "echo" }
func (echoCodec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) == 0 || len(data) < 1+int(data[0]) {
		return 0, nil, nil
	}
	return 1 + int(data[0]), data[:1+int(data[0])], nil
}
func (echoCodec) NewSession(protocol.Transport) protocol.Session { return echoSession{} }

type echoSession struct{}

func (echoSession) Decode(frame []byte, r *protocol.Result) error {
	lat, lon, ok := strings.Cut(string(frame[1:]), ",")
	if !ok {
		return protocol.Errorf("echo", 1, protocol.ErrMalformed, "no comma")
	}
	m := r.NewMessage()
	for _, kv := range []struct{ k, v string }{{protocol.ParamLatitude, lat}, {protocol.ParamLongitude, lon}} {
		v, err := protocol.ParseValueJSON([]byte(kv.v))
		if err != nil {
			return protocol.Errorf("echo", 1, protocol.ErrMalformed, err.Error())
		}
		m.Set(kv.k, v)
	}
	r.SetReply([]byte{6})
	return nil
}

func newEcho(Config) protocol.Codec { return echoCodec{} }

func TestRunDir(t *testing.T) { RunDir(t, "testdata", newEcho) }

func FuzzEcho(f *testing.F) { Fuzz(f, "testdata", newEcho) }

func TestArchiveRoundTrip(t *testing.T) {
	src := "Source: x\nTransport: udp\n-- a --\nhello\n-- b --\n-- c --\nlast"
	a := ParseArchive([]byte(src))
	if string(a.Comment) != "Source: x\nTransport: udp\n" || len(a.Files) != 3 {
		t.Fatalf("parsed %+v", a)
	}
	if d, _ := a.Get("a"); string(d) != "hello\n" {
		t.Errorf("a = %q", d)
	}
	a.Set("b", []byte("new\n"))
	if got := string(a.Format()); got != "Source: x\nTransport: udp\n-- a --\nhello\n-- b --\nnew\n-- c --\nlast\n" {
		t.Errorf("Format = %q", got)
	}
}

func TestLoadCaseErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"nosource": "Transport: tcp\n-- frame.hex --\n00\n",
		"badtr":    "Source: s\nTransport: sctp\n-- frame.hex --\n00\n",
		"noframe":  "Source: s\n",
		"badhex":   "Source: s\n-- frame.hex --\nzz\n",
		"badwant":  "Source: s\nWant: x\n-- frame.hex --\n00\n",
	} {
		p := filepath.Join(dir, name+".txtar")
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := LoadCase(p); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

func TestCheckMessage(t *testing.T) {
	var m protocol.Message
	m.SetFloat(protocol.ParamLatitude, 91)
	if CheckMessage(&m) == nil {
		t.Error("latitude 91 accepted")
	}
	m.SetFloat(protocol.ParamLatitude, -33.9)
	m.SetFloat(protocol.ParamSpeed, 80)
	if err := CheckMessage(&m); err != nil {
		t.Error(err)
	}
}

func TestDecodeOutcome(t *testing.T) {
	o := Decode(echoCodec{}, protocol.TCP, [][]byte{[]byte("\x051,2.5\x03"), []byte("3,4")})
	if o.Err != nil || len(o.Messages) != 2 || !bytes.Equal(o.Replies, []byte{6, 6}) {
		t.Fatalf("%+v", o)
	}
	o = Decode(echoCodec{}, protocol.TCP, [][]byte{[]byte("\x03abc")})
	if CheckError(o.Err) != nil || o.Err == nil {
		t.Fatalf("malformed frame: %v", o.Err)
	}
}

func TestBenchmark(t *testing.T) {
	// 100 iterations, not the default second: this checks the helper, it
	// does not measure.
	old := flag.Lookup("test.benchtime").Value.String()
	flag.Set("test.benchtime", "100x")
	defer flag.Set("test.benchtime", old)

	frame := []byte("\x051,2.5")
	for _, bc := range []Bench{
		{Codec: echoCodec{}, Frame: frame, Messages: 1, MinParams: 2, Reply: true},
		{Codec: echoCodec{}, Frame: frame, Split: true, Setup: [][]byte{[]byte("\x033,4")}},
		{Codec: echoCodec{}, Transport: protocol.UDP, Frame: frame},
	} {
		res := testing.Benchmark(func(b *testing.B) { Benchmark(b, bc) })
		if res.N != 100 || res.Bytes != int64(len(frame)) {
			t.Errorf("%+v: N = %d, bytes/op = %d", bc, res.N, res.Bytes)
		}
	}
	// Each of these must fail before the loop: a zero result.
	for name, bc := range map[string]Bench{
		"two messages":   {Codec: echoCodec{}, Frame: frame, Messages: 2},
		"params":         {Codec: echoCodec{}, Frame: frame, MinParams: 3},
		"malformed":      {Codec: echoCodec{}, Frame: []byte("\x03abc")},
		"bad setup":      {Codec: echoCodec{}, Frame: frame, Setup: [][]byte{[]byte("\x01x")}},
		"split for more": {Codec: echoCodec{}, Frame: frame[:3], Split: true},
	} {
		if res := testing.Benchmark(func(b *testing.B) { Benchmark(b, bc) }); res.N != 0 {
			t.Errorf("%s: ran %d iterations", name, res.N)
		}
	}
}

// upper encodes a command as its Text in capitals; an empty Text is an
// error that still writes, which CheckCommands must catch.
type upper struct{}

func (upper) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if c.Text == "" {
		return append(dst, '!'), errors.New("empty")
	}
	return append(dst, strings.ToUpper(c.Text)...), nil
}

// recorder counts the failures a check reports instead of failing.
type recorder struct {
	testing.TB
	failures int
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failures++ }
func (r *recorder) Fatal(...any)          { r.failures++ }
func (r *recorder) Fatalf(string, ...any) { r.failures++ }

func TestCheckCommands(t *testing.T) {
	rec := &recorder{TB: t}
	CheckCommands(rec, upper{}, "<%s>", []Encoded{{Command: protocol.Command{Text: "<ab>"}, Want: "AB"}}, nil)
	if rec.failures != 0 {
		t.Fatalf("%d failures for a right encoding", rec.failures)
	}
	CheckCommands(rec, upper{}, "%s", []Encoded{
		{Command: protocol.Command{Text: "ab"}, Want: "ab"}, // wrong text
		{Command: protocol.Command{}, Want: "!"},            // an error
	}, []protocol.Command{
		{Text: "ok"}, // no error
		{},           // an error, but dst written
	})
	if rec.failures != 4 {
		t.Fatalf("%d failures, want 4", rec.failures)
	}
}

func TestDecodeText(t *testing.T) {
	o := DecodeText(echoCodec{}, protocol.TCP, "\x051,2.5", "\x033,4")
	if o.Err != nil || len(o.Messages) != 2 {
		t.Fatalf("%+v", o)
	}
}

func TestHexAndDecodeFrame(t *testing.T) {
	if b := Hex(t, "05 31 2c 32"); string(b) != "\x051,2" {
		t.Fatalf("Hex = %q", b)
	}
	if r := DecodeFrame(t, echoSession{}, Hex(t, "03312c32")); len(r.Messages) != 1 {
		t.Fatalf("%+v", r)
	}
	rec := &recorder{TB: t}
	Hex(rec, "0g")
	DecodeFrame(rec, echoSession{}, []byte("\x03abc"))
	if rec.failures != 2 {
		t.Fatalf("%d failures, want 2", rec.failures)
	}
}

func TestCheckSplit(t *testing.T) {
	split := echoCodec{}.Split
	CheckSplit(t, split, []SplitCase{
		{In: "\x031,2x", Advance: 4, Frame: "\x031,2"},
		{In: "\x031,", AtEOF: true},
	})
	rec := &recorder{TB: t}
	CheckSplit(rec, split, []SplitCase{
		{In: "\x031,2", Advance: 3, Frame: "\x031,2"},                             // wrong advance
		{In: "\x031,2", Advance: 4, Frame: "\x031,3"},                             // wrong frame
		{In: "\x031,2", Advance: 4, Frame: "\x031,2", Err: protocol.ErrMalformed}, // an error that does not come
	})
	if rec.failures != 3 {
		t.Fatalf("%d failures, want 3", rec.failures)
	}
}
