//go:build !purego

package filter

// structMasks computes the q, k and x masks (see blockMasks) of the blocks
// of 64 bytes at p, p+64, …, for blocks <= maskWindow blocks; it reads
// blocks*64+1 bytes.
func structMasks(p *byte, blocks int, out *blockMasks) {
	if useAVX2 {
		structMasksAVX2(p, blocks, out)
	} else {
		structMasksSSE2(p, blocks, out)
	}
}

// useAVX2 is a property of the machine, fixed for the life of the process.
var useAVX2 = cpuHasAVX2()

func cpuHasAVX2() bool

//go:noescape
func structMasksSSE2(p *byte, blocks int, out *blockMasks)

//go:noescape
func structMasksAVX2(p *byte, blocks int, out *blockMasks)
