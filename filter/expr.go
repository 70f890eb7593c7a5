package filter

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Config controls compilation. The zero Config compiles flespi's expression
// syntax with the built-in functions and default [Limits].
type Config struct {
	// LooseEquals accepts a single "=" as "==", as flespi's REST filters,
	// selectors and $filter topics do. String() always prints "==".
	LooseEquals bool
	// Funcs are added to the built-in functions; a name may not repeat a
	// built-in.
	Funcs []Func
	// Limits bound the input; zero fields take their defaults.
	Limits Limits
}

// Env is the context of an evaluation batch (one REST call, one delivered
// message, one stream batch). A nil *Env means: now() reads the system clock
// at each call, dates are in UTC, and there is no metadata.
//
// Build one Env per batch so that now() is the same for every item in it.
type Env struct {
	// Now is the value of now(); the zero time means time.Now() per call.
	Now time.Time
	// Location is the time zone of month(), day(), hour() and minute();
	// nil means UTC.
	Location *time.Location
	// Metadata answers metadata("name"); nil means every name is absent.
	// ObjectSource(itemMetadataJSON) resolves nested names.
	Metadata Source
	// Data is for custom functions (e.g. the previous message for
	// previous("p")); the package never reads it.
	Data any
}

// Source supplies parameter values by name. Lookup must be safe for
// concurrent use if the same Source is evaluated concurrently, and the
// returned value must stay valid until the evaluation ends.
type Source interface {
	Lookup(name string) (Value, bool)
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(name string) (Value, bool)

// Lookup calls f.
func (f SourceFunc) Lookup(name string) (Value, bool) { return f(name) }

// Expr is a compiled expression. It is immutable and safe for concurrent
// use; compile once, evaluate many times.
type Expr struct {
	ast    *node // as parsed, for String
	prog   *node // folded and resolved, for evaluation
	fields []string
	canon  string
	// lenMask, keyMask: see jsonSource.
	lenMask uint64
	keys    keyFilter
	steps   []step // jump list for boolean contexts; nil: use the tree
	// maxSteps is the budget of one evaluation (Limits.MaxSteps).
	maxSteps int
}

// Compile compiles an expression in flespi's syntax ("==" for equality).
func Compile(expr string) (*Expr, error) { return (&Config{}).Compile(expr) }

// CompileFilter compiles an expression for a boolean context — a REST
// filter, a selector or a $filter topic — where a single "=" also means "==".
func CompileFilter(expr string) (*Expr, error) { return (&Config{LooseEquals: true}).Compile(expr) }

// MustCompile is Compile that panics on error; for expressions in source code.
func MustCompile(expr string) *Expr {
	x, err := Compile(expr)
	if err != nil {
		panic("filter: MustCompile(" + expr + "): " + err.Error())
	}
	return x
}

// Compile compiles expr with c's settings. A nil *Config is the zero Config.
func (c *Config) Compile(expr string) (*Expr, error) {
	if c == nil {
		c = &Config{}
	}
	var ft *funcTable
	if len(c.Funcs) > 0 {
		var err error
		if ft, err = newFuncTable(c.Funcs); err != nil {
			return nil, err
		}
	}
	ast, err := parse(expr, c.LooseEquals, c.Limits, ft)
	if err != nil {
		return nil, err
	}
	x := &Expr{ast: ast, maxSteps: c.Limits.withDefaults().MaxSteps}
	var a nodeArena
	x.prog = x.compile(ast, &a)
	x.buildSteps()
	x.lenMask, x.keys = fieldMasks(x.fields)
	x.canon = string(appendNode(make([]byte, 0, len(expr)+16), ast, 0, false))
	return x, nil
}

// String returns the canonical form of the expression: compiling it again
// gives an equal expression.
func (x *Expr) String() string { return x.canon }

// Fields returns the parameter names the expression reads directly, in order
// of first use. Names computed at run time (exists(x) with a non-literal x)
// are not included.
func (x *Expr) Fields() []string { return append([]string(nil), x.fields...) }

// Pinned returns the values the expression pins parameter name to: the
// literals of the comparisons name == literal (either way round) that
// must all hold for it to be true, being the whole expression or among
// its top-level && operands. Where it returns several, the expression
// can only be true when they are equal. It does not evaluate anything:
// a caller learns, say, which account a filter on "cid" asks for.
func (x *Expr) Pinned(name string) []Value {
	var out []Value
	var walk func(n *node)
	walk = func(n *node) {
		switch n.op {
		case opAnd:
			for _, k := range n.kids {
				walk(k)
			}
		case opEq:
			f, lit := n.kids[0], n.kids[1]
			if f.op == opLit {
				f, lit = lit, f
			}
			if f.op == opField && f.name == name && lit.op == opLit {
				out = append(out, lit.val)
			}
		}
	}
	walk(x.ast)
	return out
}

// Eval evaluates the expression over src. The result is an error value (see
// [Value.Err]) when evaluation fails; it never panics. An evaluation past
// its step budget ([Limits.MaxSteps]) is an error wrapping [ErrBudget].
func (x *Expr) Eval(src Source, env *Env) Value {
	if x == nil || x.prog == nil {
		return errVal(errFunc, "filter: Expr not compiled", 0)
	}
	e := evaluator{src: src, env: env, x: x, b: newBudget(x.maxSteps)}
	e.srcCost = sourceCost(src) // not in the literal: a call there builds it aside and copies it
	if v := e.eval(x.prog); !e.b.over {
		return v
	}
	return overBudget
}

// Match evaluates the expression in a boolean context: true only for a
// non-zero number or true; zero, false, null, strings and errors are false,
// and so is an evaluation past its step budget (see [Expr.Check]).
func (x *Expr) Match(src Source, env *Env) bool {
	ok, _ := x.Check(src, env, nil)
	return ok
}

// Check is Match spending b, a budget that may be shared by several
// evaluations making one decision; nil means a fresh budget of the
// expression's [Limits.MaxSteps]. The error is non-nil only when the budget
// ran out: it wraps [ErrBudget], and the result is false.
func (x *Expr) Check(src Source, env *Env, b *Budget) (bool, error) {
	if x == nil || x.prog == nil {
		return false, nil
	}
	e := evaluator{src: src, env: env, x: x}
	e.srcCost = sourceCost(src) // not in the literal: a call there builds it aside and copies it
	r := e.testBudget(b)
	return r, e.b.Err()
}

// maxSlots is how many distinct fields a raw-JSON evaluation caches on the
// stack; expressions with more fields look the rest up one by one.
const maxSlots = 8

// EvalJSON evaluates the expression over a JSON object given as raw bytes,
// such as a flespi message: a name is a flat key, dots included
// ("position.speed" is the member named "position.speed"). The object is not
// unmarshalled: one pass over it finds every field the expression needs, and
// the pass stops when all are found. A string or JSON result is copied, so it
// does not alias data.
func (x *Expr) EvalJSON(data []byte, env *Env) Value {
	return cloneValue(x.evalRaw(data, env, false))
}

// MatchJSON is EvalJSON in a boolean context. It does not allocate.
func (x *Expr) MatchJSON(data []byte, env *Env) bool {
	ok, _ := x.testRaw(data, env, false, nil)
	return ok
}

// CheckJSON is MatchJSON spending b, and reporting a budget that ran out
// (see [Expr.Check]).
func (x *Expr) CheckJSON(data []byte, env *Env, b *Budget) (bool, error) {
	return x.testRaw(data, env, false, b)
}

// EvalObject evaluates over a JSON object given as raw bytes, such as a REST
// item, where a dotted name is a path: "configuration.ident" is the member
// ident of the member configuration. A member may itself be named with dots,
// so "telemetry.position.speed" also reaches {"telemetry":{"position.speed":…}}
// (members are tried in document order, the first that resolves wins); a
// number segment indexes an array.
func (x *Expr) EvalObject(data []byte, env *Env) Value {
	return cloneValue(x.evalRaw(data, env, true))
}

// MatchObject is EvalObject in a boolean context.
func (x *Expr) MatchObject(data []byte, env *Env) bool {
	ok, _ := x.testRaw(data, env, true, nil)
	return ok
}

// CheckObject is MatchObject spending b, and reporting a budget that ran
// out (see [Expr.Check]).
func (x *Expr) CheckObject(data []byte, env *Env, b *Budget) (bool, error) {
	return x.testRaw(data, env, true, b)
}

func (x *Expr) evalRaw(data []byte, env *Env, nested bool) Value {
	if x == nil || x.prog == nil {
		return errVal(errFunc, "filter: Expr not compiled", 0)
	}
	// The slots live inside the evaluator, on this stack frame: escape
	// analysis is not field-sensitive, so a pointer to a separate array would
	// leak along with the Source and Env the evaluator also holds.
	e := evaluator{env: env, x: x, raw: true, b: newBudget(x.maxSteps)}
	e.js.data = bytesString(data)
	e.js.nested = nested
	e.js.n = min(len(x.fields), maxSlots)
	e.js.names = x.fields
	e.js.lenMask, e.js.keys = x.lenMask, x.keys
	if v := e.eval(x.prog); !e.b.over {
		return v
	}
	return overBudget
}

func (x *Expr) testRaw(data []byte, env *Env, nested bool, b *Budget) (bool, error) {
	if x == nil || x.prog == nil {
		return false, nil
	}
	e := evaluator{env: env, x: x, raw: true}
	e.js.data = bytesString(data)
	e.js.nested = nested
	e.js.n = min(len(x.fields), maxSlots)
	e.js.names = x.fields
	e.js.lenMask, e.js.keys = x.lenMask, x.keys
	r := e.testBudget(b)
	return r, e.b.Err()
}

// EvalMessage evaluates over a decoded message (flat parameter names).
func (x *Expr) EvalMessage(m *protocol.Message, env *Env) Value {
	return x.Eval(MessageSource{m}, env)
}

// MatchMessage is EvalMessage in a boolean context.
func (x *Expr) MatchMessage(m *protocol.Message, env *Env) bool {
	return x.Match(MessageSource{m}, env)
}

func cloneValue(v Value) Value {
	if v.kind == KindString || v.kind == KindJSON {
		v.str = strings.Clone(v.str)
	}
	return v
}

// MessageSource is a [protocol.Message] as a Source.
type MessageSource struct{ M *protocol.Message }

// Lookup returns the parameter's value; integers become float64.
func (s MessageSource) Lookup(name string) (Value, bool) {
	if s.M == nil {
		return Value{}, false
	}
	pv, ok := s.M.Lookup(name)
	if !ok {
		return Value{}, false
	}
	return FromProtocol(pv), true
}

// FromProtocol converts a message parameter value.
func FromProtocol(pv protocol.Value) Value {
	switch pv.Kind() {
	case protocol.KindBool:
		b, _ := pv.Bool()
		return Bool(b)
	case protocol.KindInt, protocol.KindUint, protocol.KindFloat:
		f, _ := pv.Float()
		return Number(f)
	case protocol.KindString:
		s, _ := pv.Str()
		return String(s)
	case protocol.KindJSON:
		s, _ := pv.JSON()
		return JSON(s)
	}
	return Null()
}

// MapSource is a map of values as a Source.
type MapSource map[string]Value

// Lookup returns m[name].
func (m MapSource) Lookup(name string) (Value, bool) {
	v, ok := m[name]
	return v, ok
}

// JSONSource is a raw JSON object with flat member names (like EvalJSON) as
// a Source, for Eval with custom sources and for Env.Metadata.
type JSONSource []byte

// Lookup returns the member named name.
func (s JSONSource) Lookup(name string) (Value, bool) {
	raw, ok := lookupFlat(bytesString(s), name)
	if !ok {
		return Value{}, false
	}
	return cloneValue(rawValue(raw)), true
}

// ObjectSource is a raw JSON object with dotted paths (like EvalObject) as a
// Source.
type ObjectSource []byte

// Lookup resolves name as a path.
func (s ObjectSource) Lookup(name string) (Value, bool) {
	raw, ok := lookupPath(bytesString(s), name)
	if !ok {
		return Value{}, false
	}
	return cloneValue(rawValue(raw)), true
}

// jsonSource is the per-evaluation state over raw JSON. It lives on the
// evaluating goroutine's stack.
type jsonSource struct {
	data    string
	nested  bool
	filled  bool            // flat mode: the single pass has run
	done    uint32          // nested mode: bit i set when slot i is resolved
	n       int             // slots in use
	slots   [maxSlots]Value // slot i holds field i; kind error+errMissing when absent
	names   []string        // the expression's fields
	lenMask uint64          // bit n set when a field is n bytes long (bit 63: 63 or more)
	keys    keyFilter       // the fields, for fillPlain
}

var missing = Value{kind: KindError, code: errMissing}

// slot returns field i's value; ok is false when the member is absent.
func (j *jsonSource) slot(i int, name string) (Value, bool) {
	if i >= j.n {
		return j.lookup(name)
	}
	if j.nested {
		if j.done&(1<<i) == 0 {
			j.done |= 1 << i
			if raw, ok := lookupPath(j.data, name); ok {
				j.slots[i] = rawValue(raw)
			} else {
				j.slots[i] = missing
			}
		}
	} else if !j.filled {
		j.fill()
	}
	v := j.slots[i]
	if v.kind == KindError && v.code == errMissing {
		return Value{}, false
	}
	return v, true
}

// fill makes the one pass over a flat object. It is the hot loop of
// filtering raw messages, so it is written for speed: keys that are no
// field are rejected before any comparison, values are parsed only when
// wanted, and the pass stops as soon as every field is found. fillPlain
// reads bit masks of the document instead of its bytes while it holds no
// backslash; from the first one on, fillCareful crosses strings and
// unwanted scalars eight bytes at a time (SWAR). Malformed input ends the
// pass early; it never panics.
func (j *jsonSource) fill() {
	j.filled = true
	for i := range j.n {
		j.slots[i] = missing
	}
	d := j.data
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return
	}
	i++
	switch {
	case j.n == 0:
	case len(d) <= 64:
		// One block: its masks would cost more than they save.
		j.fillCareful(d, i, j.n)
	default:
		j.fillPlain(d, i)
	}
}

