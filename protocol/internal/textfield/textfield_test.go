package textfield

import (
	"math"
	"strconv"
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
	for _, bad := range []string{"9160.0", "18100.0", "-10.5", "ab.c"} {
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
	})
}
