package filter

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// compile copies the parsed tree into the evaluation tree: fields get slots,
// constant wildcard patterns are prepared, and constant subtrees are folded.
func (x *Expr) compile(n *node, a *nodeArena) *node {
	c := a.alloc(32)
	*c = *n
	if len(n.kids) > 0 {
		var buf [2]*node
		kids := buf[:0]
		if len(n.kids) > len(buf) {
			kids = make([]*node, 0, len(n.kids))
		}
		kids = kids[:len(n.kids)]
		for i, k := range n.kids {
			kids[i] = x.compile(k, a)
		}
		c.setKids(kids...)
	}
	switch c.op {
	case opField:
		c.slot = x.slotFor(c.name)
	case opCall:
		switch c.fn.id {
		case fnJSON, fnExists:
			// A string literal names a parameter: json('key.s', 0), exists('x').
			if k := c.kids[0]; k.op == opLit && k.val.kind == KindString && k.val.str != "" {
				f := a.alloc(32)
				*f = node{op: opField, dollar: true, pos: k.pos, name: k.val.str, slot: x.slotFor(k.val.str)}
				c.kids[0] = f
			}
		}
	case opEq, opNe:
		l, r := c.kids[0], c.kids[1]
		switch {
		case r.op == opLit && r.val.kind == KindString:
			c.pat, c.patRight = compilePattern(r.val.str), true
		case l.op == opLit && l.val.kind == KindString:
			c.pat = compilePattern(l.val.str)
		}
	}
	if foldable(c) {
		e := evaluator{x: x, b: newBudget(x.maxSteps)}
		if v := e.eval(c); v.kind != KindError && !e.b.over {
			*c = node{op: opLit, pos: c.pos, val: v}
		}
	}
	return c
}

func (x *Expr) slotFor(name string) int32 {
	for i, f := range x.fields {
		if f == name {
			return int32(i)
		}
	}
	x.fields = append(x.fields, name)
	return int32(len(x.fields) - 1)
}

// foldable reports whether n is an operation on constants with no side
// inputs (fields, clock, metadata, custom functions).
func foldable(n *node) bool {
	switch n.op {
	case opLit, opField:
		return false
	case opCall:
		switch n.fn.id {
		case fnCustom, fnError, fnNow, fnExists, fnMetadata:
			return false
		case fnMonth, fnDay, fnHour, fnMinute:
			return false // depend on the evaluation time zone
		}
	}
	for _, k := range n.kids {
		if k.op != opLit {
			return false
		}
	}
	return true
}

// evaluator walks the evaluation tree. It lives on the caller's stack; its
// methods never let it or its jsonSource escape, so evaluation allocates
// nothing unless a custom function or a string conversion needs to.
type evaluator struct {
	src Source
	env *Env
	x   *Expr
	raw bool       // evaluating raw JSON in js
	js  jsonSource // raw JSON state, inline so that it stays on the stack
	b   Budget     // the steps left (inline, as js); every cost that grows with the data is charged
	// srcCost is what one src lookup costs beyond a step (costSource),
	// found once per evaluation: a type assertion per lookup costs more
	// than the lookup of a small map.
	srcCost int
}

// sourceCost is evaluator.srcCost for src. (Set on an evaluator built in
// place: returning one from a constructor would copy its half-kilobyte of
// slots.)
func sourceCost(src Source) int {
	if c, ok := src.(costSource); ok {
		return c.lookupBytes()
	}
	return 0
}

// overBudget is the error value of an evaluation that ran out of steps.
var overBudget = Value{kind: KindError, code: errBudget}

// scan charges a byte-by-byte pass over n bytes, fast a block scan, and
// they report whether the budget still holds.
func (e *evaluator) scan(n int) bool { return e.b.SpendScan(n) }
func (e *evaluator) fast(n int) bool { return e.b.spendFast(n) }

// lookupCost charges looking name up in the data outside the single pass:
// a path lookup reads each byte at most once per dot in the name.
func (e *evaluator) lookupCost(name string) bool {
	n := len(e.js.data)
	for i := 0; e.js.nested && i < len(name); i++ {
		if name[i] == '.' {
			n += len(e.js.data)
		}
	}
	return e.scan(n)
}

func (e *evaluator) field(n *node) (Value, bool) {
	if e.raw {
		i := int(n.slot)
		switch {
		case i >= e.js.n || e.js.nested && e.js.done&(1<<i) == 0:
			if !e.lookupCost(n.name) {
				return overBudget, true
			}
		case !e.js.nested && !e.js.filled:
			if !e.fast(len(e.js.data)) {
				return overBudget, true
			}
		}
		return e.js.slot(i, n.name)
	}
	if e.src == nil {
		return Value{}, false
	}
	if e.srcCost > 0 && !e.b.Spend(e.srcCost) {
		return overBudget, true
	}
	return e.src.Lookup(n.name)
}