// fillCareful is fill's loop for the part of a document after its first
// backslash, and for documents of one block: from a member boundary at d[i]
// with left fields to find, it reads the bytes, crossing strings and
// unwanted scalars eight bytes at a time (SWAR), and decodes escaped keys.
func (j *jsonSource) fillCareful(d string, i, left int) {
	mask := j.lenMask
	for left > 0 {
		// At a member: skip ',' and white space to the key's quote.
		for i < len(d) && d[i] != '"' {
			if c := d[i]; c != ',' && c > ' ' {
				return // '}' or garbage: the end
			}
			i++
		}
		ks := i + 1
		// The key's closing quote; a backslash sends us to the careful path.
		k := ks
		for k+8 <= len(d) {
			w := load64(d, k)
			if m := hasByte(w, '"') | hasByte(w, '\\'); m != 0 {
				k += bits.TrailingZeros64(m) >> 3
				break
			}
			k += 8
		}
		for k < len(d) && d[k] != '"' && d[k] != '\\' {
			k++
		}
		esc := false
		if k < len(d) && d[k] == '\\' {
			if k, esc = scanString(d, ks); k < 0 {
				return
			}
		}
		if k >= len(d) {
			return
		}
		key := d[ks:k]
		i = k + 1
		for i < len(d) && d[i] <= ' ' {
			i++
		}
		if i >= len(d) || d[i] != ':' {
			return
		}
		i++
		for i < len(d) && d[i] <= ' ' {
			i++
		}
		if i >= len(d) {
			return
		}
		wanted := esc || mask&(1<<min(len(key), 63)) != 0
		vs := i
		switch d[i] {
		case '"':
			if i, _ = scanString(d, i+1); i < 0 {
				return
			}
			i++
		case '{', '[':
			if i = skipContainer(d, i); i < 0 {
				return
			}
		default:
			if !wanted {
				// An unwanted scalar: jump straight to the next key's quote
				// (or the object's end), crossing the value and the comma.
				i = nextQuoteOrBrace(d, i)
				if i < 0 {
					return
				}
				continue
			}
			for i < len(d) && !scalarEnd[d[i]] {
				i++
			}
		}
		if !wanted {
			continue
		}
		if esc {
			key = unquote(key)
		}
		if j.put(key, d[vs:i]) {
			left--
		}
	}
}

