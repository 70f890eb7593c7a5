package filter

import (
	"sort"
	"strconv"
)

// Func is a function the embedding program adds to the language, such as
// flespi's calculator functions previous("p") or mileage(). Give it in
// [Config.Funcs].
//
// Call receives the evaluated arguments (an argument that is an error makes
// the call return that error without running Call) and the [Env] of the
// evaluation, which may be nil. Call must be safe for concurrent use and must
// not retain args. A custom call allocates its argument slice; built-in
// functions never allocate.
type Func struct {
	Name        string
	Usage       string // e.g. "previous(name)"
	Description string
	MinArgs     int
	MaxArgs     int // -1: any number
	Call        func(env *Env, args []Value) Value
}

// FuncInfo describes one function, in the shape of flespi's function
// catalogue (name, usage, description, arguments{min,max}); Max is -1 for a
// variadic function.
type FuncInfo struct {
	Name        string  `json:"name"`
	Usage       string  `json:"usage"`
	Description string  `json:"description"`
	Arguments   ArgInfo `json:"arguments"`
}

// ArgInfo is the argument count range of a function.
type ArgInfo struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

type builtinID uint8

const (
	fnCustom builtinID = iota
	fnNot
	fnIf
	fnError
	fnAbs
	fnExists
	fnJSON
	fnMetadata
	fnToNumber
	fnToBoolean
	fnToString
	fnIsNull
	fnIsNumber
	fnIsString
	fnIsBoolean
	fnIsJSON
	fnMonth
	fnDay
	fnHour
	fnMinute
	fnNow
	fnDistance
	fnRound
	fnFloor
	fnCeil
	fnMin
	fnMax
	fnSqrt
	fnPow
)

type funcDef struct {
	name, usage, desc string
	id                builtinID
	min, max          int
	custom            *Func
}

func (f *funcDef) arity() string {
	switch {
	case f.min == f.max:
		if f.min == 1 {
			return "1 argument"
		}
		return strconv.Itoa(f.min) + " arguments"
	case f.max < 0:
		return "at least " + strconv.Itoa(f.min) + " arguments"
	}
	return strconv.Itoa(f.min) + " to " + strconv.Itoa(f.max) + " arguments"
}

