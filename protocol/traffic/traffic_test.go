package traffic

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	ts := time.Date(2026, 11, 22, 10, 15, 4, 120e6, time.UTC)
	if err := w.Comment("connect peer=127.0.0.1:5000\nsecond line"); err != nil {
		t.Fatal(err)
	}
	w.Write(In, ts, []byte{0x00, 0x0f, 0x33})
	w.Write(Out, time.Time{}, []byte{0x01})
	want := "# connect peer=127.0.0.1:5000 second line\n2026-11-22T10:15:04.120Z > 000f33\n< 01\n"
	if buf.String() != want {
		t.Fatalf("written:\n%s\nwant:\n%s", buf.String(), want)
	}
	chunks, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 2 || !chunks[0].Time.Equal(ts) || chunks[0].Dir != In || chunks[1].Dir != Out ||
		!bytes.Equal(chunks[0].Data, []byte{0, 0x0f, 0x33}) || chunks[1].Line != 3 {
		t.Fatalf("parsed %+v", chunks)
	}
	if got := Inbound(chunks); !bytes.Equal(got, []byte{0, 0x0f, 0x33}) {
		t.Fatalf("inbound %x", got)
	}
}

func TestBareHexAndComments(t *testing.T) {
	chunks, err := Parse(strings.NewReader("0000 0000 # preamble\n\n  # only comment\n08 01\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 2 || chunks[1].Line != 4 || !bytes.Equal(chunks[1].Data, []byte{8, 1}) {
		t.Fatalf("parsed %+v", chunks)
	}
}

func TestErrors(t *testing.T) {
	for _, in := range []string{"> 0g", "> abc", "2026-11-22T10:15:04Z ? 00"} {
		if _, err := Parse(strings.NewReader(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: got %v, want ErrSyntax", in, err)
		}
	}
	if _, err := ParseHex("00 > 01"); !errors.Is(err, ErrSyntax) {
		t.Errorf("direction in plain hex: %v", err)
	}
	if b, err := ParseHex("00 0f # c\n 33\n"); err != nil || !bytes.Equal(b, []byte{0, 0x0f, 0x33}) {
		t.Errorf("ParseHex: %x %v", b, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("2026-11-22T10:15:04.120Z > 000f33\n< 01\n# c\n00 11")
	f.Add("zz")
	f.Add("> 01\nu1> 01\nu2< 02\nu< 03\n< 02\n")
	f.Fuzz(func(t *testing.T, s string) {
		chunks, err := Parse(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v is not ErrSyntax", err)
			}
			return
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, c := range chunks {
			w.WriteChunk(c)
		}
		again, err := Parse(&buf)
		if err != nil || len(again) != len(chunks) {
			t.Fatalf("re-parse: %v (%d vs %d chunks)", err, len(again), len(chunks))
		}
		for i := range chunks {
			if !bytes.Equal(again[i].Data, chunks[i].Data) || again[i].Dir != chunks[i].Dir || again[i].Upstream != chunks[i].Upstream {
				t.Fatalf("chunk %d changed", i)
			}
		}
	})
}

// A line longer than MaxLine is an error naming its line, and the lines
// before it have been returned already.
func TestReaderLineTooLong(t *testing.T) {
	in := "00\n# c\n" + strings.Repeat("0", MaxLine+2) + "\n11\n"
	rd := NewReader(strings.NewReader(in))
	c, err := rd.Next()
	if err != nil || !bytes.Equal(c.Data, []byte{0}) {
		t.Fatalf("first chunk %+v, %v", c, err)
	}
	_, err = rd.Next()
	if !errors.Is(err, ErrLineTooLong) || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("long line: %v", err)
	}
	if _, again := rd.Next(); again != err {
		t.Fatalf("error not sticky: %v", again)
	}
	// Exactly MaxLine bytes, with or without the final newline, is fine.
	for _, end := range []string{"\n", ""} {
		line := strings.Repeat("ab", MaxLine/2)
		chunks, err := Parse(strings.NewReader(line + end))
		if err != nil || len(chunks) != 1 || len(chunks[0].Data) != MaxLine/2 {
			t.Fatalf("MaxLine line (end %q): %v", end, err)
		}
	}
}

// Next returns a chunk as soon as its line is complete, before the input
// ends: it can follow a live capture.
func TestReaderFollows(t *testing.T) {
	pr, pw := io.Pipe()
	rd := NewReader(pr)
	got := make(chan Chunk)
	go func() {
		for {
			c, err := rd.Next()
			if err != nil {
				close(got)
				return
			}
			c.Data = append([]byte(nil), c.Data...)
			got <- c
		}
	}()
	for i, line := range []string{"> 0102\r\n", "< 03\n"} {
		pw.Write([]byte(line))
		select {
		case c := <-got:
			if c.Line != i+1 {
				t.Fatalf("chunk %+v", c)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("line %d not returned before the input ended", i+1)
		}
	}
	pw.Close()
	if _, ok := <-got; ok {
		t.Fatal("a chunk after EOF")
	}
}

// Reading a large input holds one line, not the input.
func BenchmarkReader(b *testing.B) {
	line := "2026-11-22T10:15:04.120Z > 78781f1211071403362aca0543ec4f00ff976e021549010603e6b500e7590074763d0d0a\n"
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	rd := NewReader(&repeatReader{line: line, n: -1}) // endless
	for b.Loop() {
		if _, err := rd.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

type repeatReader struct {
	line string
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.line[r.off:])
	r.off += k
	if r.off == len(r.line) {
		r.off = 0
		r.n--
	}
	return k, nil
}

func TestUpstreamLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write(In, time.Time{}, []byte{1})
	w.Write(ToUpstream, time.Time{}, []byte{1})
	w.WriteChunk(Chunk{Dir: FromUpstream, Upstream: 2, Data: []byte{2}})
	w.Write(Out, time.Time{}, []byte{2})
	want := "> 01\nu1> 01\nu2< 02\n< 02\n"
	if buf.String() != want {
		t.Fatalf("written:\n%s\nwant:\n%s", buf.String(), want)
	}
	chunks, err := Parse(strings.NewReader(buf.String() + "u< 03\nu> 04\n"))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		dir Direction
		up  int
		b   byte
	}
	wantChunks := []got{{In, 0, 1}, {ToUpstream, 1, 1}, {FromUpstream, 2, 2}, {Out, 0, 2}, {FromUpstream, 1, 3}, {ToUpstream, 1, 4}}
	if len(chunks) != len(wantChunks) {
		t.Fatalf("parsed %+v", chunks)
	}
	for i, c := range chunks {
		if g := (got{c.Dir, c.Upstream, c.Data[0]}); g != wantChunks[i] {
			t.Errorf("chunk %d: %+v, want %+v", i, g, wantChunks[i])
		}
	}
	if in := Inbound(chunks); !bytes.Equal(in, []byte{1}) {
		t.Fatalf("inbound %x: upstream lines must not count as the device's", in)
	}
	for _, bad := range []string{"u0> 00", "ux> 00", "u12345> 00", "u1? 00"} {
		if _, err := Parse(strings.NewReader(bad)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: got %v, want ErrSyntax", bad, err)
		}
	}
}