// put stores the value of member key in the first unset slot of that name,
// and reports whether it did.
func (j *jsonSource) put(key, raw string) bool {
	for s := range j.n {
		if j.names[s] == key && j.slots[s].code == errMissing {
			setRawValue(&j.slots[s], raw)
			return true
		}
	}
	return false
}

// fillPlain is fill from just after the object's '{'. Where there is no
// backslash, every string ends at its next quote, so the pass reads bit
// masks of a few bytes' positions (see blockMasks) rather than the bytes.
//
// While the blocks hold no bracket, no backslash and no quote followed by
// white space, every '"' directly followed by ':' ends a key of the object,
// and the quote before it starts that key: the walk visits only those, and
// looks at a value only when its key is probably a field. From the first
// block that holds anything else, and the member after the last key
// visited, the pass hops between the positions of '"' and brackets instead
// (see plainScan.hop): a key is the text between two quotes, a string value
// likewise, and after an unwanted number or literal the next such position
// is the next key's quote or the object's end; separators after strings,
// containers and wanted scalars must be ',' or white space, as in
// fillCareful, which takes over if a backslash follows.
func (j *jsonSource) fillPlain(d string, i int) {
	s := plainScan{r: maskReader{d: d, start: -1}}
	keys := j.keys
	left := j.n
	kLast, qLast := -1, -1 // the last key end visited; the last quote seen
	for base := i &^ 63; ; base += 64 {
		off := base - s.r.start
		if uint(off) >= uint(s.r.nb)<<6 {
			if !s.r.load(base) {
				return
			}
			off = base - s.r.start
		}
		b := off >> 6 & (maskWindow - 1)
		q, kb, x := s.r.m.q[b], s.r.m.k[b], s.r.m.x[b]
		if base < i {
			below := uint64(1)<<(i-base) - 1 // the '{' and what precedes it
			q, kb, x = q&^below, kb&^below, x&^below
		}
		if x != 0 {
			break
		}
		for kb != 0 {
			k := base + bits.TrailingZeros64(kb)
			kb &= kb - 1
			p := qLast
			if before := q & (1<<(uint(k-base)&63) - 1); before != 0 {
				p = base + bits.Len64(before) - 1
			}
			kLast = k
			// Is the key (probably) a field? Hash its length and last
			// eight bytes; put compares exactly.
			if k >= 8 && p < k && !keys.has(k-p-1, keyWord(d, k, k-p-1)) {
				continue
			}
			if p < 0 || p >= k {
				return
			}
			v := skipSpace(d, k+2)
			end := skipValue(d, v)
			if end < 0 {
				return
			}
			if j.put(d[p+1:k], d[v:end]) {
				if left--; left == 0 {
					return
				}
			}
		}
		if q != 0 {
			qLast = base + bits.Len64(q) - 1
		}
	}
	// Hop from the member after the last key visited.
	s.end = i
	if kLast >= 0 {
		if s.end = skipValue(d, skipSpace(d, kLast+2)); s.end < 0 {
			return
		}
	}
	if strings.IndexByte(d[s.end:], '\\') >= 0 {
		j.fillCareful(d, s.end, left)
		return
	}
	s.seek(s.end)
	for {
		ks, ke, v, wanted := s.hop(d, keys)
		if ks < 0 {
			return
		}
		if v < 0 {
			// The careful way: a bracket inside the key, white space around
			// ':', or no ':'.
			if d[ke] != '"' {
				if ke = s.popQuote(); ke < 0 {
					return
				}
			}
			if v = skipSpace(d, ke+1); v >= len(d) || d[v] != ':' {
				return
			}
			if v = skipSpace(d, v+1); v >= len(d) {
				return
			}
			wanted = true // put compares exactly
		}
		var end int
		switch d[v] {
		case '"':
			s.pop() // the opening quote, at v: only ':' and space precede it
			e := s.popQuote()
			if e < 0 {
				return
			}
			end = e + 1
		case '{', '[':
			if end = skipContainer(d, v); end < 0 {
				return
			}
			s.seek(end)
		default:
			if !wanted {
				s.end = -1
				continue
			}
			end = v
			for end < len(d) && !scalarEnd[d[end]] {
				end++
			}
		}
		s.end = end
		if wanted && j.put(d[ks:ke], d[v:end]) {
			if left--; left == 0 {
				return
			}
		}
	}
}

