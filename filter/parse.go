package filter

import (
	"math"
	"strconv"
	"strings"
)

// Limits bound what a parser accepts, so that a hostile expression cannot
// exhaust the stack, memory or CPU, and the work of one evaluation. A zero
// field takes its default.
type Limits struct {
	MaxSize   int // bytes of input; 0 means 64 KiB
	MaxDepth  int // nesting of parentheses, calls, indexes and unary operators; 0 means 64
	MaxNodes  int // syntax tree nodes; 0 means 1000
	MaxString int // bytes of one string literal (and so of one wildcard pattern); 0 means 1024
	// MaxSteps is the work one evaluation may do, in steps (see [Budget]);
	// 0 means DefaultMaxSteps. Parsing bounds the expression, but a pattern
	// of 1 KB matched against a string of 1 MB costs their product: past
	// the budget an evaluation gives up, does not match, and reports
	// [ErrBudget].
	MaxSteps int
}

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = 64 << 10
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = 1000
	}
	if l.MaxString <= 0 {
		l.MaxString = 1024
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = DefaultMaxSteps
	}
	return l
}

type opcode uint8

const (
	opLit opcode = iota
	opField
	opCall
	opIndex
	opNeg
	opBitNot
	// binary operators, in no particular order; see precedence.
	opMul
	opDiv
	opMod
	opAdd
	opSub
	opShl
	opShr
	opLt
	opLe
	opGt
	opGe
	opEq
	opNe
	opBitAnd
	opBitXor
	opBitOr
	opAnd
	opOr
	opCount
)

// precedence of binary operators, C's order; higher binds tighter.
var precedence = [opCount]int{
	opMul: 10, opDiv: 10, opMod: 10,
	opAdd: 9, opSub: 9,
	opShl: 8, opShr: 8,
	opLt: 7, opLe: 7, opGt: 7, opGe: 7,
	opEq: 6, opNe: 6,
	opBitAnd: 5,
	opBitXor: 4,
	opBitOr:  3,
	opAnd:    2,
	opOr:     1,
}

var opText = [opCount]string{
	opNeg: "-", opBitNot: "~",
	opMul: "*", opDiv: "/", opMod: "%", opAdd: "+", opSub: "-", opShl: "<<", opShr: ">>",
	opLt: "<", opLe: "<=", opGt: ">", opGe: ">=", opEq: "==", opNe: "!=",
	opBitAnd: "&", opBitXor: "^", opBitOr: "|", opAnd: "&&", opOr: "||",
}

func isBinary(op opcode) bool { return op >= opMul && op < opCount }

// node is one syntax tree node. The tree is immutable once parsed.
type node struct {
	op     opcode
	dollar bool  // opField: $name gives null when missing
	pos    int32 // byte offset in the source
	val    Value // opLit
	name   string
	fn     *funcDef // opCall
	kids   []*node

	// Set by compile on the evaluation tree only.
	slot     int32    // opField: index into Expr.fields
	pat      *Pattern // opEq/opNe: the constant wildcard pattern, if any
	patRight bool     // the pattern is the right operand

	kidsBuf [2]*node // backing store of kids for unary and binary nodes
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tStr
	tIdent // name, possibly with a leading '$'
	tOp    // operator or punctuation, text in tok.text
)

type token struct {
	kind tokKind
	pos  int
	text string // tOp: operator; tIdent: name without '$'
	num  float64
	str  string
	dol  bool
}

type parser struct {
	src    string
	pos    int
	tok    token
	loose  bool // "=" means "=="
	lim    Limits
	funcs  *funcTable
	arena  nodeArena
	depth  int
	nodes  int
	err    *SyntaxError
	strBuf []byte
}

