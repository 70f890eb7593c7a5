package codec

import (
	"bytes"
	"math"
	"testing"
	"unsafe"

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

func TestDecodeIntoReuses(t *testing.T) {
	var d Decoder
	m := sample() // more parameters than telemetry: all must go
	for i := range 3 {
		want := telemetry(i)
		if err := d.DecodeInto(&m, Append(nil, &want)); err != nil {
			t.Fatal(err)
		}
		if !m.Equal(&want) {
			t.Fatalf("got %s want %s", m.String(), want.String())
		}
	}
	// Equal string values are shared with the previous message, different
	// ones are not.
	a, b, c := telemetry(1), telemetry(2), telemetry(3)
	c.SetString("ident", "other")
	ma, _ := d.Decode(Append(nil, &a))
	mb, _ := d.Decode(Append(nil, &b))
	mc, _ := d.Decode(Append(nil, &c))
	ia, ib, ic := ma.Ident(), mb.Ident(), mc.Ident()
	if unsafe.StringData(ia) != unsafe.StringData(ib) {
		t.Error("equal idents of consecutive messages not shared")
	}
	if ic != "other" || mb.Ident() != "356307042441013" {
		t.Errorf("idents %q %q", ib, ic)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.DecodeInto(&mb, Append(make([]byte, 0, 512), &b)); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 { // the encoding buffer
		t.Errorf("DecodeInto a reused message allocates %v times", allocs)
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
		// DecodeInto a used message, with a decoder that remembers another
		// message, agrees with Decode.
		var d2 Decoder
		into := sample()
		d2.Decode(Append(nil, &into))
		err2 := d2.DecodeInto(&into, data)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Decode error %v, DecodeInto error %v", err, err2)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(Append(nil, &into), Append(nil, &got)) {
			t.Fatalf("DecodeInto gave %s, Decode %s", into.String(), got.String())
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

// telemetry is a typical tracker message: 13 parameters, two of them
// strings that repeat from message to message.
func telemetry(n int) protocol.Message {
	var m protocol.Message
	m.SetString("ident", "356307042441013")
	m.SetFloat("timestamp", 1.7e9+float64(n))
	m.SetFloat("server.timestamp", 1.7e9+float64(n)+0.25)
	m.SetInt("channel.id", 1234)
	m.SetFloat("position.latitude", 54.6872+float64(n%1000)/1e5)
	m.SetFloat("position.longitude", 25.2797-float64(n%777)/1e5)
	m.SetFloat("position.altitude", 112.5)
	m.SetFloat("position.speed", float64(n%120))
	m.SetInt("position.direction", int64(n%360))
	m.SetInt("position.satellites", 11)
	m.SetBool("position.valid", true)
	m.SetInt("test.n", int64(n))
	m.SetString("peer", "192.0.2.17:50122")
	return m
}

func BenchmarkDecodeTelemetry(b *testing.B) {
	m := telemetry(7)
	data := Append(nil, &m)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeIntoTelemetry(b *testing.B) {
	var data [2][]byte
	for i := range data {
		m := telemetry(i)
		data[i] = Append(nil, &m)
	}
	var d Decoder
	var m protocol.Message
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := d.DecodeInto(&m, data[i&1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