// fieldMasks returns what lets the single pass skip keys that are no
// field: lenMask has bit min(len, 63) set for each name (for keys with
// escapes), keys holds their lengths and last eight bytes.
func fieldMasks(names []string) (lenMask uint64, keys keyFilter) {
	for _, f := range names {
		lenMask |= 1 << min(len(f), 63)
		var b [8]byte
		m := min(len(f), 8)
		copy(b[8-m:], f[len(f)-m:])
		keys.add(len(f), binary.LittleEndian.Uint64(b[:]))
	}
	return lenMask, keys
}

// keyFilter is a two-hash Bloom filter of 2×64 bits over a key's length
// and last eight bytes: with a few fields, about one key in 500 that is
// no field gets through (to an exact comparison), and the test has no
// branch, as key lengths vary unpredictably.
type keyFilter struct{ a, b uint64 }

func keyHashes(n int, w uint64) (uint64, uint64) {
	h := (w ^ uint64(n)) * 0x9e3779b97f4a7c15
	return h >> 58, h >> 52 & 63
}

func (f *keyFilter) add(n int, w uint64) {
	h1, h2 := keyHashes(n, w)
	f.a |= 1 << h1
	f.b |= 1 << h2
}

func (f keyFilter) has(n int, w uint64) bool {
	h1, h2 := keyHashes(n, w)
	return f.a>>(h1&63)&(f.b>>(h2&63))&1 != 0
}

