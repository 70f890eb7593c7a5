package wialonips

import "github.com/gnssgate/gnssgate/protocol/crc16"

// arc checksums with CRC-16/ARC eight bytes at a time. crc16.ARC stays the
// definition: the tables are derived from it, and tests compare the two. A
// 2.0 #D# line is checksummed in full, and the byte-at-a-time table was the
// largest cost of decoding one.
var arc = newSlicing8(crc16.ARC)

// slicing8 holds, for k = 0..7, the CRC register after a byte followed by
// k zero bytes. It is only valid for reflected CRCs, which ARC is.
type slicing8 struct {
	table *crc16.Table
	t     [8][256]uint16
}

func newSlicing8(table *crc16.Table) *slicing8 {
	s := &slicing8{table: table}
	for i := range 256 {
		s.t[0][i] = table.Update(0, []byte{byte(i)})
	}
	for k := 1; k < 8; k++ {
		for i := range 256 {
			c := s.t[k-1][i]
			s.t[k][i] = c>>8 ^ s.t[0][byte(c)]
		}
	}
	return s
}

func (s *slicing8) checksum(p []byte) uint16 {
	t := &s.t
	crc := s.table.Start()
	for len(p) >= 8 {
		crc ^= uint16(p[0]) | uint16(p[1])<<8
		crc = t[7][byte(crc)] ^ t[6][crc>>8] ^ t[5][p[2]] ^ t[4][p[3]] ^
			t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc>>8 ^ t[0][byte(crc)^b]
	}
	return s.table.Finish(crc)
}
