package teltonika

import (
	"math/rand/v2"
	"testing"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

func TestCRCMatchesARC(t *testing.T) {
	if got := checksum([]byte("123456789")); got != 0xBB3D {
		t.Fatalf("check value %04X, want BB3D", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if got, want := checksum(b), crc16.ARC.Checksum(b); got != want {
			t.Fatalf("%d bytes: %04X, crc16.ARC %04X", n, got, want)
		}
	}
}

func BenchmarkCRC(b *testing.B) {
	data := make([]byte, 160)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		checksum(data)
	}
}
