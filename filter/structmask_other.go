//go:build !amd64 || purego

package filter

// structMasks computes the q, k and x masks (see blockMasks) of the blocks
// of 64 bytes at p, p+64, …, for blocks <= maskWindow blocks; it reads
// blocks*64+1 bytes.
func structMasks(p *byte, blocks int, out *blockMasks) {
	structMasksGeneric(p, blocks, out)
}
