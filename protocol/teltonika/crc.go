package teltonika

// CRC-16/ARC (what Teltonika calls CRC-16/IBM: poly 0x8005 reflected, init
// 0, no final XOR), computed eight bytes at a time. protocol/crc16's ARC
// table gives the same values a byte at a time; it was a third of the
// decode time of a typical packet, so the codec keeps its own slicing-by-8
// tables (4 KiB, built once, never modified). TestCRCMatchesARC checks the
// two agree.

var arcTables = buildARCTables()

func buildARCTables() *[8][256]uint16 {
	var t [8][256]uint16
	for i := range 256 {
		crc := uint16(i)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001 // 0x8005 reflected
			} else {
				crc >>= 1
			}
		}
		t[0][i] = crc
	}
	for k := 1; k < 8; k++ {
		for i := range 256 {
			prev := t[k-1][i]
			t[k][i] = prev>>8 ^ t[0][byte(prev)]
		}
	}
	return &t
}

// checksum returns the CRC-16/ARC of b.
func checksum(b []byte) uint16 {
	t := arcTables
	var crc uint16
	for len(b) >= 8 {
		crc ^= uint16(b[0]) | uint16(b[1])<<8
		crc = t[7][byte(crc)] ^ t[6][crc>>8] ^ t[5][b[2]] ^ t[4][b[3]] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, c := range b {
		crc = crc>>8 ^ t[0][byte(crc)^c]
	}
	return crc
}
