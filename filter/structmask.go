package filter

import "unsafe"

// The single pass over a document without backslashes (fillPlain) does not
// look at most bytes at all: in such a document every string ends at its
// next quote, so the members of a flat object are found from the positions
// of two bytes alone, '"' and '}'. Those positions are computed 64 bytes at
// a time into bit masks (with SSE2 on amd64) and the pass hops from bit to
// bit. A 1 KB flespi message has about 100 such bits.

// maskWindow is how many 64-byte blocks one structMasks call covers: enough
// to amortise the call, few enough that a pass stopping early wastes little.
const maskWindow = 8

// structMasksGeneric is structMasks in Go, for other architectures and as
// the reference the assembly is tested against.
func structMasksGeneric(p *byte, blocks int, out *[maskWindow]uint64) {
	b := unsafe.Slice(p, blocks*64)
	for k := range blocks {
		var m uint64
		for i, c := range b[k*64 : k*64+64] {
			if c == '"' || c == '}' {
				m |= 1 << i
			}
		}
		out[k] = m
	}
}

// maskReader hands out the '"'/'}' masks of d's 64-byte blocks, computing
// them a window at a time. It lives on the caller's stack.
type maskReader struct {
	d     string
	start int // offset in d of buf[0]'s block
	nb    int // blocks in buf
	buf   [maskWindow]uint64
}

// mask returns the mask of the block at d[start:] (start a multiple of
// 64; bit i is byte start+i), or false when start is past the end. A last
// block shorter than 64 bytes is padded with zeros, which match nothing.
func (r *maskReader) mask(start int) (uint64, bool) {
	if k := (start - r.start) >> 6; start >= r.start && k < r.nb {
		return r.buf[k], true
	}
	rest := len(r.d) - start
	if rest <= 0 || start < 0 {
		return 0, false
	}
	r.start = start
	if rest >= 64 {
		r.nb = min(rest>>6, maskWindow)
		structMasks((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(r.d)), start)), r.nb, &r.buf)
	} else {
		var tail [64]byte
		copy(tail[:], r.d[start:])
		structMasks(&tail[0], 1, &r.buf)
		r.nb = 1
	}
	return r.buf[0], true
}