func (e *evaluator) lookupName(name string) (Value, bool) {
	if e.raw {
		if !e.lookupCost(name) {
			return overBudget, true
		}
		return e.js.lookup(name)
	}
	if e.src == nil {
		return Value{}, false
	}
	// A lookup in a Source costs a step, like any node, unless it scans a
	// document (costSource): only that grows with the data.
	if e.srcCost > 0 && !e.b.Spend(e.srcCost) {
		return overBudget, true
	}
	return e.src.Lookup(name)
}

// eval dispatches on the node; each case is a small function so that this
// recursive hot path keeps a small stack frame.
func (e *evaluator) eval(n *node) Value {
	switch n.op {
	case opLit:
		return n.val
	case opField:
		return e.evalField(n)
	case opAnd:
		return e.evalAnd(n)
	case opOr:
		return e.evalOr(n)
	case opEq, opNe, opLt, opLe, opGt, opGe:
		if n.kids[1].op == opLit {
			return e.compareConst(n)
		}
		return e.compare(n, e.eval(n.kids[0]), e.eval(n.kids[1]))
	case opAdd, opSub, opMul, opDiv, opMod:
		return arith(n, e.eval(n.kids[0]), e.eval(n.kids[1]))
	case opCall:
		return e.call(n)
	}
	return e.evalOther(n)
}

func (e *evaluator) evalField(n *node) Value {
	v, ok := e.field(n)
	if !ok {
		if n.dollar {
			return Value{}
		}
		return errVal(errMissing, n.name, n.pos)
	}
	return v
}

func (e *evaluator) evalAnd(n *node) Value {
	l := e.eval(n.kids[0])
	if l.kind == KindError {
		return l
	}
	if !l.Truth() {
		return Value{kind: KindBool}
	}
	r := e.eval(n.kids[1])
	if r.kind == KindError {
		return r
	}
	return Bool(r.Truth())
}

func (e *evaluator) evalOr(n *node) Value {
	l := e.eval(n.kids[0])
	if l.kind == KindError {
		return l
	}
	if l.Truth() {
		return Value{kind: KindBool, num: 1}
	}
	r := e.eval(n.kids[1])
	if r.kind == KindError {
		return r
	}
	return Bool(r.Truth())
}

// compareConst compares with a constant right operand: the common
// "field op literal" shape, with its number and pattern cases inline.
func (e *evaluator) compareConst(n *node) Value {
	l := e.eval(n.kids[0])
	c := &n.kids[1].val
	if l.kind == KindNumber && c.kind == KindNumber {
		a, b := l.num, c.num
		var r bool
		switch n.op {
		case opEq:
			r = a == b
		case opNe:
			r = a != b
		case opLt:
			r = a < b
		case opLe:
			r = a <= b
		case opGt:
			r = a > b
		default:
			r = a >= b
		}
		return Bool(r)
	}
	if l.kind == KindString && n.pat != nil && n.patRight {
		m := n.pat.match(l.str, &e.b)
		if e.b.over {
			return overBudget
		}
		return Bool(m == (n.op == opEq))
	}
	return e.compare(n, l, *c)
}

func (e *evaluator) evalOther(n *node) Value {
	switch n.op {
	case opBitAnd, opBitOr, opBitXor, opShl, opShr:
		return bitwise(n, e.eval(n.kids[0]), e.eval(n.kids[1]))
	case opNeg:
		v := e.eval(n.kids[0])
		switch v.kind {
		case KindNumber:
			return Number(-v.num)
		case KindNull, KindError:
			return v
		}
		return errVal(errType, "'-'", n.pos)
	case opBitNot:
		v := e.eval(n.kids[0])
		switch v.kind {
		case KindNumber:
			if math.IsNaN(v.num) {
				return errVal(errType, "'~'", n.pos)
			}
			return Number(float64(^toInt(v.num)))
		case KindNull, KindError:
			return v
		}
		return errVal(errType, "'~'", n.pos)
	case opIndex:
		return e.jsonIndex(n, e.eval(n.kids[0]), e.eval(n.kids[1]))
	}
	return errVal(errType, "unknown operation", n.pos)
}

// number casts a comparison operand: null and false are 0, true is 1, a
// numeric string is its number.
func cmpNumber(v Value) (float64, bool) {
	switch v.kind {
	case KindNumber, KindBool:
		return v.num, true
	case KindNull:
		return 0, true
	case KindString:
		return parseNumber(v.str)
	}
	return 0, false
}