// builtins is read-only after package initialisation.
var builtins = func() map[string]*funcDef {
	list := []funcDef{
		{"not", "not(x)", "true when x is zero, false or null (logical inversion)", fnNot, 1, 1, nil},
		{"if", "if(cond, then, else)", "then when cond is true, else otherwise; only the chosen branch is evaluated", fnIf, 3, 3, nil},
		{"error", "error()", "makes the expression fail (false in a boolean context)", fnError, 0, 0, nil},
		{"abs", "abs(x)", "absolute value; null stays null", fnAbs, 1, 1, nil},
		{"exists", "exists(name)", "whether the parameter is present", fnExists, 1, 1, nil},
		{"json", "json(value, key|index)", "member (by name, or by 0-based position in document order) or element of a JSON value; a string first argument names a parameter; null when absent", fnJSON, 1, 2, nil},
		{"metadata", "metadata(name)", "the item's metadata field (dotted names reach nested fields); null when absent", fnMetadata, 1, 1, nil},
		{"tonumber", "tonumber(x)", "x as a number: true 1, false 0, numeric strings parsed", fnToNumber, 1, 1, nil},
		{"toboolean", "toboolean(x)", "x as a boolean", fnToBoolean, 1, 1, nil},
		{"tobool", "tobool(x)", "same as toboolean(x)", fnToBoolean, 1, 1, nil},
		{"tostring", "tostring(x)", "x as a string (JSON text for objects and arrays)", fnToString, 1, 1, nil},
		{"isnull", "isnull(x)", "whether x is null", fnIsNull, 1, 1, nil},
		{"isnumber", "isnumber(x)", "whether x is a number", fnIsNumber, 1, 1, nil},
		{"isstring", "isstring(x)", "whether x is a string", fnIsString, 1, 1, nil},
		{"isboolean", "isboolean(x)", "whether x is a boolean", fnIsBoolean, 1, 1, nil},
		{"isjson", "isjson(x)", "whether x is a JSON object or array", fnIsJSON, 1, 1, nil},
		{"month", "month([time])", "month 1-12 of a Unix time (default now) in the evaluation time zone", fnMonth, 0, 1, nil},
		{"day", "day([time])", "day of month 1-31 of a Unix time (default now) in the evaluation time zone", fnDay, 0, 1, nil},
		{"hour", "hour([time])", "hour 0-23 of a Unix time (default now) in the evaluation time zone", fnHour, 0, 1, nil},
		{"minute", "minute([time])", "minute 0-59 of a Unix time (default now) in the evaluation time zone", fnMinute, 0, 1, nil},
		{"now", "now()", "current Unix time in seconds, fixed for one evaluation batch", fnNow, 0, 0, nil},
		{"distance", "distance(lat1, lon1, lat2, lon2)", "great-circle distance in kilometres", fnDistance, 4, 4, nil},
		{"round", "round(x[, digits])", "x rounded half away from zero, to digits decimals (default 0)", fnRound, 1, 2, nil},
		{"floor", "floor(x)", "largest integer not above x", fnFloor, 1, 1, nil},
		{"ceil", "ceil(x)", "smallest integer not below x", fnCeil, 1, 1, nil},
		{"min", "min(x, ...)", "smallest argument", fnMin, 1, -1, nil},
		{"max", "max(x, ...)", "largest argument", fnMax, 1, -1, nil},
		{"sqrt", "sqrt(x)", "square root; an error for negative x", fnSqrt, 1, 1, nil},
		{"pow", "pow(x, y)", "x to the power y", fnPow, 2, 2, nil},
	}
	m := make(map[string]*funcDef, len(list))
	for i := range list {
		m[list[i].name] = &list[i]
	}
	return m
}()

// funcTable resolves names: built-ins first, then the caller's functions.
type funcTable struct {
	custom []funcDef
}

func newFuncTable(fs []Func) (*funcTable, error) {
	t := &funcTable{}
	for i := range fs {
		f := &fs[i]
		if f.Name == "" || f.Call == nil || builtins[f.Name] != nil || (f.MaxArgs >= 0 && f.MaxArgs < f.MinArgs) || f.MinArgs < 0 {
			return nil, &funcError{name: f.Name}
		}
		for j := range t.custom {
			if t.custom[j].name == f.Name {
				return nil, &funcError{name: f.Name}
			}
		}
		t.custom = append(t.custom, funcDef{name: f.Name, usage: f.Usage, desc: f.Description, id: fnCustom, min: f.MinArgs, max: f.MaxArgs, custom: f})
	}
	return t, nil
}

type funcError struct{ name string }

func (e *funcError) Error() string {
	return "filter: bad function definition " + strconv.Quote(e.name) + " (empty name, nil Call, bad argument range, duplicate or a built-in's name)"
}
func (e *funcError) Unwrap() error { return ErrBadFunc }

func (t *funcTable) lookup(name string) *funcDef {
	if f := builtins[name]; f != nil {
		return f
	}
	if t == nil {
		return nil
	}
	for i := range t.custom {
		if t.custom[i].name == name {
			return &t.custom[i]
		}
	}
	return nil
}

// Catalogue lists the built-in functions and fs, sorted by name, in the shape
// of flespi's expression function catalogue.
func Catalogue(fs ...Func) []FuncInfo {
	out := make([]FuncInfo, 0, len(builtins)+len(fs))
	for _, f := range builtins {
		out = append(out, FuncInfo{Name: f.name, Usage: f.usage, Description: f.desc, Arguments: ArgInfo{f.min, f.max}})
	}
	for _, f := range fs {
		out = append(out, FuncInfo{Name: f.Name, Usage: f.Usage, Description: f.Description, Arguments: ArgInfo{f.MinArgs, f.MaxArgs}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
