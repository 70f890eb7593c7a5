// Package natskey turns arbitrary strings (device idents, consumer names,
// registry keys) into NATS subject tokens and JetStream KV key segments,
// reversibly. A token may hold only letters, digits, '-', '_' and '='; any
// other byte, and '_' itself, is written "_XX" (two upper-case hex digits),
// and the empty string is "_", which no other string encodes to.
package natskey

import (
	"errors"
	"strings"
)

const hex = "0123456789ABCDEF"

func plain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '='
}

// Token encodes s as one subject token (no '.', '*', '>', space or '/').
func Token(s string) string {
	if s == "" {
		return "_"
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if !plain(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ErrBadToken reports a token that Token did not make.
var ErrBadToken = errors.New("natskey: malformed token")

// Parse decodes a token made by Token.
func Parse(tok string) (string, error) {
	if tok == "_" {
		return "", nil
	}
	if !strings.Contains(tok, "_") {
		for i := 0; i < len(tok); i++ {
			if !plain(tok[i]) {
				return "", ErrBadToken
			}
		}
		if tok == "" {
			return "", ErrBadToken
		}
		return tok, nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		if c != '_' || i+2 >= len(tok) {
			return "", ErrBadToken
		}
		hi, lo := unhex(tok[i+1]), unhex(tok[i+2])
		if hi < 0 || lo < 0 {
			return "", ErrBadToken
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Path encodes a '/'-separated path as '.'-separated tokens, one per
// segment: "obj/devices/7" becomes "obj.devices.7", so that a prefix ending
// in '/' is a subject wildcard ("obj.devices.>").
func Path(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = Token(s)
	}
	return strings.Join(segs, ".")
}

// ParsePath decodes what Path made.
func ParsePath(key string) (string, error) {
	segs := strings.Split(key, ".")
	for i, s := range segs {
		var err error
		if segs[i], err = Parse(s); err != nil {
			return "", err
		}
	}
	return strings.Join(segs, "/"), nil
}
