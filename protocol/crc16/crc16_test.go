package crc16

import (
	"encoding/hex"
	"math/bits"
	"testing"
)

// Check values are the catalogue's CRC of "123456789".
func TestCheckValues(t *testing.T) {
	for _, tc := range []struct {
		t    *Table
		want uint16
	}{{ARC, 0xBB3D}, {X25, 0x906E}, {Kermit, 0x2189}, {Modbus, 0x4B37}, {CCITTFalse, 0x29B1}} {
		if got := tc.t.Checksum([]byte("123456789")); got != tc.want {
			t.Errorf("%s: got %04X, want %04X", tc.t.Params().Name, got, tc.want)
		}
	}
}

func TestUpdateInPieces(t *testing.T) {
	data := []byte("123456789")
	for _, tab := range []*Table{ARC, X25, CCITTFalse} {
		crc := tab.Update(tab.Start(), data[:4])
		crc = tab.Update(crc, data[4:])
		if got, want := tab.Finish(crc), tab.Checksum(data); got != want {
			t.Errorf("%s: pieces %04X, whole %04X", tab.Params().Name, got, want)
		}
	}
}

// The GT06 login example from the Concox document: CRC over length..serial.
func TestX25ConcoxLogin(t *testing.T) {
	frame, _ := hex.DecodeString("0d01012345678901234500018cdd")
	body := frame[:len(frame)-2]
	if got := X25.Checksum(body); got != 0x8CDD {
		t.Fatalf("got %04X, want 8CDD", got)
	}
}

func BenchmarkARC1K(b *testing.B) {
	data := make([]byte, 1024)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ARC.Checksum(data)
	}
}

// bitwise is the textbook bit-at-a-time CRC, the reference the tables must
// match for every length (the slicing loop and its tail).
func bitwise(p Params, b []byte) uint16 {
	crc := p.Init
	for _, c := range b {
		if p.Reflected {
			crc ^= uint16(c)
			for range 8 {
				if crc&1 != 0 {
					crc = crc>>1 ^ bits.Reverse16(p.Poly)
				} else {
					crc >>= 1
				}
			}
		} else {
			crc ^= uint16(c) << 8
			for range 8 {
				if crc&0x8000 != 0 {
					crc = crc<<1 ^ p.Poly
				} else {
					crc <<= 1
				}
			}
		}
	}
	return crc ^ p.XorOut
}

func TestMatchesBitwiseAtEveryLength(t *testing.T) {
	data := make([]byte, 70)
	for i := range data {
		data[i] = byte(i*37 + 11)
	}
	for _, tab := range []*Table{ARC, X25, Kermit, Modbus, CCITTFalse} {
		for n := 0; n <= len(data); n++ {
			if got, want := tab.Checksum(data[:n]), bitwise(tab.Params(), data[:n]); got != want {
				t.Fatalf("%s, %d bytes: %04X, bitwise %04X", tab.Params().Name, n, got, want)
			}
		}
	}
}
