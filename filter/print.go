package filter

import (
	"math"
	"strconv"
)

// appendNode writes n in canonical form: single spaces around binary
// operators, "==" for equality, double-quoted strings, decimal numbers, and
// only the parentheses that precedence requires. Parsing the output gives the
// same tree.
func appendNode(b []byte, n *node, parentPrec int, right bool) []byte {
	switch n.op {
	case opLit:
		return appendLiteral(b, n.val)
	case opField:
		if n.dollar {
			b = append(b, '$')
		}
		return append(b, n.name...)
	case opCall:
		b = append(b, n.name...)
		b = append(b, '(')
		for i, k := range n.kids {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendNode(b, k, 0, false)
		}
		return append(b, ')')
	case opIndex:
		b = appendNode(b, n.kids[0], 12, false)
		b = append(b, '[')
		b = appendNode(b, n.kids[1], 0, false)
		return append(b, ']')
	case opNeg, opBitNot:
		b = append(b, opText[n.op]...)
		k := n.kids[0]
		if k.op == opNeg || k.op == opBitNot {
			// "- -x" keeps two tokens apart for readers; the lexer would cope.
			b = append(b, ' ')
		}
		return appendNode(b, k, 11, false)
	}
	p := precedence[n.op]
	paren := p < parentPrec || p == parentPrec && right
	if paren {
		b = append(b, '(')
	}
	b = appendNode(b, n.kids[0], p, false)
	b = append(b, ' ')
	b = append(b, opText[n.op]...)
	b = append(b, ' ')
	b = appendNode(b, n.kids[1], p, true)
	if paren {
		b = append(b, ')')
	}
	return b
}

func appendLiteral(b []byte, v Value) []byte {
	switch v.kind {
	case KindNull:
		return append(b, "null"...)
	case KindBool:
		return strconv.AppendBool(b, v.num != 0)
	case KindNumber:
		f := v.num
		switch {
		case math.IsInf(f, 1):
			return append(b, "1e999"...)
		case math.IsNaN(f) || math.IsInf(f, -1):
			// Not produced by the parser; keep the output parseable anyway.
			return append(b, "null"...)
		case f == math.Trunc(f) && math.Abs(f) < 1e21:
			return strconv.AppendFloat(b, f, 'f', -1, 64)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	// Strings: double quotes; escape what the lexer needs escaped.
	s := v.str
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
