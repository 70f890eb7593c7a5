package textfield

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSplit(t *testing.T) {
	got := Split(nil, []byte("a,,b,c"), ',', 3)
	if len(got) != 3 || string(got[0]) != "a" || string(got[1]) != "" || string(got[2]) != "b,c" {
		t.Fatalf("%q", got)
	}
	if got := Split(got, nil, ',', 8); len(got) != 1 || len(got[0]) != 0 {
		t.Fatalf("%q", got)
	}
	// A field must not reach into the next one when appended to.
	f := Split(nil, []byte("ab,cd"), ',', 4)
	_ = append(f[0], 'X')
	if string(f[1]) != "cd" {
		t.Fatalf("append to a field overwrote the next: %q", f[1])
	}
}

// splitNaive is Split's definition.
func splitNaive(b []byte, sep byte, max int) [][]byte {
	var dst [][]byte
	start := 0
	for i := 0; i < len(b); i++ {
		if b[i] == sep && len(dst) < max-1 {
			dst = append(dst, b[start:i])
			start = i + 1
		}
	}
	return append(dst, b[start:])
}

func FuzzSplit(f *testing.F) {
	f.Add([]byte("+RESP:GTFRI,060228,862894020180553,,14827,10,1,1,3.4,199,409.6"), byte(','), 64)
	f.Add([]byte(",,,,,,,,,,,,,,,,,,,,"), byte(','), 5)
	f.Add([]byte("\x80\x2c\xac\x2c"), byte(0xAC), 3)
	f.Fuzz(func(t *testing.T, b []byte, sep byte, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		got, want := Split(nil, b, sep, max), splitNaive(b, sep, max)
		if len(got) != len(want) {
			t.Fatalf("Split(%q, %q, %d) = %q, want %q", b, sep, max, got, want)
		}
		for i := range got {
			if string(got[i]) != string(want[i]) || cap(got[i]) != len(got[i]) {
				t.Fatalf("Split(%q, %q, %d) = %q, want %q", b, sep, max, got, want)
			}
		}
	})
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		in string
		f  float64
		ok bool
	}{
		{"025.36", 25.36, true}, {"-0.5", -0.5, true}, {".5", 0.5, true}, {"5.", 5, true},
		{"-0", 0, true}, {"", 0, false}, {".", 0, false}, {"1e5", 0, false}, {"1.2.3", 0, false},
		{"12345678901234567890.5", 12345678901234567890.5, true},
	} {
		f, ok := Decimal([]byte(tc.in))
		if ok != tc.ok || ok && (f != tc.f || f == 0 && math.Signbit(f)) {
			t.Errorf("Decimal(%q) = %v, %v", tc.in, f, ok)
		}
	}
	if v, ok := Hex([]byte("1cC")); !ok || v != 460 {
		t.Errorf("Hex = %d %v", v, ok)
	}
	if _, ok := Uint([]byte("12a")); ok {
		t.Error("Uint accepted a letter")
	}
	if v, ok := Int([]byte("-92")); !ok || v != -92 {
		t.Errorf("Int = %d %v", v, ok)
	}
	if d, ok := NMEA([]byte("954.9490"), 180); !ok || math.Abs(d-9.915816666666666) > 1e-12 {
		t.Errorf("NMEA = %v %v", d, ok)
	}
	for _, bad := range []string{"18100.0", "18059.9", "-10.5", "ab.c", "1.5.5"} {
		if _, ok := NMEA([]byte(bad), 180); ok {
			t.Errorf("NMEA(%q) accepted", bad)
		}
	}
	if b := AppendUint(nil, 7, 2); string(b) != "07" {
		t.Errorf("AppendUint = %q", b)
	}
	if b := AppendUint(nil, 0, 0); string(b) != "0" {
		t.Errorf("AppendUint = %q", b)
	}
}

// The integers are read over their whole range and refused past it, not
// wrapped.
func TestIntegerRange(t *testing.T) {
	for _, tc := range []struct {
		in string
		u  uint64
		ok bool
	}{
		{"18446744073709551615", math.MaxUint64, true},
		{"00000000000000000001", 1, true},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"100000000000000000000", 0, false},
	} {
		if u, ok := Uint([]byte(tc.in)); u != tc.u || ok != tc.ok {
			t.Errorf("Uint(%q) = %d, %v", tc.in, u, ok)
		}
	}
	for _, tc := range []struct {
		in string
		i  int64
		ok bool
	}{
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"+7", 7, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"-", 0, false},
	} {
		if i, ok := Int([]byte(tc.in)); i != tc.i || ok != tc.ok {
			t.Errorf("Int(%q) = %d, %v", tc.in, i, ok)
		}
	}
}

