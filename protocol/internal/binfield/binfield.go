package binfield

// HexString is hex.EncodeToString with one allocation: up to 64 bytes, the
// usual size of a field kept as hex, are encoded on the stack.
func HexString(b []byte) string {
	const digits = "0123456789abcdef"
	var stack [128]byte
	out := stack[:0]
	if 2*len(b) > len(stack) {
		out = make([]byte, 0, 2*len(b))
	}
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0x0F])
	}
	return string(out)
}