// parse parses a whole expression.
func parse(src string, loose bool, lim Limits, ft *funcTable) (n *node, err error) {
	lim = lim.withDefaults()
	if len(src) > lim.MaxSize {
		return nil, newSyntaxError(src, 0, ErrLimit, "expression longer than "+strconv.Itoa(lim.MaxSize)+" bytes")
	}
	p := &parser{src: src, loose: loose, lim: lim, funcs: ft}
	p.next()
	if p.err == nil {
		n = p.expr()
	}
	if p.err == nil && p.tok.kind != tEOF {
		p.unexpected()
	}
	if p.err != nil {
		return nil, p.err
	}
	return n, nil
}

func (p *parser) fail(off int, cause error, msg string) {
	if p.err == nil {
		p.err = newSyntaxError(p.src, off, cause, msg)
	}
	p.tok = token{kind: tEOF, pos: len(p.src)}
	p.pos = len(p.src)
}

func (p *parser) unexpected() {
	switch p.tok.kind {
	case tEOF:
		p.fail(p.tok.pos, ErrSyntax, "unexpected end of input")
	case tNum:
		p.fail(p.tok.pos, ErrSyntax, "unexpected number")
	case tStr:
		p.fail(p.tok.pos, ErrSyntax, "unexpected string")
	case tIdent:
		p.fail(p.tok.pos, ErrSyntax, "unexpected name '"+p.tok.text+"'")
	default:
		p.fail(p.tok.pos, ErrSyntax, "unexpected '"+p.tok.text+"'")
	}
}

func (p *parser) newNode(op opcode, pos int) *node {
	p.nodes++
	if p.nodes > p.lim.MaxNodes {
		p.fail(pos, ErrLimit, "expression has more than "+strconv.Itoa(p.lim.MaxNodes)+" nodes")
	}
	n := p.arena.alloc(len(p.src)/3 + 4)
	n.op, n.pos = op, int32(pos)
	return n
}

// nodeArena hands out nodes from chunks, so that a parse or a compile makes
// a few allocations rather than one per node.
type nodeArena struct{ buf []node }

// alloc returns a zeroed node; a new chunk holds about hint nodes.
func (a *nodeArena) alloc(hint int) *node {
	if len(a.buf) == cap(a.buf) {
		a.buf = make([]node, 0, min(max(hint, 8), 512))
	}
	a.buf = a.buf[:len(a.buf)+1]
	return &a.buf[len(a.buf)-1]
}

// setKids points n.kids at n's inline array when it fits.
func (n *node) setKids(k ...*node) {
	if len(k) <= len(n.kidsBuf) {
		copy(n.kidsBuf[:], k)
		n.kids = n.kidsBuf[:len(k):len(k)]
		return
	}
	n.kids = append([]*node(nil), k...)
}

