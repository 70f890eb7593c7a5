package wialonips

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

func TestSlicingMatchesARC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		if got, want := arc.checksum(p), crc16.ARC.Checksum(p); got != want {
			t.Fatalf("%d bytes: %04X, want %04X", n, got, want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "+2", "79.8", "3.14159265", "5429.681944502211763", "0.000001",
		"123456789012345", "1234567890123456789012", "0.1", "198377.203125", "26.135000", ".5", "5.", "-0.0",
		"0.0000000000000000000000001", "99.766"} {
		want, _ := strconv.ParseFloat(s, 64)
		got, ok := parseDecimal([]byte(s))
		if !ok || got != want {
			t.Errorf("%q: %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "+.", "1e3", "NaN", "Inf", "0x10", "1.2.3", "1,2,3", "--1", "1-"} {
		if v, ok := parseDecimal([]byte(s)); ok {
			t.Errorf("%q accepted as %v", s, v)
		}
	}
	if v, ok := parseDecimal([]byte("79,8")); !ok || v != 79.8 {
		t.Errorf("decimal comma: %v %v", v, ok)
	}
}

func TestParseCoord(t *testing.T) {
	for _, tt := range []struct {
		v, h string
		lat  bool
		want float64
		ok   bool
	}{
		{"5544.6025", "N", true, 55.743375, true},
		{"03739.6834", "E", false, 37.66139, true},
		{"03739.6834", "W", false, -37.66139, true},
		{"0000.0000", "S", true, 0, true},
		{"3644.670410", "E", false, 36 + 44.67041/60, true},
		{"5544.6025", "E", true, 0, false},
		{"9100.0000", "N", true, 0, false},
		{"18100.0000", "E", false, 0, false},
		{"55-4.6025", "N", true, 0, false},
		{"5544.6025", "NN", true, 0, false},
	} {
		got, present, ok := parseCoord([]byte(tt.v), []byte(tt.h), tt.lat)
		if ok != tt.ok || ok && (!present || got != tt.want) {
			t.Errorf("%s;%s: %v %v %v, want %v %v", tt.v, tt.h, got, present, ok, tt.want, tt.ok)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, tt := range []struct {
		d, t string
		want float64
		ok   bool
	}{
		{"270413", "205601", 1367096161, true},
		{"290224", "000000", 1709164800, true},
		{"290223", "000000", 0, false},
		{"010100", "235959.5", 946771199.5, true},
		{"011299", "240000", 0, false},
		{"011299", "NA", 0, false},
		{"0112", "000000", 0, false},
	} {
		got, _, ok := parseTimestamp([]byte(tt.d), []byte(tt.t))
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("%s;%s: %v %v, want %v %v", tt.d, tt.t, got, ok, tt.want, tt.ok)
		}
	}
}