func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(u), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	// ParseFloat accepts "inf" and "nan"; flespi numbers are finite words.
	if s != "" && (s[len(s)-1]|0x20) >= 'a' && (s[len(s)-1]|0x20) <= 'z' {
		return 0, false
	}
	return f, true
}

func (e *evaluator) compare(n *node, l, r Value) Value {
	if l.kind == KindError {
		return l
	}
	if r.kind == KindError {
		return r
	}
	if (l.kind == KindString || r.kind == KindString) && !e.fast(len(l.str)+len(r.str)) {
		return overBudget
	}
	if l.kind == KindString && r.kind == KindString {
		switch n.op {
		case opEq, opNe:
			var eq bool
			switch {
			case n.pat != nil && n.patRight:
				eq = n.pat.match(l.str, &e.b)
			case n.pat != nil:
				eq = n.pat.match(r.str, &e.b)
			case hasWild(r.str):
				eq = globMatch(r.str, l.str, &e.b)
			default:
				eq = l.str == r.str
			}
			if e.b.over {
				return overBudget
			}
			return Bool(eq == (n.op == opEq))
		case opLt:
			return Bool(l.str < r.str)
		case opLe:
			return Bool(l.str <= r.str)
		case opGt:
			return Bool(l.str > r.str)
		case opGe:
			return Bool(l.str >= r.str)
		}
	}
	a, ok1 := cmpNumber(l)
	b, ok2 := cmpNumber(r)
	if !ok1 || !ok2 {
		return errVal(errType, "'"+opText[n.op]+"'", n.pos)
	}
	switch n.op {
	case opEq:
		return Bool(a == b)
	case opNe:
		return Bool(a != b)
	case opLt:
		return Bool(a < b)
	case opLe:
		return Bool(a <= b)
	case opGt:
		return Bool(a > b)
	}
	return Bool(a >= b)
}

func arith(n *node, l, r Value) Value {
	if l.kind == KindError {
		return l
	}
	if r.kind == KindError {
		return r
	}
	if l.kind == KindNull || r.kind == KindNull {
		return Value{}
	}
	if l.kind != KindNumber || r.kind != KindNumber {
		return errVal(errType, "'"+opText[n.op]+"'", n.pos)
	}
	switch n.op {
	case opAdd:
		return Number(l.num + r.num)
	case opSub:
		return Number(l.num - r.num)
	case opMul:
		return Number(l.num * r.num)
	case opDiv:
		if r.num == 0 {
			return errVal(errDivZero, "", n.pos)
		}
		return Number(l.num / r.num)
	}
	if r.num == 0 {
		return errVal(errDivZero, "", n.pos)
	}
	return Number(math.Mod(l.num, r.num))
}

