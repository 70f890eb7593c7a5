// Package crc16 computes the 16-bit CRCs that tracker protocols use, each
// named by its catalogue name (parameters: width 16, poly, init, refin/refout,
// xorout). Tables are computed once; checksumming allocates nothing.
// Reflected variants (all the ones trackers use) are computed eight bytes at
// a time (slicing-by-8): on a typical packet the CRC is otherwise a large
// share of the decode time.
package crc16