// keyWord returns the last min(n, 8) bytes before d[k] (a key's last
// bytes: in dotted names they differ more than the first ones) in the top
// bytes of a little-endian word, the rest zero; the caller guarantees
// 8 <= k <= len(d).
func keyWord(d string, k, n int) uint64 {
	return load64(d, k-8) & suffixMask[min(uint(n), 8)]
}

// suffixMask[n] keeps the top n bytes of a word.
var suffixMask = [9]uint64{0, 0xff << 56, 0xffff << 48, 0xffffff << 40, 0xffffffff << 32, 0xffffffffff << 24, 0xffffffffffff << 16, 0xffffffffffffff << 8, ^uint64(0)}

// plainScan is fillPlain's position: the bits of the current 64-byte block
// not yet visited, and where the last value ended.
type plainScan struct {
	r    maskReader
	base int    // offset in d of bit 0 of cur
	cur  uint64 // quote and bracket positions not yet visited in this block
	end  int    // end of the last value, whose separator is unchecked; -1 none
}

// refill returns the next block with bits after base, or -1.
func (s *plainScan) refill(base int) (int, uint64) {
	for {
		base += 64
		m, ok := s.r.mask(base)
		if !ok {
			return -1, 0
		}
		if m != 0 {
			return base, m
		}
	}
}

