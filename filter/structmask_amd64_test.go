//go:build !purego

package filter

import "testing"

// testArchMasks checks each implementation this machine can run.
func testArchMasks(t *testing.T, buf []byte, blocks int, want *blockMasks) {
	var sse, avx blockMasks
	structMasksSSE2(&buf[0], blocks, &sse)
	if sse != *want {
		t.Fatalf("SSE2, blocks %d: got %x, want %x", blocks, sse, *want)
	}
	if !useAVX2 {
		return
	}
	structMasksAVX2(&buf[0], blocks, &avx)
	if avx != *want {
		t.Fatalf("AVX2, blocks %d: got %x, want %x", blocks, avx, *want)
	}
}
