//go:build !purego

package filter

// structMasks sets out[k] to the mask of '"' and '}' bytes in the 64 bytes
// at p+64k, for k < blocks (blocks <= maskWindow); bit i is byte i.
//
//go:noescape
func structMasks(p *byte, blocks int, out *[maskWindow]uint64)
