package gt06

// CRC-16/X-25, the "CRC-ITU" of the Concox documents (poly 0x1021
// reflected, init 0xFFFF, final XOR 0xFFFF), eight bytes at a time.
// protocol/crc16.X25 gives the same values a byte at a time; on a location
// packet that was a fifth of the decode time, so the codec keeps slicing-by-8
// tables (4 KiB, built once at package initialisation and never modified).
// TestCRCMatchesX25 checks the two agree.

var x25Tables = buildX25Tables()

func buildX25Tables() *[8][256]uint16 {
	var t [8][256]uint16
	for i := range 256 {
		crc := uint16(i)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408 // 0x1021 reflected
			} else {
				crc >>= 1
			}
		}
		t[0][i] = crc
	}
	// t[k][i]: the effect of byte i followed by k zero bytes.
	for k := 1; k < 8; k++ {
		for i := range 256 {
			prev := t[k-1][i]
			t[k][i] = prev>>8 ^ t[0][byte(prev)]
		}
	}
	return &t
}

// crcX25 returns the CRC-16/X-25 of b.
func crcX25(b []byte) uint16 {
	t := x25Tables
	crc := uint16(0xFFFF)
	for len(b) >= 8 {
		crc ^= uint16(b[0]) | uint16(b[1])<<8
		crc = t[7][byte(crc)] ^ t[6][crc>>8] ^ t[5][b[2]] ^ t[4][b[3]] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, c := range b {
		crc = crc>>8 ^ t[0][byte(crc)^c]
	}
	return crc ^ 0xFFFF
}