// toInt truncates a float to int64, saturating outside int64's range.
func toInt(f float64) int64 {
	switch {
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

func bitwise(n *node, l, r Value) Value {
	if l.kind == KindError {
		return l
	}
	if r.kind == KindError {
		return r
	}
	if l.kind == KindNull || r.kind == KindNull {
		return Value{}
	}
	// Booleans are rejected on purpose: "a=1|b=2" (flespi's retired logical
	// '|') must not silently act as "||".
	if l.kind != KindNumber || r.kind != KindNumber || math.IsNaN(l.num) || math.IsNaN(r.num) {
		return errVal(errType, "'"+opText[n.op]+"'", n.pos)
	}
	a, b := toInt(l.num), toInt(r.num)
	switch n.op {
	case opBitAnd:
		return Number(float64(a & b))
	case opBitOr:
		return Number(float64(a | b))
	case opBitXor:
		return Number(float64(a ^ b))
	case opShl:
		if b < 0 || b > 63 {
			return Number(0)
		}
		return Number(float64(a << uint(b)))
	}
	if b < 0 || b > 63 {
		if a < 0 {
			return Number(-1)
		}
		return Number(0)
	}
	return Number(float64(a >> uint(b)))
}

// asJSON returns the raw JSON text inside v: a JSON value, or a string that
// holds an object or array (such as an MQTT payload).
func asJSON(v Value) (string, bool) {
	switch v.kind {
	case KindJSON:
		return v.str, true
	case KindString:
		s := strings.TrimSpace(v.str)
		if s != "" && (s[0] == '{' || s[0] == '[') {
			return s, true
		}
	}
	return "", false
}

// jsonIndex charges the scan of v, then indexes it.
func (e *evaluator) jsonIndex(n *node, v, k Value) Value {
	if (v.kind == KindJSON || v.kind == KindString) && !e.scan(len(v.str)) {
		return overBudget
	}
	return jsonIndex(n, v, k)
}

// jsonIndex is json(v, key) and v[key]: a member by name, a member or
// element by 0-based position (objects in document order). Absent is null.
func jsonIndex(n *node, v, k Value) Value {
	if v.kind == KindError {
		return v
	}
	if k.kind == KindError {
		return k
	}
	if v.kind == KindNull {
		return Value{}
	}
	raw, ok := asJSON(v)
	if !ok {
		return errVal(errIndex, "cannot index a "+v.kind.String(), n.pos)
	}
	i := skipSpace(raw, 0)
	switch k.kind {
	case KindString:
		if raw[i] != '{' {
			return errVal(errIndex, "a string key needs a JSON object", n.pos)
		}
		if m, ok := lookupFlat(raw, k.str); ok {
			return rawValue(m)
		}
		return Value{}
	case KindNumber:
		if k.num < 0 || k.num != math.Trunc(k.num) {
			return Value{}
		}
		want := int(min(k.num, 1<<30))
		if raw[i] == '{' {
			it, _ := newObjIter(raw)
			for j := 0; ; j++ {
				_, _, m, ok := it.next()
				if !ok {
					return Value{}
				}
				if j == want {
					return rawValue(m)
				}
			}
		}
		it, _ := newArrIter(raw)
		for j := 0; ; j++ {
			m, ok := it.next()
			if !ok {
				return Value{}
			}
			if j == want {
				return rawValue(m)
			}
		}
	}
	return errVal(errIndex, "a JSON key must be a string or a number", n.pos)
}

func (e *evaluator) call(n *node) Value {
	fd := n.fn
	k := n.kids
	switch fd.id {
	case fnNot:
		v := e.eval(k[0])
		if v.kind == KindError {
			return v
		}
		return Bool(!v.Truth())
	case fnIf:
		c := e.eval(k[0])
		if c.kind == KindError {
			return c
		}
		if c.Truth() {
			return e.eval(k[1])
		}
		return e.eval(k[2])
	case fnError:
		return errVal(errUser, "", n.pos)
	case fnExists:
		if k[0].op == opField {
			_, ok := e.field(k[0])
			return Bool(ok)
		}
		name := e.eval(k[0])
		if name.kind == KindError {
			return name
		}
		if name.kind != KindString {
			return errVal(errArgs, fd.name, n.pos)
		}
		_, ok := e.lookupName(name.str)
		return Bool(ok)
	case fnJSON:
		v := e.eval(k[0])
		if len(k) == 1 {
			if v.kind == KindString && !e.fast(len(v.str)) {
				return overBudget
			}
			if v.kind == KindString {
				if s, ok := asJSON(v); ok {
					return JSON(s)
				}
				if _, ok := parseNumber(v.str); ok || v.str == "true" || v.str == "false" || v.str == "null" {
					return rawValue(strings.TrimSpace(v.str))
				}
			}
			return v
		}
		return e.jsonIndex(n, v, e.eval(k[1]))
	case fnMetadata:
		name := e.eval(k[0])
		if name.kind == KindError {
			return name
		}
		if name.kind != KindString {
			return errVal(errArgs, fd.name, n.pos)
		}
		if e.env == nil || e.env.Metadata == nil {
			return Value{}
		}
		if v, ok := e.env.Metadata.Lookup(name.str); ok {
			return v
		}
		return Value{}
	case fnToNumber:
		v := e.eval(k[0])
		if v.kind == KindString && !e.fast(len(v.str)) {
			return overBudget
		}
		switch v.kind {
		case KindNumber, KindNull, KindError:
			return v
		case KindBool:
			return Number(v.num)
		case KindString:
			if f, ok := parseNumber(v.str); ok {
				return Number(f)
			}
		}
		return errVal(errArgs, fd.name, n.pos)
	case fnToBoolean:
		v := e.eval(k[0])
		if v.kind == KindString && !e.fast(len(v.str)) {
			return overBudget
		}
		switch v.kind {
		case KindBool, KindError:
			return v
		case KindNumber:
			return Bool(v.num != 0 && !math.IsNaN(v.num))
		case KindNull:
			return Bool(false)
		case KindString:
			switch s := strings.TrimSpace(v.str); s {
			case "", "false":
				return Bool(false)
			case "true":
				return Bool(true)
			default:
				if f, ok := parseNumber(s); ok {
					return Bool(f != 0)
				}
				return Bool(true)
			}
		}
		return errVal(errArgs, fd.name, n.pos)
	case fnToString:
		v := e.eval(k[0])
		switch v.kind {
		case KindString, KindError:
			return v
		case KindJSON:
			return String(v.str)
		case KindNull:
			return String("null")
		case KindBool:
			return String(strconv.FormatBool(v.num != 0))
		}
		return String(string(appendLiteral(nil, v)))
	case fnIsNull, fnIsNumber, fnIsString, fnIsBoolean, fnIsJSON:
		v := e.eval(k[0])
		if v.kind == KindError {
			return v
		}
		want := [...]Kind{fnIsNull: KindNull, fnIsNumber: KindNumber, fnIsString: KindString, fnIsBoolean: KindBool, fnIsJSON: KindJSON}
		return Bool(v.kind == want[fd.id])
	case fnNow:
		return Number(e.now())
	case fnMonth, fnDay, fnHour, fnMinute:
		var f float64
		if len(k) == 0 {
			f = e.now()
		} else {
			v := e.eval(k[0])
			switch v.kind {
			case KindNull, KindError:
				return v
			case KindNumber:
				f = v.num
			default:
				return errVal(errArgs, fd.name, n.pos)
			}
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return errVal(errArgs, fd.name, n.pos)
		}
		sec, frac := math.Modf(f)
		t := time.Unix(int64(sec), int64(frac*1e9)).In(e.location())
		switch fd.id {
		case fnMonth:
			return Number(float64(t.Month()))
		case fnDay:
			return Number(float64(t.Day()))
		case fnHour:
			return Number(float64(t.Hour()))
		}
		return Number(float64(t.Minute()))
	case fnDistance:
		var a [4]float64
		for i := range a {
			v := e.eval(k[i])
			switch v.kind {
			case KindError, KindNull:
				return v
			case KindNumber:
				a[i] = v.num
			default:
				return errVal(errArgs, fd.name, n.pos)
			}
		}
		return Number(haversineKm(a[0], a[1], a[2], a[3]))
	case fnAbs, fnFloor, fnCeil, fnSqrt, fnRound:
		v := e.eval(k[0])
		switch v.kind {
		case KindError, KindNull:
			return v
		case KindNumber:
		default:
			return errVal(errArgs, fd.name, n.pos)
		}
		switch fd.id {
		case fnAbs:
			return Number(math.Abs(v.num))
		case fnFloor:
			return Number(math.Floor(v.num))
		case fnCeil:
			return Number(math.Ceil(v.num))
		case fnSqrt:
			if v.num < 0 {
				return errVal(errArgs, fd.name, n.pos)
			}
			return Number(math.Sqrt(v.num))
		}
		if len(k) == 1 {
			return Number(math.Round(v.num))
		}
		d := e.eval(k[1])
		if d.kind == KindError {
			return d
		}
		if d.kind != KindNumber || d.num < -15 || d.num > 15 {
			return errVal(errArgs, fd.name, n.pos)
		}
		p := math.Pow(10, math.Trunc(d.num))
		return Number(math.Round(v.num*p) / p)
	case fnPow:
		a, b := e.eval(k[0]), e.eval(k[1])
		if a.kind == KindError {
			return a
		}
		if b.kind == KindError {
			return b
		}
		if a.kind == KindNull || b.kind == KindNull {
			return Value{}
		}
		if a.kind != KindNumber || b.kind != KindNumber {
			return errVal(errArgs, fd.name, n.pos)
		}
		return Number(math.Pow(a.num, b.num))
	case fnMin, fnMax:
		var best Value
		for i, kn := range k {
			v := e.eval(kn)
			if v.kind == KindError {
				return v
			}
			if v.kind != KindNumber {
				return errVal(errArgs, fd.name, n.pos)
			}
			if i == 0 || fd.id == fnMin && v.num < best.num || fd.id == fnMax && v.num > best.num {
				best = v
			}
		}
		return best
	case fnCustom:
		args := make([]Value, len(k))
		for i, kn := range k {
			args[i] = e.eval(kn)
			if args[i].kind == KindError {
				return args[i]
			}
		}
		v := fd.custom.Call(e.env, args)
		if v.kind == KindError && v.pos == 0 {
			v.pos = n.pos
		}
		return v
	}
	return errVal(errArgs, fd.name, n.pos)
}

func (e *evaluator) now() float64 {
	var t time.Time
	if e.env != nil {
		t = e.env.Now
	}
	if t.IsZero() {
		t = time.Now()
	}
	return float64(t.UnixNano()) / 1e9
}

func (e *evaluator) location() *time.Location {
	if e.env != nil && e.env.Location != nil {
		return e.env.Location
	}
	return time.UTC
}

// haversineKm is the great-circle distance on a sphere of the Earth's mean
// radius.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
