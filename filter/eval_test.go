package filter

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

var evalDoc = []byte(`{"n":10,"f":2.5,"z":0,"t":true,"no":false,"nil":null,"s":"abc","num":"42","e":"",` +
	`"obj":{"a":1,"b":"x","c":{"d":[5,6]}},"arr":[10,"y",true,null,{"k":1}],"esc\u002ekey":7,"uni":"caf\u00e9",` +
	`"position.speed":72,"ts":1490347944}`)

func TestEvalSemantics(t *testing.T) {
	env := &Env{Now: time.Unix(1700000000, 500e6), Location: time.UTC}
	for _, c := range []struct {
		in   string
		want any // bool, float64, string, nil, "error:<reason part>", "json:<raw>"
	}{
		// numbers and casts in comparisons
		{"n == 10", true},
		{"9007199254740993 == 9007199254740992", true},
		{"t == 1", true},
		{"no == 0", true},
		{"$missing == 0", true},
		{"nil < 1", true},
		{"num == 42", true},
		{"num > 41.5", true},
		{"s == 1", "error:incompatible types in '=='"},
		{"obj == 1", "error:incompatible types"},
		{"0x1F + 0XA", 41.0},
		{".5 + 1e1", 10.5},
		// strings
		{`s == "abc"`, true},
		{`s == "a*"`, true},
		{`s == "a?c"`, true},
		{`s == "a?"`, false},
		{`s != "x*"`, true},
		{`"a*" == s`, true},
		{`s < "abd"`, true},
		{`e == ""`, true},
		{`uni == "caf?"`, true},
		{`esc.key`, 7.0},
		// arithmetic
		{"n + f * 2", 15.0},
		{"n % 3", 1.0},
		{"-n", -10.0},
		{"n / 0", "error:division by zero"},
		{"n % 0", "error:division by zero"},
		{`10 + "abc"`, "error:incompatible types in '+'"},
		{"true + 5", "error:incompatible types in '+'"},
		{"$missing + 1", nil},
		{"-$missing", nil},
		{"-s", "error:incompatible types in '-'"},
		// bitwise
		{"n & 2", 2.0},
		{"n | 5", 15.0},
		{"n ^ 3", 9.0},
		{"1 << 4", 16.0},
		{"-16 >> 2", -4.0},
		{"1 << 64", 0.0},
		{"~0", -1.0},
		{"t | no", "error:incompatible types in '|'"},
		// logic and truthiness
		{"n && t", true},
		{"z || no", false},
		{"s && t", false},
		{"no && missing", false},
		{"t || missing", true},
		{"missing || t", "error:parameter 'missing' not found"},
		{"not(z)", true},
		{"not(s)", true},
		{"not(missing)", "error:parameter 'missing' not found"},
		{`if(n > 5, "big", error())`, "big"},
		{`if(z, error(), "lazy")`, "lazy"},
		{"error()", "error:error() called"},
		// functions
		{"abs(-3)", 3.0},
		{"abs($missing)", nil},
		{"abs(s)", "error:bad arguments to abs()"},
		{"exists('n')", true},
		{"exists(n)", true},
		{"exists('missing')", false},
		{`exists("n" )`, true},
		{"tonumber('12.5')", 12.5},
		{"tonumber(t)", 1.0},
		{"tonumber('0x10')", 16.0},
		{"tonumber('abc')", "error:bad arguments to tonumber()"},
		{"tonumber('inf')", "error:bad arguments to tonumber()"},
		{"toboolean('false')", false},
		{"tobool(2)", true},
		{"toboolean('')", false},
		{"tostring(2.5)", "2.5"},
		{"tostring(t)", "true"},
		{"tostring(obj)", `{"a":1,"b":"x","c":{"d":[5,6]}}`},
		{"isnull($missing)", true},
		{"isnumber(num)", false},
		{"isstring(num)", true},
		{"isboolean(no)", true},
		{"isjson(arr)", true},
		{"isjson(s)", false},
		{"json('obj', 'b')", "x"},
		{"json('obj', 2)", `json:{"d":[5,6]}`},
		{"json(obj, 'c')['d'][1]", 6.0},
		{"arr[1]", "y"},
		{"arr[4]['k']", 1.0},
		{"arr[9]", nil},
		{"arr[-1]", nil},
		{"json('obj', 'zz')", nil},
		{"json('missing', 0)", nil},
		{"json(s, 0)", "error:cannot index a string"},
		{"json('{\"q\":3}', 'q')", nil}, // a string literal first argument names a parameter
		{"json(tostring(obj), 'a')", 1.0},
		{"month(ts)", 3.0},
		{"day(ts)", 24.0},
		{"hour(ts)", 9.0},
		{"minute(ts)", 32.0},
		{"hour()", 22.0},
		{"now()", 1700000000.5},
		{"round(2.5)", 3.0},
		{"round(-2.5)", -3.0},
		{"round(3.14159, 2)", 3.14},
		{"floor(-1.5)", -2.0},
		{"ceil(1.2)", 2.0},
		{"min(3, 1, 2)", 1.0},
		{"max(3, 1, 2)", 3.0},
		{"min(3, s)", "error:bad arguments to min()"},
		{"sqrt(16)", 4.0},
		{"sqrt(-1)", "error:bad arguments to sqrt()"},
		{"pow(2, 10)", 1024.0},
		{"round(distance(54.687157, 25.279652, 54.898521, 23.903597))", 91.0},
		{"position.speed > 60", true},
		{"missing", "error:parameter 'missing' not found"},
		{"$missing", nil},
		{"obj", `json:{"a":1,"b":"x","c":{"d":[5,6]}}`},
	} {
		x, err := Compile(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		for _, mode := range []string{"json", "object", "source"} {
			var got Value
			switch mode {
			case "json":
				got = x.EvalJSON(evalDoc, env)
			case "object":
				got = x.EvalObject(evalDoc, env)
			default:
				got = x.Eval(JSONSource(evalDoc), env)
			}
			checkValue(t, c.in+" ["+mode+"]", got, c.want)
			// Match agrees with Eval in a boolean context.
			if m := x.MatchJSON(evalDoc, env); mode == "json" && m != got.Truth() {
				t.Errorf("%s: Match %v, Eval %v", c.in, m, got)
			}
		}
	}
}

func checkValue(t *testing.T, name string, got Value, want any) {
	t.Helper()
	switch w := want.(type) {
	case bool:
		if b, ok := got.Bool(); !ok || b != w {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	case float64:
		if f, ok := got.Float(); !ok || f != w && !(math.IsNaN(f) && math.IsNaN(w)) {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	case nil:
		if !got.IsNull() {
			t.Errorf("%s = %v, want null", name, got)
		}
	case string:
		switch {
		case strings.HasPrefix(w, "error:"):
			if err := got.Err(); err == nil || !strings.Contains(err.Error(), w[6:]) {
				t.Errorf("%s = %v, want error %q", name, got, w[6:])
			}
		case strings.HasPrefix(w, "json:"):
			if r, ok := got.Raw(); !ok || r != w[5:] {
				t.Errorf("%s = %v, want JSON %s", name, got, w[5:])
			}
		default:
			if s, ok := got.Str(); !ok || s != w {
				t.Errorf("%s = %v, want %q", name, got, w)
			}
		}
	}
}

func TestEvalObjectPaths(t *testing.T) {
	dev := []byte(`{"id":7,"name":"car","configuration":{"ident":"352625066004561","settings":{"a.b":3}},` +
		`"telemetry":{"position.speed":{"value":55,"ts":1}},"groups":[{"id":1},{"id":2}],"metadata":{"fleet_id":10}}`)
	for _, c := range []struct {
		in   string
		want any
	}{
		{"configuration.ident == '3526*'", true},
		{"configuration.settings.a.b", 3.0},
		{"telemetry.position.speed.value", 55.0},
		{"groups.1.id", 2.0},
		{"metadata.fleet_id == 10", true},
		{"$configuration.missing", nil},
		{"configuration.ident.x", "error:not found"},
	} {
		checkValue(t, c.in, MustCompile(c.in).EvalObject(dev, nil), c.want)
		checkValue(t, c.in+" [source]", MustCompile(c.in).Eval(ObjectSource(dev), nil), c.want)
	}
	// Over a message the same name is a flat key.
	if v := MustCompile("configuration.ident").EvalJSON(dev, nil); !v.IsError() {
		t.Errorf("flat lookup of a nested path = %v", v)
	}
}

func TestEvalMessage(t *testing.T) {
	var m protocol.Message
	m.SetString("ident", "352625066004561")
	m.SetInt("position.speed", 72)
	m.SetBool("engine.ignition.status", true)
	m.Set("sensors", protocol.RawJSON(`[1,2]`))
	x := MustCompile(`position.speed > 60 && engine.ignition.status && ident == "3526*" && sensors[1] == 2`)
	if !x.MatchMessage(&m, nil) {
		t.Errorf("%s did not match %s", x, m.String())
	}
	m.SetInt("position.speed", 50)
	if x.MatchMessage(&m, nil) {
		t.Error("matched a slow message")
	}
	if v := MustCompile("ident").EvalMessage(&m, nil); v.String() != `"352625066004561"` {
		t.Errorf("ident = %v", v)
	}
}

func TestCustomFunctionsAndMetadata(t *testing.T) {
	prev := Func{
		Name: "previous", Usage: "previous(name)", Description: "value in the previous message", MinArgs: 1, MaxArgs: 1,
		Call: func(env *Env, args []Value) Value {
			s, ok := args[0].Str()
			if !ok {
				return Errorf("previous() wants a name")
			}
			if p, ok := env.Data.(Source); ok {
				if v, ok := p.Lookup(s); ok {
					return v
				}
			}
			return Null()
		},
	}
	cfg := &Config{Funcs: []Func{prev}}
	x, err := cfg.Compile(`position.speed - previous("position.speed") > 10 && metadata("units") == "imperial"`)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Data: JSONSource(`{"position.speed":50}`), Metadata: ObjectSource(`{"units":"imperial"}`)}
	if !x.MatchJSON([]byte(`{"position.speed":72}`), env) {
		t.Error("no match")
	}
	if v := MustCompile(`metadata("units")`).Eval(nil, nil); !v.IsNull() {
		t.Errorf("metadata without Env = %v", v)
	}
	if _, err := Compile(`previous("x")`); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("previous without Funcs: %v", err)
	}
	for _, bad := range []Func{{Name: "abs", Call: prev.Call}, {Name: "x"}, {Call: prev.Call}, {Name: "y", MinArgs: 2, MaxArgs: 1, Call: prev.Call}} {
		if _, err := (&Config{Funcs: []Func{bad}}).Compile("1"); !errors.Is(err, ErrBadFunc) {
			t.Errorf("%+v accepted: %v", bad.Name, err)
		}
	}
	cat := Catalogue(prev)
	names := map[string]FuncInfo{}
	for _, f := range cat {
		names[f.Name] = f
	}
	for _, n := range strings.Fields("not if error abs exists json metadata tonumber toboolean tobool tostring isnull isnumber isstring isboolean isjson month day hour minute now distance round floor ceil min max sqrt pow previous") {
		if _, ok := names[n]; !ok {
			t.Errorf("catalogue lacks %s", n)
		}
	}
	b, _ := json.Marshal(names["if"])
	if string(b) != `{"name":"if","usage":"if(cond, then, else)","description":"then when cond is true, else otherwise; only the chosen branch is evaluated","arguments":{"min":3,"max":3}}` {
		t.Errorf("catalogue entry %s", b)
	}
}

func TestTimeZone(t *testing.T) {
	loc := time.FixedZone("UTC+3", 3*3600)
	x := MustCompile("hour(begin)")
	got := x.EvalJSON([]byte(`{"begin":1490347944}`), &Env{Location: loc})
	if f, _ := got.Float(); f != 12 {
		t.Errorf("hour in UTC+3 = %v", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	x := MustCompile(`position.speed>60 && engine.ignition.status==true && device.name=="car*"`)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if !x.MatchJSON(benchMessage, nil) || x.String() == "" {
					t.Error("concurrent evaluation failed")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestZeroAllocs(t *testing.T) {
	x := MustCompile(`position.speed>60 && engine.ignition.status==true && device.name=="car*"`)
	if n := testing.AllocsPerRun(100, func() { x.MatchJSON(benchMessage, nil) }); n != 0 {
		t.Errorf("MatchJSON allocates %v times", n)
	}
	y := MustCompile(canonical)
	env := &structEnv{Origin: "MOW", Country: "RU", Value: 100, Adults: 1}
	if n := testing.AllocsPerRun(100, func() { y.Match(env, nil) }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

func TestMalformedJSON(t *testing.T) {
	x := MustCompile(`$a == 1 || $b == "x" || $c`)
	for _, d := range []string{"", "{", `{"a"`, `{"a":`, `{"a":1`, `{"a":"x`, `[1,2]`, `{"a":{"b":[}`, `{"b":"x\"`, `{"a" 1}`, "null", `{"c":[1,2`, `{"a":-}`} {
		x.EvalJSON([]byte(d), nil)
		x.EvalObject([]byte(d), nil)
	}
	if !x.MatchJSON([]byte(`{ "a" : 1 }`), nil) {
		t.Error("spaced JSON not matched")
	}
	if !x.MatchJSON([]byte("{\n\t\"z\": [1, {\"a\": 2}],\n\t\"b\": \"x\"\n}"), nil) {
		t.Error("pretty JSON not matched")
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"FM?640", "FMB640", true}, {"FM?640", "FMC640", true}, {"FM?640", "FMM640", true}, {"FM?640", "FM640", false},
		{"86435*", "864350012345678", true}, {"86435*", "86436", false},
		{"*important*", "very important project", true}, {"*important*", "trivial", false},
		{"12*45", "123456789012345", true}, {"*", "", true}, {"?", "", false}, {"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false}, {"*a", "bba", true}, {"?é", "xé", true}, {"", "", true}, {"**", "x", true},
	} {
		if got := Glob(c.p, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v", c.p, c.s, got)
		}
		if got := compilePattern(c.p).Match(c.s); got != c.want {
			t.Errorf("pattern(%q).match(%q) = %v", c.p, c.s, got)
		}
	}
}