// seek makes the next bit the first at or after pos.
func (s *plainScan) seek(pos int) {
	s.base = pos &^ 63
	m, _ := s.r.mask(s.base)
	s.cur = m &^ (1<<(pos-s.base) - 1)
}

// pop returns the next quote or bracket position, or -1.
func (s *plainScan) pop() int {
	if s.cur == 0 {
		if s.base, s.cur = s.refill(s.base); s.base < 0 {
			return -1
		}
	}
	p := s.base + bits.TrailingZeros64(s.cur)
	s.cur &= s.cur - 1
	return p
}

// popQuote returns the next '"' position, or -1.
func (s *plainScan) popQuote() int {
	for {
		p := s.pop()
		if p < 0 || s.r.d[p] == '"' {
			return p
		}
	}
}

// hop crosses the members whose keys are no field and returns the next
// member's key d[ks:ke] and the start of its value, v. It handles the
// compact common case itself ("key":value with a scalar or string value)
// and leaves the rest to fillPlain: v = -1 when the key holds a bracket
// (ke is then that bracket) or there is white space around ':' or none at all; ks = -1
// at the end of the object or of the data. Its loop has no inner loop and
// calls only to fetch the next block, so its state stays in registers.
func (s *plainScan) hop(d string, keys keyFilter) (ks, ke, v int, wanted bool) {
	base, cur, end := s.base, s.cur, s.end
	for {
		// The key's opening quote, or '}' (or garbage).
		if cur == 0 {
			if base, cur = s.refill(base); base < 0 {
				return -1, 0, 0, false
			}
		}
		p := base + bits.TrailingZeros64(cur)
		cur &= cur - 1
		if uint(p) >= uint(len(d)) || d[p] != '"' {
			return -1, 0, 0, false // '}' or the end of the data
		}
		if end >= 0 && (p != end+1 || d[end] != ',') && !separator(d, end, p) {
			return -1, 0, 0, false
		}
		// Its closing quote.
		if cur == 0 {
			if base, cur = s.refill(base); base < 0 {
				return -1, 0, 0, false
			}
		}
		k := base + bits.TrailingZeros64(cur)
		cur &= cur - 1
		v = k + 2
		if uint(v) >= uint(len(d)) || d[k] != '"' || d[k+1] != ':' || d[v] <= ' ' {
			s.base, s.cur = base, cur
			return p + 1, k, -1, true
		}
		// Is the key (probably) a field? Hash its length and last eight
		// bytes; put compares exactly.
		wanted = k < 8 || keys.has(k-p-1, keyWord(d, k, k-p-1))
		c := d[v]
		if wanted || c == '{' || c == '[' {
			s.base, s.cur = base, cur
			return p + 1, k, v, wanted
		}
		if c != '"' {
			end = -1 // an unwanted scalar: the next bit is the next key
			continue
		}
		// An unwanted string: its opening quote is the next bit (v), then
		// comes its closing quote.
		if cur == 0 {
			if base, cur = s.refill(base); base < 0 {
				return -1, 0, 0, false
			}
		}
		cur &= cur - 1
		if cur == 0 {
			if base, cur = s.refill(base); base < 0 {
				return -1, 0, 0, false
			}
		}
		e := base + bits.TrailingZeros64(cur)
		cur &= cur - 1
		if uint(e) >= uint(len(d)) {
			return -1, 0, 0, false
		}
		if d[e] != '"' {
			// A bracket inside the string.
			s.base, s.cur = base, cur
			if e = s.popQuote(); e < 0 {
				return -1, 0, 0, false
			}
			base, cur = s.base, s.cur
		}
		end = e + 1
	}
}

