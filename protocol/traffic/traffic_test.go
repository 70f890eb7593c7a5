package traffic

import (
	"bytes"
	"errors"
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
			w.Write(c.Dir, c.Time, c.Data)
		}
		again, err := Parse(&buf)
		if err != nil || len(again) != len(chunks) {
			t.Fatalf("re-parse: %v (%d vs %d chunks)", err, len(again), len(chunks))
		}
		for i := range chunks {
			if !bytes.Equal(again[i].Data, chunks[i].Data) || again[i].Dir != chunks[i].Dir {
				t.Fatalf("chunk %d changed", i)
			}
		}
	})
}
