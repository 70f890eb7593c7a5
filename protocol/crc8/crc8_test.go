package crc8

import (
	"encoding/hex"
	"math/bits"
	"testing"
)

// The check value is the CRC of "123456789": 0xF7, as the GOST R 54619
// text (and the CRC catalogue, for CRC-8/NRSC-5) gives it.
func TestCheckValue(t *testing.T) {
	if got := NRSC5.Checksum([]byte("123456789")); got != 0xF7 {
		t.Fatalf("CRC-8/NRSC-5 check %02X, want F7", got)
	}
}

// Header checks of EGTS packets from the EGTS validator's output (JSC
// Navigation-information systems, 2011) and a capture: the byte after the
// header is its CRC.
func TestEGTSHeaders(t *testing.T) {
	for _, h := range []string{"0100000b0011000100" + "01cc", "0100000b0010000100" + "011f", "0100000b000300704300db"} {
		b, _ := hex.DecodeString(h)
		if got := NRSC5.Checksum(b[:len(b)-1]); got != b[len(b)-1] {
			t.Errorf("%s: HCS %02X, computed %02X", h, b[len(b)-1], got)
		}
	}
}

// bitwise is the textbook bit-at-a-time CRC the table must match.
func bitwise(p Params, b []byte) uint8 {
	crc := p.Init
	for _, c := range b {
		if p.Reflected {
			crc ^= c
			for range 8 {
				if crc&1 != 0 {
					crc = crc>>1 ^ bits.Reverse8(p.Poly)
				} else {
					crc >>= 1
				}
			}
			continue
		}
		crc ^= c
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ p.Poly
			} else {
				crc <<= 1
			}
		}
	}
	return crc ^ p.XorOut
}

func TestTableMatchesBitwise(t *testing.T) {
	data := []byte("The quick brown fox jumps over the lazy dog 0123456789")
	maxim := New(Params{Name: "CRC-8/MAXIM-DOW", Poly: 0x31, Reflected: true})
	if got := maxim.Checksum([]byte("123456789")); got != 0xA1 {
		t.Fatalf("CRC-8/MAXIM-DOW check %02X, want A1", got)
	}
	for _, tab := range []*Table{NRSC5, maxim} {
		for n := 0; n <= len(data); n++ {
			if got, want := tab.Checksum(data[:n]), bitwise(tab.Params(), data[:n]); got != want {
				t.Fatalf("%s, %d bytes: table %02X, bitwise %02X", tab.Params().Name, n, got, want)
			}
		}
	}
}
