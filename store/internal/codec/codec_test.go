package codec

import (
	"bytes"
	"math"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

func sample() protocol.Message {
	var m protocol.Message
	m.SetString("ident", "356307042441013")
	m.SetFloat("timestamp", 1700000000.123456)
	m.SetFloat("position.latitude", 54.6872)
	m.SetInt("position.satellites", 11)
	m.SetInt("neg", -5)
	m.SetUint("big", math.MaxUint64)
	m.SetBool("engine.ignition.status", true)
	m.SetBool("off", false)
	m.Set("nothing", protocol.Null())
	m.Set("obj", protocol.RawJSON(`{"a":[1,2]}`))
	m.SetString("empty", "")
	return m
}

func TestRoundTrip(t *testing.T) {
	m := sample()
	b := Append(nil, &m)
	var d Decoder
	for range 2 { // second pass uses interned names
		got, err := d.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(&m) || got.String() != m.String() {
			t.Fatalf("got %s want %s", got.String(), m.String())
		}
	}
	var empty protocol.Message
	got, err := d.Decode(Append(nil, &empty))
	if err != nil || got.Len() != 0 {
		t.Fatal(got.String(), err)
	}
}

func TestTruncationsFail(t *testing.T) {
	m := sample()
	b := Append(nil, &m)
	var d Decoder
	for i := 0; i < len(b); i++ {
		if _, err := d.Decode(b[:i]); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded", i, len(b))
		}
	}
	if _, err := d.Decode(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func FuzzDecode(f *testing.F) {
	m := sample()
	f.Add(Append(nil, &m))
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 1, 1, 'a', 5, 3, 'x', 'y', 'z'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		got, err := d.Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes to the
		// same encoding (compared as bytes: NaN != NaN under Equal).
		enc := Append(nil, &got)
		again, err := d.Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding failed: %v", err)
		}
		if !bytes.Equal(Append(nil, &again), enc) {
			t.Fatalf("round trip changed %s to %s", got.String(), again.String())
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	m := sample()
	data := Append(nil, &m)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
