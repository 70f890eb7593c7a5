// Package crc8 computes the 8-bit CRCs that tracker protocols use, each
// named by its catalogue name (width 8, poly, init, refin/refout, xorout).
// Tables are computed once; checksumming allocates nothing.
package crc8

import "math/bits"

// Params describes one CRC-8 variant.
type Params struct {
	Poly      uint8 // polynomial, normal (not reversed) form
	Init      uint8
	Reflected bool // refin = refout = true
	XorOut    uint8
	Name      string
}

// Table is a ready-to-use CRC-8 variant. It is immutable and safe for
// concurrent use.
type Table struct {
	p Params
	t [256]uint8
}

// The variants used by the codecs in this module.
var (
	// NRSC5 is CRC-8/NRSC-5 (poly 0x31, init 0xFF, not reflected): the
	// header check (HCS) of EGTS, GOST R 54619 / GOST 33472, whose text
	// gives it with the check value 0xF7.
	NRSC5 = New(Params{Name: "CRC-8/NRSC-5", Poly: 0x31, Init: 0xFF})
)

// New builds the table for a variant.
func New(p Params) *Table {
	t := &Table{p: p}
	for i := range 256 {
		if p.Reflected {
			rpoly := bits.Reverse8(p.Poly)
			crc := uint8(i)
			for range 8 {
				if crc&1 != 0 {
					crc = crc>>1 ^ rpoly
				} else {
					crc >>= 1
				}
			}
			t.t[i] = crc
			continue
		}
		crc := uint8(i)
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ p.Poly
			} else {
				crc <<= 1
			}
		}
		t.t[i] = crc
	}
	return t
}

// Params returns the variant's parameters.
func (t *Table) Params() Params { return t.p }

// Checksum returns the CRC of b.
func (t *Table) Checksum(b []byte) uint8 {
	crc := t.p.Init
	for _, c := range b {
		crc = t.t[crc^c]
	}
	return crc ^ t.p.XorOut
}
