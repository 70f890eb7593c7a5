package filter

import (
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
	x := &Expr{ast: ast}
	x.prog = x.compile(ast)
	x.canon = string(appendNode(nil, ast, 0, false))
	return x, nil
}

// String returns the canonical form of the expression: compiling it again
// gives an equal expression.
func (x *Expr) String() string { return x.canon }

// Fields returns the parameter names the expression reads directly, in order
// of first use. Names computed at run time (exists(x) with a non-literal x)
// are not included.
func (x *Expr) Fields() []string { return append([]string(nil), x.fields...) }

// Eval evaluates the expression over src. The result is an error value (see
// [Value.Err]) when evaluation fails; it never panics.
func (x *Expr) Eval(src Source, env *Env) Value {
	e := evaluator{src: src, env: env, x: x}
	return e.eval(x.prog)
}

// Match evaluates the expression in a boolean context: true only for a
// non-zero number or true; zero, false, null, strings and errors are false.
func (x *Expr) Match(src Source, env *Env) bool { return x.Eval(src, env).Truth() }

// maxSlots is how many distinct fields a raw-JSON evaluation caches on the
// stack; expressions with more fields look the rest up one by one.
const maxSlots = 16

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
func (x *Expr) MatchJSON(data []byte, env *Env) bool { return x.evalRaw(data, env, false).Truth() }

// EvalObject evaluates over a JSON object given as raw bytes, such as a REST
// item, where a dotted name is a path: "configuration.ident" is the member
// ident of the member configuration. A member whose own name contains the
// dots wins, so "telemetry.position.speed" also reaches
// {"telemetry":{"position.speed":…}}; a number segment indexes an array.
func (x *Expr) EvalObject(data []byte, env *Env) Value {
	return cloneValue(x.evalRaw(data, env, true))
}

// MatchObject is EvalObject in a boolean context.
func (x *Expr) MatchObject(data []byte, env *Env) bool { return x.evalRaw(data, env, true).Truth() }

func (x *Expr) evalRaw(data []byte, env *Env, nested bool) Value {
	var slots [maxSlots]Value
	js := jsonSource{data: bytesString(data), nested: nested}
	n := min(len(x.fields), maxSlots)
	js.slots = slots[:n]
	js.names = x.fields
	e := evaluator{js: &js, env: env, x: x}
	return e.eval(x.prog)
}

// EvalMessage evaluates over a decoded message (flat parameter names).
func (x *Expr) EvalMessage(m *protocol.Message, env *Env) Value {
	return x.Eval(MessageSource{m}, env)
}

// MatchMessage is EvalMessage in a boolean context.
func (x *Expr) MatchMessage(m *protocol.Message, env *Env) bool {
	return x.Eval(MessageSource{m}, env).Truth()
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
	data   string
	nested bool
	filled bool     // flat mode: the single pass has run
	done   uint32   // nested mode: bit i set when slot i is resolved
	slots  []Value  // slot i holds field i; kind error+errMissing when absent
	names  []string // the expression's fields
}

var missing = Value{kind: KindError, code: errMissing}

// slot returns field i's value; ok is false when the member is absent.
func (j *jsonSource) slot(i int, name string) (Value, bool) {
	if i >= len(j.slots) {
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

// fill makes the one pass over a flat object.
func (j *jsonSource) fill() {
	j.filled = true
	for i := range j.slots {
		j.slots[i] = missing
	}
	it, ok := newObjIter(j.data)
	if !ok {
		return
	}
	left := len(j.slots)
	for left > 0 {
		k, esc, v, ok := it.next()
		if !ok {
			return
		}
		if esc {
			k = unquote(k)
		}
		for i := range j.slots {
			if j.slots[i].kind == KindError && len(j.fieldName(i)) == len(k) && j.fieldName(i) == k {
				j.slots[i] = rawValue(v)
				left--
				break
			}
		}
	}
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