// The comma forms read what the point forms read, with a comma for the
// point; the point forms refuse the comma.
func TestComma(t *testing.T) {
	for _, tc := range []struct {
		in string
		f  float64
	}{{"79,8", 79.8}, {"-0,5", -0.5}, {",5", 0.5}, {"1234567890123456789,25", 1234567890123456789.25}, {"12.5", 12.5}} {
		if f, ok := DecimalComma([]byte(tc.in)); !ok || f != tc.f {
			t.Errorf("DecimalComma(%q) = %v, %v", tc.in, f, ok)
		}
	}
	for _, bad := range []string{"1,2,3", "1,2.3", ","} {
		if f, ok := DecimalComma([]byte(bad)); ok {
			t.Errorf("DecimalComma(%q) = %v", bad, f)
		}
	}
	if _, ok := Decimal([]byte("79,8")); ok {
		t.Error("Decimal accepted a comma")
	}
	if d, ok := NMEAComma([]byte("5354,4926"), 90); !ok || math.Abs(d-(53+54.4926/60)) > 1e-12 {
		t.Errorf("NMEAComma = %v, %v", d, ok)
	}
	if d, ok := NMEAComma([]byte("02731.44990"), 180); !ok || math.Abs(d-(27+31.4499/60)) > 1e-12 {
		t.Errorf("NMEAComma = %v, %v", d, ok)
	}
	if _, ok := NMEA([]byte("5354,4926"), 90); ok {
		t.Error("NMEA accepted a comma")
	}
	if _, ok := NMEAComma([]byte("9100,0"), 90); ok {
		t.Error("latitude 91 accepted")
	}
}

func TestUnixAndCivil(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 11, 22, 10, 15, 4, 0, time.UTC),
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 3, 1, 12, 0, 0, 0, time.UTC),
	} {
		u, ok := Unix(tm.Year(), int(tm.Month()), tm.Day(), tm.Hour(), tm.Minute(), tm.Second())
		if !ok || u != tm.Unix() {
			t.Errorf("Unix(%v) = %d, %v", tm, u, ok)
		}
		y, m, d := Civil(tm.Unix())
		if y != tm.Year() || m != int(tm.Month()) || d != tm.Day() {
			t.Errorf("Civil(%v) = %d-%d-%d", tm, y, m, d)
		}
	}
	if _, ok := Unix(2023, 2, 29, 0, 0, 0); ok {
		t.Error("29 February 2023 accepted")
	}
}

// FuzzDecimal checks Decimal against strconv on every input it accepts.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "025.36", "-1.5", "4217.4213", "99999999999999999999.9", ".", "1e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Decimal([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("Decimal(%q) = %v but strconv fails: %v", s, got, err)
		}
		if want == 0 {
			want = 0 // no negative zero
		}
		if got != want {
			t.Fatalf("Decimal(%q) = %v, strconv %v", s, got, want)
		}
		NMEA([]byte(s), 180)
		Split(nil, []byte(s), '.', 3)
		// With a comma for the point, DecimalComma reads the same number.
		if c := strings.Replace(s, ".", ",", 1); c != s {
			if f, ok := DecimalComma([]byte(c)); !ok || f != got {
				t.Fatalf("DecimalComma(%q) = %v, %v; Decimal(%q) = %v", c, f, ok, s, got)
			}
			if d, _ := NMEA([]byte(s), 180); d != 0 {
				if dc, ok := NMEAComma([]byte(c), 180); !ok || dc != d {
					t.Fatalf("NMEAComma(%q) = %v, %v; NMEA = %v", c, dc, ok, d)
				}
			}
		}
	})
}

func TestJoin(t *testing.T) {
	for _, s := range []string{"a,,b,c", "", ",", "abc"} {
		if got := string(Join(Split(nil, []byte(s), ',', 64), ',')); got != s {
			t.Errorf("Join(Split(%q)) = %q", s, got)
		}
	}
	if Join(nil, ',') != nil {
		t.Error("Join of no fields is not nil")
	}
}
