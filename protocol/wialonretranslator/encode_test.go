package wialonretranslator_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/traffic"
	wr "github.com/gnssgate/gnssgate/protocol/wialonretranslator"
)

// decodeOne decodes one packet into a message.
func decodeOne(t testing.TB, pkt []byte) protocol.Message {
	t.Helper()
	var r protocol.Result
	s := (&wr.Codec{}).NewSession(protocol.TCP)
	if err := s.Decode(pkt, &r); err != nil {
		t.Fatalf("decode %x: %v", pkt, err)
	}
	if len(r.Messages) != 1 || !bytes.Equal(r.Reply, []byte{wr.Ack}) {
		t.Fatalf("decode gave %d messages, reply %x", len(r.Messages), r.Reply)
	}
	return r.Messages[0].Clone()
}

func caseBytes(t *testing.T, name string) []byte {
	t.Helper()
	c, err := protocoltest.LoadCase(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, ch := range c.Input {
		if ch.Dir == traffic.In {
			b = append(b, ch.Data...)
		}
	}
	return b
}

// The document's example decodes and encodes back to the same 120 bytes:
// the encoder writes posinfo first, the flags, the hidden attributes and
// the data types exactly as Wialon does.
func TestEncodeReproducesTheDocumentsPacket(t *testing.T) {
	pkt := caseBytes(t, "spec-example.txtar")
	m := decodeOne(t, pkt)
	got, err := wr.Append(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pkt) {
		t.Fatalf("encoded\n%s\nwant\n%s", hex.Dump(got), hex.Dump(pkt))
	}
}

// sameValues compares two messages by name, numbers by value.
func sameValues(t *testing.T, got, want *protocol.Message) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Errorf("got %d parameters, want %d\n got %s\nwant %s", got.Len(), want.Len(), got.String(), want.String())
	}
	for name, wv := range want.All() {
		gv, ok := got.Lookup(name)
		if !ok {
			t.Errorf("%s missing after the round trip; got %s", name, got.String())
			continue
		}
		if !gv.Equal(wv) {
			t.Errorf("%s = %v after the round trip, want %v", name, gv, wv)
		}
	}
}