func (p *parser) enter(pos int) bool {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		p.fail(pos, ErrLimit, "expression nested deeper than "+strconv.Itoa(p.lim.MaxDepth))
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || '0' <= c && c <= '9' || c == '.' || c == '#'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// next reads the next token into p.tok.
func (p *parser) next() {
	s := p.src
	i := p.pos
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	if i >= len(s) {
		p.tok = token{kind: tEOF, pos: i}
		p.pos = i
		return
	}
	start := i
	c := s[i]
	switch {
	case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
		p.lexNumber(start)
		return
	case c == '"' || c == '\'':
		p.lexString(start, c)
		return
	case isIdentStart(c) || c == '$':
		dol := c == '$'
		if dol {
			i++
			if i >= len(s) || !isIdentStart(s[i]) {
				p.fail(start, ErrSyntax, "'$' must be followed by a parameter name")
				return
			}
		}
		j := i
		for j < len(s) && isIdentChar(s[j]) {
			j++
		}
		name := s[i:j]
		if name[len(name)-1] == '.' || strings.Contains(name, "..") {
			p.fail(start, ErrSyntax, "bad parameter name '"+name+"'")
			return
		}
		p.tok = token{kind: tIdent, pos: start, text: name, dol: dol}
		p.pos = j
		return
	}
	// Operators: longest match first.
	two := ""
	if i+1 < len(s) {
		two = s[i : i+2]
	}
	switch two {
	case "==", "!=", "<=", ">=", "&&", "||", "<<", ">>":
		p.tok = token{kind: tOp, pos: start, text: two}
		p.pos = i + 2
		return
	}
	switch c {
	case '+', '-', '*', '/', '%', '<', '>', '&', '|', '^', '~', '(', ')', '[', ']', ',', '=':
		p.tok = token{kind: tOp, pos: start, text: s[i : i+1]}
		p.pos = i + 1
		return
	}
	if c == '!' {
		p.fail(start, ErrSyntax, "unexpected '!' (use not(x) to negate)")
		return
	}
	if c < 0x20 || c >= 0x7f {
		p.fail(start, ErrSyntax, "unexpected character "+strconv.QuoteRune(rune(c)))
		return
	}
	p.fail(start, ErrSyntax, "unexpected '"+s[i:i+1]+"'")
}

func (p *parser) lexNumber(start int) {
	s := p.src
	i := start
	var f float64
	if s[i] == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
		i += 2
		j := i
		for j < len(s) && (isDigit(s[j]) || 'a' <= s[j]|0x20 && s[j]|0x20 <= 'f') {
			j++
		}
		if j == i {
			p.fail(start, ErrSyntax, "bad hex number")
			return
		}
		u, err := strconv.ParseUint(s[i:j], 16, 64)
		if err != nil {
			p.fail(start, ErrSyntax, "hex number out of range")
			return
		}
		f = float64(u)
		i = j
	} else {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i < len(s) && s[i] == '.' {
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		}
		if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				i = j
			}
		}
		var err error
		f, err = strconv.ParseFloat(s[start:i], 64)
		if err != nil && !math.IsInf(f, 0) {
			p.fail(start, ErrSyntax, "bad number")
			return
		}
	}
	if i < len(s) && (isIdentChar(s[i]) || s[i] == '$') {
		p.fail(start, ErrSyntax, "bad number")
		return
	}
	p.tok = token{kind: tNum, pos: start, num: f}
	p.pos = i
}

func (p *parser) lexString(start int, q byte) {
	s := p.src
	b := p.strBuf[:0]
	i := start + 1
	for {
		if i >= len(s) {
			p.fail(start, ErrSyntax, "unterminated string")
			return
		}
		c := s[i]
		if c == q {
			i++
			break
		}
		if c == '\\' {
			if i+1 >= len(s) {
				p.fail(start, ErrSyntax, "unterminated string")
				return
			}
			switch e := s[i+1]; e {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case '\\', '"', '\'':
				b = append(b, e)
			default:
				p.fail(i, ErrSyntax, "unknown escape '\\"+s[i+1:i+2]+"'")
				return
			}
			i += 2
		} else {
			b = append(b, c)
			i++
		}
		if len(b) > p.lim.MaxString {
			p.fail(start, ErrLimit, "string longer than "+strconv.Itoa(p.lim.MaxString)+" bytes")
			return
		}
	}
	p.strBuf = b
	p.tok = token{kind: tStr, pos: start, str: string(b)}
	p.pos = i
}

func (p *parser) isOp(text string) bool { return p.tok.kind == tOp && p.tok.text == text }

func (p *parser) expect(text string) {
	if p.isOp(text) {
		p.next()
		return
	}
	if p.err == nil {
		if p.tok.kind == tEOF {
			p.fail(p.tok.pos, ErrSyntax, "unexpected end of input, want '"+text+"'")
			return
		}
		p.unexpected()
	}
}

// binaryOp returns the operator the current token denotes, if binary.
func (p *parser) binaryOp() (opcode, bool) {
	if p.tok.kind != tOp {
		return 0, false
	}
	switch p.tok.text {
	case "*":
		return opMul, true
	case "/":
		return opDiv, true
	case "%":
		return opMod, true
	case "+":
		return opAdd, true
	case "-":
		return opSub, true
	case "<<":
		return opShl, true
	case ">>":
		return opShr, true
	case "<":
		return opLt, true
	case "<=":
		return opLe, true
	case ">":
		return opGt, true
	case ">=":
		return opGe, true
	case "==":
		return opEq, true
	case "!=":
		return opNe, true
	case "=":
		if p.loose {
			return opEq, true
		}
		p.fail(p.tok.pos, ErrSyntax, "unexpected '=' (use '==')")
		return 0, false
	case "&":
		return opBitAnd, true
	case "^":
		return opBitXor, true
	case "|":
		return opBitOr, true
	case "&&":
		return opAnd, true
	case "||":
		return opOr, true
	}
	return 0, false
}