// separator reports whether d[from:to] holds only ',' and white space (and
// to >= from: a scalar may not hide a quote).
func separator(d string, from, to int) bool {
	if to == from+1 && d[from] == ',' {
		return true
	}
	if to < from {
		return false
	}
	for _, c := range []byte(d[from:to]) {
		if c != ',' && c > ' ' {
			return false
		}
	}
	return true
}

// nextQuote returns the index of the first '"' at or after i, or -1.
func nextQuote(d string, i int) int {
	for i+8 <= len(d) {
		if m := hasByte(load64(d, i), '"'); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for ; i < len(d); i++ {
		if d[i] == '"' {
			return i
		}
	}
	return -1
}

// nextQuoteOrBrace returns the index of the first '"' or '}' at or after i,
// or -1.
func nextQuoteOrBrace(d string, i int) int {
	for i+8 <= len(d) {
		if m := hasByte(load64(d, i), '"') | hasByte(load64(d, i), '}'); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for ; i < len(d); i++ {
		if d[i] == '"' || d[i] == '}' {
			return i
		}
	}
	return -1
}

// names is set by the evaluator: the expression's field list.
func (j *jsonSource) fieldName(i int) string { return j.names[i] }

func (j *jsonSource) lookup(name string) (Value, bool) {
	var raw string
	var ok bool
	if j.nested {
		raw, ok = lookupPath(j.data, name)
	} else {
		raw, ok = lookupFlat(j.data, name)
	}
	if !ok {
		return Value{}, false
	}
	return rawValue(raw), true
}
