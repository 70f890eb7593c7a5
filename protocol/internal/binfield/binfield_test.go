package binfield

import (
	"encoding/hex"
	"testing"
)

func TestHexString(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 300} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + 11)
		}
		if got, want := HexString(b), hex.EncodeToString(b); got != want {
			t.Errorf("%d bytes: %q, want %q", n, got, want)
		}
	}
	b := make([]byte, 64)
	if a := testing.AllocsPerRun(100, func() { _ = HexString(b) }); a > 1 {
		t.Errorf("%v allocations", a)
	}
}
