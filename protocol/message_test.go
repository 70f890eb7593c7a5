package protocol

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestMessageSetGetOrder(t *testing.T) {
	var m Message
	m.SetString(ParamIdent, "356307042441013")
	m.SetFloat(ParamTimestamp, 1700000000.5)
	m.SetFloat(ParamLatitude, 54.6767)
	m.SetBool("engine.ignition.status", true)
	m.SetInt("din", 5)
	m.SetFloat(ParamLatitude, 54.7) // replace keeps position
	if got, want := m.String(), `{"ident":"356307042441013","timestamp":1700000000.5,"position.latitude":54.7,"engine.ignition.status":true,"din":5}`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if m.Ident() != "356307042441013" {
		t.Errorf("Ident = %q", m.Ident())
	}
	if ts, ok := m.Timestamp(); !ok || ts != 1700000000.5 {
		t.Errorf("Timestamp = %v %v", ts, ok)
	}
	if b, ok := m.Bool("engine.ignition.status"); !ok || !b {
		t.Errorf("Bool = %v %v", b, ok)
	}
	if _, ok := m.Bool("din"); ok {
		t.Errorf("Bool of a number must not be ok")
	}
	if i, ok := m.Int("din"); !ok || i != 5 {
		t.Errorf("Int = %v %v", i, ok)
	}
	if _, ok := m.Float("missing"); ok {
		t.Errorf("missing parameter reported present")
	}
	if !m.Delete("position.latitude") || m.Delete("position.latitude") || m.Len() != 4 {
		t.Errorf("Delete misbehaves: %s", m.String())
	}
	c := m.Clone()
	m.SetInt("din", 6)
	if v, _ := c.Int("din"); v != 5 {
		t.Errorf("Clone shares storage")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := `{"ident":"a\"b\\c\u0001é","n":null,"t":true,"f":false,"i":-42,"big":18446744073709551615,` +
		`"fl":0.1,"e":1e+21,"small":1e-7,"obj":{"a":[1,2]},"arr":[1,"x"],"neg0":-0}`
	var m Message
	if err := m.UnmarshalJSON([]byte(in)); err != nil {
		t.Fatal(err)
	}
	out := m.String()
	want := `{"ident":"a\"b\\c\u0001é","n":null,"t":true,"f":false,"i":-42,"big":18446744073709551615,` +
		`"fl":0.1,"e":1e+21,"small":1e-7,"obj":{"a":[1,2]},"arr":[1,"x"],"neg0":0}`
	if out != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	if v, _ := m.Lookup("big"); v.Kind() != KindUint {
		t.Errorf("big kind = %v", v.Kind())
	}
	if v, _ := m.Lookup("i"); v.Kind() != KindInt {
		t.Errorf("i kind = %v", v.Kind())
	}
	var again Message
	if err := again.UnmarshalJSON([]byte(out)); err != nil || again.String() != out {
		t.Fatalf("second round trip: %v %s", err, again.String())
	}
	if !m.Equal(&again) {
		t.Errorf("Equal is false after a round trip")
	}
}

func TestJSONDuplicateKeyKeepsFirstPosition(t *testing.T) {
	var m Message
	if err := m.UnmarshalJSON([]byte(`{"a":1,"b":2,"a":3}`)); err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != `{"a":3,"b":2}` {
		t.Fatalf("got %s", got)
	}
}

func TestJSONErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"a":}`, `{"a":1`, `{"a":1} x`, `{"":1}`, `"x"`, `{"a":1e999}`, `{"a":tru}`} {
		var m Message
		err := m.UnmarshalJSON([]byte(in))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: got %v, want ErrMalformed", in, err)
		}
	}
}

func TestFloatFormatting(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{{0, "0"}, {1, "1"}, {-1.5, "-1.5"}, {54.6767, "54.6767"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1e-6, "0.000001"}, {1e-7, "1e-7"}, {math.NaN(), "null"}, {math.Inf(1), "null"}} {
		if got := Float(tc.f).String(); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestValueConversions(t *testing.T) {
	if i, ok := Float(3).Int(); !ok || i != 3 {
		t.Errorf("Float(3).Int() = %v %v", i, ok)
	}
	if _, ok := Float(3.5).Int(); ok {
		t.Errorf("Float(3.5).Int() ok")
	}
	if u, ok := Uint(math.MaxUint64).Uint(); !ok || u != math.MaxUint64 {
		t.Errorf("Uint max: %v %v", u, ok)
	}
	if _, ok := Int(-1).Uint(); ok {
		t.Errorf("Int(-1).Uint() ok")
	}
	if !Int(2).Equal(Float(2)) || Int(2).Equal(String("2")) || !Null().Equal(Value{}) {
		t.Errorf("Equal across kinds is wrong")
	}
	if Uint(5).Kind() != KindInt {
		t.Errorf("small Uint should normalise to KindInt")
	}
}

func TestUnmarshalMessages(t *testing.T) {
	msgs, err := UnmarshalMessages([]byte(` [{"ident":"1"},{"ident":"2","x":1}] `))
	if err != nil || len(msgs) != 2 || msgs[1].Ident() != "2" {
		t.Fatalf("%v %v", msgs, err)
	}
	if got := string(MarshalMessages(msgs)); got != `[{"ident":"1"},{"ident":"2","x":1}]` {
		t.Errorf("MarshalMessages = %s", got)
	}
	one, err := UnmarshalMessages([]byte(`{"ident":"x"}`))
	if err != nil || len(one) != 1 {
		t.Fatalf("single object: %v %v", one, err)
	}
	if _, err := UnmarshalMessages([]byte(`[{"ident":"1"},3]`)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "message 1") {
		t.Errorf("bad element: %v", err)
	}
}

func TestCatalogue(t *testing.T) {
	p, ok := LookupParam("position.speed")
	if !ok || p.Unit != "km/h" {
		t.Errorf("position.speed: %+v %v", p, ok)
	}
	if p, ok := LookupParam("ain#3"); !ok || p.Name != "ain#3" || p.Unit != "V" {
		t.Errorf("ain#3: %+v %v", p, ok)
	}
	if _, ok := LookupParam("custom.param.239"); !ok {
		t.Errorf("custom.param.239 not found")
	}
	if _, ok := LookupParam("no.such.param"); ok {
		t.Errorf("unknown name found")
	}
	c := Catalogue()
	for i := 1; i < len(c); i++ {
		if c[i-1].Name >= c[i].Name {
			t.Fatalf("catalogue not sorted or has duplicates at %q", c[i].Name)
		}
	}
}

func TestDecodeErrorText(t *testing.T) {
	err := Errorf("teltonika", 57, ErrChecksum, "got 1234, want abcd")
	if got := err.Error(); got != "teltonika: offset 57: bad checksum: got 1234, want abcd" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, ErrChecksum) {
		t.Errorf("errors.Is(ErrChecksum) false")
	}
}

func BenchmarkMessageAppendJSON(b *testing.B) {
	var m Message
	m.SetString(ParamIdent, "356307042441013")
	m.SetFloat(ParamTimestamp, 1700000000.5)
	m.SetFloat(ParamLatitude, 54.6767)
	m.SetFloat(ParamLongitude, 25.0021)
	m.SetInt(ParamSpeed, 60)
	m.SetBool("engine.ignition.status", true)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendJSON(buf[:0])
	}
}

func FuzzMessageJSON(f *testing.F) {
	f.Add([]byte(`{"ident":"x","timestamp":1.5,"a":[1,{"b":null}],"c":"\u00e9"}`))
	f.Add([]byte(`{"a":18446744073709551616,"b":-9223372036854775809}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		if err := m.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		enc := m.AppendJSON(nil)
		var back Message
		if err := back.UnmarshalJSON(enc); err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		if again := back.AppendJSON(nil); string(again) != string(enc) {
			t.Fatalf("not deterministic:\n%s\n%s", enc, again)
		}
	})
}

func TestRetain(t *testing.T) {
	var m Message
	for i, n := range []string{"a", "b.x", "c", "b.y", "d"} {
		m.Add(n, Int(int64(i)))
	}
	m.Retain(func(p *Param) bool { return p.Name != "c" && p.Name != "a" })
	if got := m.String(); got != `{"b.x":1,"b.y":3,"d":4}` {
		t.Fatalf("Retain kept %s", got)
	}
	m.Retain(func(*Param) bool { return false })
	if m.Len() != 0 {
		t.Fatalf("Retain(nothing) left %s", m.String())
	}
}
