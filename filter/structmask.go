package filter

import "unsafe"

// The single pass (fillPlain) looks at few bytes: where a document holds no
// backslash, every string ends at its next quote, so the members of an
// object are found from the positions of a few bytes.
// Those positions are computed 64 bytes at a time into bit masks (with SSE2
// on amd64, in Go elsewhere):
//
//   - q: '"';
//   - k: '"' directly followed by ':' — the end of a key, in a document
//     without backslashes;
//   - x: what the fastest walk cannot handle: '{', '[', '}' and '\\', and
//     '"' followed by white space (or any byte up to ' '), as in "key" : 1.
//
// Bit i of a block's mask is byte i of the block; k and x look at the byte
// after the block too.

// maskWindow is how many 64-byte blocks one structMasks call covers: enough
// to amortise the call, few enough that a pass stopping early wastes little.
const maskWindow = 8

// blockMasks holds the masks of up to maskWindow blocks. The assembly
// relies on this layout.
type blockMasks struct {
	q, k, x [maskWindow]uint64
}

// structMasksGeneric is structMasks in Go, for other architectures and as
// the reference the assembly is tested against. It reads blocks*64+1 bytes.
func structMasksGeneric(p *byte, blocks int, out *blockMasks) {
	b := unsafe.Slice(p, blocks*64+1)
	for blk := range blocks {
		var q, k, x uint64
		for i := range 64 {
			c, next := b[blk*64+i], b[blk*64+i+1]
			bit := uint64(1) << i
			if c == '"' {
				q |= bit
				if next == ':' {
					k |= bit
				}
				if next <= ' ' {
					x |= bit
				}
			}
			if c == '{' || c == '[' || c == '}' || c == '\\' {
				x |= bit
			}
		}
		out.q[blk], out.k[blk], out.x[blk] = q, k, x
	}
}

// maskReader hands out the masks of d's 64-byte blocks, computing them a
// window at a time. It lives on the caller's stack.
type maskReader struct {
	d     string
	start int // offset in d of the first block in m
	nb    int // blocks in m
	m     blockMasks
}

// load makes the block at d[start:] (start a multiple of 64) available as
// block index (start-r.start)>>6 and reports false when start is past the
// end. A last block is padded with zeros, which match nothing.
func (r *maskReader) load(start int) bool {
	if k := (start - r.start) >> 6; start >= r.start && k < r.nb {
		return true
	}
	rest := len(r.d) - start
	if rest <= 0 || start < 0 {
		return false
	}
	r.start = start
	if rest > 64 {
		// Full blocks, each with its next byte inside d.
		r.nb = min((rest-1)>>6, maskWindow)
		structMasks((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(r.d)), start)), r.nb, &r.m)
	} else {
		var tail [80]byte
		copy(tail[:], r.d[start:])
		structMasks(&tail[0], 1, &r.m)
		r.nb = 1
	}
	return true
}

// mask returns the positions of '"', brackets and backslashes in the block at
// d[start:] (for plainScan), or false past the end.
func (r *maskReader) mask(start int) (uint64, bool) {
	if !r.load(start) {
		return 0, false
	}
	k := (start - r.start) >> 6
	return r.m.q[k&(maskWindow-1)] | r.m.x[k&(maskWindow-1)], true
}