func (p *parser) expr() *node { return p.binary(1) }

// binary parses by precedence climbing: operands bind to operators of at
// least minPrec; equal precedence associates to the left. Chains of one
// level loop rather than recurse, so only distinct levels use stack.
func (p *parser) binary(minPrec int) *node {
	left := p.unary()
	for p.err == nil {
		op, ok := p.binaryOp()
		if !ok || precedence[op] < minPrec {
			return left
		}
		n := p.newNode(op, p.tok.pos)
		p.next()
		right := p.binary(precedence[op] + 1)
		n.setKids(left, right)
		left = n
	}
	return left
}

func (p *parser) unary() *node {
	if p.isOp("-") || p.isOp("~") {
		op := opNeg
		if p.tok.text == "~" {
			op = opBitNot
		}
		n := p.newNode(op, p.tok.pos)
		if !p.enter(p.tok.pos) {
			return n
		}
		p.next()
		n.setKids(p.unary())
		p.leave()
		return n
	}
	if p.isOp("+") { // unary plus is accepted and dropped
		if !p.enter(p.tok.pos) {
			return nil
		}
		p.next()
		n := p.unary()
		p.leave()
		return n
	}
	return p.postfix()
}

func (p *parser) postfix() *node {
	n := p.primary()
	for p.err == nil && p.isOp("[") {
		ix := p.newNode(opIndex, p.tok.pos)
		if !p.enter(p.tok.pos) {
			return ix
		}
		p.next()
		ix.setKids(n, p.expr())
		p.expect("]")
		p.leave()
		n = ix
	}
	return n
}

func (p *parser) primary() *node {
	t := p.tok
	switch t.kind {
	case tNum:
		n := p.newNode(opLit, t.pos)
		n.val = Number(t.num)
		p.next()
		return n
	case tStr:
		n := p.newNode(opLit, t.pos)
		n.val = String(t.str)
		p.next()
		return n
	case tIdent:
		p.next()
		if !t.dol && p.isOp("(") {
			return p.call(t)
		}
		if !t.dol {
			switch t.text {
			case "true", "false":
				n := p.newNode(opLit, t.pos)
				n.val = Bool(t.text == "true")
				return n
			case "null":
				return p.newNode(opLit, t.pos)
			}
		}
		n := p.newNode(opField, t.pos)
		n.name = t.text
		n.dollar = t.dol
		return n
	case tOp:
		if t.text == "(" {
			if !p.enter(t.pos) {
				return nil
			}
			p.next()
			n := p.expr()
			p.expect(")")
			p.leave()
			return n
		}
	}
	p.unexpected()
	return nil
}

func (p *parser) call(t token) *node {
	n := p.newNode(opCall, t.pos)
	n.name = t.text
	if !p.enter(t.pos) {
		return n
	}
	p.next() // (
	if !p.isOp(")") {
		for p.err == nil {
			n.kids = append(n.kids, p.expr())
			if !p.isOp(",") {
				break
			}
			p.next()
		}
	}
	p.expect(")")
	p.leave()
	if p.err != nil {
		return n
	}
	fd := p.funcs.lookup(t.text)
	if fd == nil {
		p.fail(t.pos, ErrUnknownFunction, "unknown function '"+t.text+"'")
		return n
	}
	if len(n.kids) < fd.min || fd.max >= 0 && len(n.kids) > fd.max {
		p.fail(t.pos, ErrArgCount, t.text+"() takes "+fd.arity()+", got "+strconv.Itoa(len(n.kids)))
		return n
	}
	n.fn = fd
	return n
}