// Every row of the table, and parameters outside it of every kind, come
// back with the same values.
func TestRoundTripTable(t *testing.T) {
	var m protocol.Message
	m.SetString(protocol.ParamIdent, "356307042441013")
	m.SetInt(protocol.ParamTimestamp, 1_700_000_123)
	m.SetFloat(protocol.ParamLatitude, 54.687156)
	m.SetFloat(protocol.ParamLongitude, 25.279651)
	m.SetFloat(protocol.ParamAltitude, 112.5)
	m.SetInt(protocol.ParamSpeed, 63)
	m.SetInt(protocol.ParamDirection, 359)
	m.SetInt(protocol.ParamSatellites, 12)
	m.SetBool("alarm.event.trigger", true)
	m.SetInt("din", 5)
	m.SetInt("dout", 2)
	m.SetString("ibutton.code", "01A2B3C4D5E6F7")
	m.SetFloat("external.powersource.voltage", 12.834)
	m.SetFloat("battery.voltage", 4.07)
	m.SetFloat("battery.level", 87)
	m.SetFloat("ain#1", 0.25)
	m.SetFloat("ain#16", 10.5)
	m.SetInt("gsm.signal.level", 4)
	m.SetBool("engine.ignition.status", false)
	m.SetFloat(protocol.ParamHDOP, 0.8)
	m.SetFloat("absolute.acceleration", 0.12)
	m.SetFloat("absolute.deceleration", 0.34)
	m.SetFloat("can.axle.weight", 3500)
	m.SetFloat("can.engine.coolant.temperature", 88)
	m.SetFloat("can.engine.temperature", 91)
	m.SetFloat("can.fuel.volume", 210.5)
	// Outside the table.
	m.SetFloat("vehicle.mileage", 123456.7)
	m.SetBool("movement.status", true)
	m.SetBool("din#3", true)
	m.SetInt("custom.can1", 1<<40)
	m.SetInt("custom.temp1", -12)
	m.SetString("custom.note", "héllo, wörld")
	m.SetString("peer", "10.1.2.3:5555")
	m.SetString("custom.gsm", "not a number") // a Wialon block name as a custom one
	m.SetFloat("server.timestamp", 1_700_000_124.5)
	m.SetInt("custom.param.239", 1)

	pkt, err := wr.Append(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeOne(t, pkt)
	sameValues(t, &got, &m)

	// Table rows whose values do not fit go out under their own names.
	var odd protocol.Message
	odd.SetString(protocol.ParamIdent, "u2")
	odd.SetInt(protocol.ParamTimestamp, 1_700_000_000)
	odd.SetString("din", "n/a")
	odd.SetString("external.powersource.voltage", "low")
	odd.SetInt("ibutton.code", 42)
	odd.SetString("engine.ignition.status", "on")
	odd.SetInt("alarm.event.trigger", 3)
	odd.SetString(protocol.ParamSpeed, "fast") // no posinfo: a block of its own
	if pkt, err = wr.Append(nil, &odd); err != nil {
		t.Fatal(err)
	}
	got = decodeOne(t, pkt)
	odd.SetBool("alarm.event.trigger", true) // a catalogue boolean: 3 reads back as true
	sameValues(t, &got, &odd)
}

// The documented losses, and nothing else.
func TestRoundTripDocumentedLosses(t *testing.T) {
	var m protocol.Message
	m.SetString(protocol.ParamIdent, "u1")
	m.SetFloat(protocol.ParamTimestamp, 1_700_000_000.75)
	m.SetFloat(protocol.ParamLatitude, -33.9)
	m.SetFloat(protocol.ParamLongitude, 151.2)
	m.SetFloat(protocol.ParamSpeed, 47.6)
	m.SetFloat(protocol.ParamDirection, 400000)
	m.SetBool("alarm.event.trigger", false)
	m.SetString("foo", "bar")
	m.Set("obj", protocol.RawJSON(`{"a":1}`))
	m.Set("gone", protocol.Null())
	pkt, err := wr.Append(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeOne(t, pkt)
	var want protocol.Message
	want.SetString(protocol.ParamIdent, "u1")
	want.SetInt(protocol.ParamTimestamp, 1_700_000_000) // fraction dropped
	want.SetFloat(protocol.ParamLongitude, 151.2)
	want.SetFloat(protocol.ParamLatitude, -33.9)
	want.SetFloat(protocol.ParamAltitude, 0)    // absent → 0
	want.SetInt(protocol.ParamSpeed, 48)        // rounded
	want.SetInt(protocol.ParamDirection, 65535) // clamped to u16
	want.SetInt(protocol.ParamSatellites, 0)    // absent → 0
	want.SetString("custom.foo", "bar")         // undotted name of our own
	want.SetString("custom.obj", `{"a":1}`)     // JSON as its text
	sameValues(t, &got, &want)
}

// Random messages of generic parameters survive the round trip.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var m protocol.Message
		m.SetString(protocol.ParamIdent, fmt.Sprintf("unit-%d", rng.IntN(1000)))
		m.SetInt(protocol.ParamTimestamp, rng.Int64N(1<<32))
		if rng.IntN(2) == 0 {
			m.SetFloat(protocol.ParamLatitude, rng.Float64()*180-90)
			m.SetFloat(protocol.ParamLongitude, rng.Float64()*360-180)
			m.SetFloat(protocol.ParamAltitude, math.Round(rng.Float64()*1e4)/10)
			m.SetInt(protocol.ParamSpeed, rng.Int64N(300))
			m.SetInt(protocol.ParamDirection, rng.Int64N(360))
			m.SetInt(protocol.ParamSatellites, rng.Int64N(30))
		}
		for j := rng.IntN(12); j > 0; j-- {
			name := fmt.Sprintf("x%d.p%d", i, j)
			if rng.IntN(3) == 0 {
				name = fmt.Sprintf("custom.s%d", j)
			}
			switch rng.IntN(5) {
			case 0:
				m.SetInt(name, rng.Int64()-math.MaxInt64/2)
			case 1:
				m.SetInt(name, int64(rng.Int32()))
			case 2:
				m.SetFloat(name, rng.NormFloat64()*1e6)
			case 3:
				m.SetString(name, strings.Repeat("ab", rng.IntN(20)))
			case 4:
				m.SetFloat("ain#"+fmt.Sprint(1+rng.IntN(8)), rng.Float64()*30)
			}
		}
		pkt, err := wr.Append(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		got := decodeOne(t, pkt)
		sameValues(t, &got, &m)
		if t.Failed() {
			t.Fatalf("message %s", m.String())
		}
	}
}

func TestAppendErrors(t *testing.T) {
	base := func() protocol.Message {
		var m protocol.Message
		m.SetString(protocol.ParamIdent, "u1")
		m.SetInt(protocol.ParamTimestamp, 1_700_000_000)
		return m
	}
	cases := map[string]func(m *protocol.Message){
		"no ident":         func(m *protocol.Message) { m.Delete(protocol.ParamIdent) },
		"empty ident":      func(m *protocol.Message) { m.SetString(protocol.ParamIdent, "") },
		"ident with NUL":   func(m *protocol.Message) { m.SetString(protocol.ParamIdent, "a\x00b") },
		"no time":          func(m *protocol.Message) { m.Delete(protocol.ParamTimestamp) },
		"negative time":    func(m *protocol.Message) { m.SetInt(protocol.ParamTimestamp, -1) },
		"time past u32":    func(m *protocol.Message) { m.SetInt(protocol.ParamTimestamp, 1<<32) },
		"text with NUL":    func(m *protocol.Message) { m.SetString("custom.note", "a\x00b") },
		"name with LF":     func(m *protocol.Message) { m.SetInt("bad\nname", 1) },
		"too large packet": func(m *protocol.Message) { m.SetString("custom.blob", strings.Repeat("x", wr.MaxPacketSize)) },
	}
	for name, mutate := range cases {
		m := base()
		mutate(&m)
		dst := []byte("prefix")
		out, err := wr.Append(dst, &m)
		if !errors.Is(err, wr.ErrUnencodable) {
			t.Errorf("%s: Append = %v, want ErrUnencodable", name, err)
		}
		if string(out) != "prefix" {
			t.Errorf("%s: Append changed dst to %q", name, out)
		}
	}
	// server.timestamp stands in for a missing timestamp.
	m := base()
	m.Delete(protocol.ParamTimestamp)
	m.SetFloat(protocol.ParamServerTimestamp, 1_700_000_001.5)
	pkt, err := wr.Append(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	back := decodeOne(t, pkt)
	if ts, _ := back.Int(protocol.ParamTimestamp); ts != 1_700_000_001 {
		t.Fatalf("timestamp from server.timestamp = %d", ts)
	}
}

// FuzzRoundTrip: whatever decodes, encodes (unless too large) and decodes
// to the same values, and a second encoding is byte-identical: the mapping
// is a fixed point after one pass.
func FuzzRoundTrip(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.txtar")
	for _, p := range paths {
		c, err := protocoltest.LoadCase(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, ch := range c.Input {
			f.Add(ch.Data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r protocol.Result
		if err := (&wr.Codec{}).NewSession(protocol.TCP).Decode(data, &r); err != nil {
			return
		}
		m := r.Messages[0].Clone()
		if v, ok := m.Bool("alarm.event.trigger"); ok && !v {
			m.Delete("alarm.event.trigger") // documented: false comes back absent
		}
		enc, err := wr.Append(nil, &m)
		if err != nil {
			if !errors.Is(err, wr.ErrUnencodable) || !strings.Contains(err.Error(), "exceeds") {
				t.Fatalf("decoded message %s does not encode: %v", m.String(), err)
			}
			return
		}
		back := decodeOne(t, enc)
		if back.Len() != m.Len() {
			t.Fatalf("round trip changed the parameters\n got %s\nwant %s", back.String(), m.String())
		}
		for name, wv := range m.All() {
			if gv, ok := back.Lookup(name); !ok || !gv.Equal(wv) {
				t.Fatalf("round trip changed %s: %v → %v\n%s", name, wv, gv, back.String())
			}
		}
		again, err := wr.Append(nil, &back)
		if err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("second encoding differs (%v)\n%x\n%x", err, again, enc)
		}
	})
}
