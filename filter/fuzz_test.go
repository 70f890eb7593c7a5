package filter

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// FuzzCompile checks that no input panics the parser or the evaluator, and
// that the canonical form is a fixed point: compiling String() gives the same
// tree and the same String().
func FuzzCompile(f *testing.F) {
	for _, v := range loadVectors(f, "expression") {
		f.Add(v.Input)
	}
	for _, s := range []string{
		canonical, expr200, `json('key.s', 0)[1]`, `- -~x`, `"a\"b" == '*'`, `1e999 - 1e999`,
		`if(exists('a'), $a.b#1, min(1, 2, 3))`, `a = b`, `0x`, `.5e-3`,
	} {
		f.Add(s)
	}
	doc := []byte(`{"a":1,"b":"x*","speed":10,"key.s":{"key2":2},"arr":[1,"2",null]}`)
	f.Fuzz(func(t *testing.T, in string) {
		x, err := CompileFilter(in)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("%q: error %T %v is not a *SyntaxError", in, err, err)
			}
			return
		}
		canon := x.String()
		y, err := CompileFilter(canon)
		if err != nil {
			t.Fatalf("%q: canonical %q does not compile: %v", in, canon, err)
		}
		if y.String() != canon || paren(x.ast) != paren(y.ast) {
			t.Fatalf("%q: %q -> %q (%s vs %s)", in, canon, y.String(), paren(x.ast), paren(y.ast))
		}
		vx := x.EvalJSON(doc, nil)
		vy := y.EvalObject(doc, nil)
		if !vx.Equal(vy) && !strings.Contains(canon, "now") {
			// Flat and nested lookups agree on a document without dots in
			// nested keys, except for names that only one can reach.
			if !strings.Contains(canon, ".") {
				t.Fatalf("%q: EvalJSON %v, EvalObject %v", canon, vx, vy)
			}
		}
		_ = x.MatchJSON(doc, nil)
	})
}

// FuzzEvalJSON feeds arbitrary documents to the raw-JSON scanner.
func FuzzEvalJSON(f *testing.F) {
	f.Add([]byte(benchMessage))
	f.Add([]byte(evalDoc))
	f.Add([]byte(`{"a\"b":1,"c":[1,{"d":"}"}],"e":"\\"}`))
	f.Add([]byte(`{"a":`))
	xs := []*Expr{
		MustCompile(`position.speed>60 && engine.ignition.status==true && device.name=="car*"`),
		MustCompile(`$a == 1 || json($c, 0) == 1 || c.d[0] || exists('e')`),
	}
	// The same with a budget that runs out part way: every charge point
	// must give up cleanly.
	for _, src := range []string{`$a == "*x?y*" || json($c, 0) == 1 || c.d[0] || exists('e') || tonumber($e) > 1`, `$a != "*b?"`} {
		x, err := (&Config{Limits: Limits{MaxSteps: 40}}).Compile(src)
		if err != nil {
			f.Fatal(err)
		}
		xs = append(xs, x)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, x := range xs {
			x.EvalJSON(data, nil)
			x.EvalObject(data, nil)
			x.MatchJSON(data, nil)
		}
	})
}

// FuzzParseTopicFilter checks no panic and the String round trip.
func FuzzParseTopicFilter(f *testing.F) {
	for _, v := range loadVectors(f, "filter") {
		f.Add(v.Input)
	}
	f.Add("$share/g/$filter/cid=1&modified_since>2/$filter/payload=a%3D1/x/+/#")
	f.Fuzz(func(t *testing.T, in string) {
		tf, err := ParseTopicFilter(in)
		if err != nil {
			return
		}
		s := tf.String()
		g, err := ParseTopicFilter(s)
		if err != nil {
			t.Fatalf("%q -> %q: %v", in, s, err)
		}
		if g.String() != s || g.Share != tf.Share || g.Topic != tf.Topic {
			t.Fatalf("%q -> %q -> %q", in, s, g.String())
		}
		tf.Match(TopicMessage{Topic: "a/b", Payload: []byte(in), CID: 1, Timestamp: 2})
		tf.MatchTopic("a/b")
	})
}

// FuzzFillAgrees checks the optimised single pass (fill) against the plain
// member iterator (lookupFlat): on every valid JSON document both must find
// the same members with the same values. (On malformed input the two may
// stop at different places; FuzzEvalJSON checks that they never panic.)
func FuzzFillAgrees(f *testing.F) {
	f.Add([]byte(benchMessage))
	f.Add([]byte(evalDoc))
	f.Add([]byte(`{"a":1,"b":"x,\"y","c.d":[1,{"a":2}],"e":{"b":3},"a":9}`))
	f.Add([]byte(`{ "a" : 1 , "b":"\u0062" }`))
	// Longer than one 64-byte block, so that the mask walk runs: keys
	// straddling blocks, then a container, a spaced key and an escape.
	f.Add([]byte(`{"pad":"0123456789012345678901234567890123456789","x.y":1,"e":"v","c.d":2,` +
		`"q":[{"a":1}],"b" : "w","z":"\"","a":3}`))
	f.Add([]byte(`{"pad":"0123456789012345678901234567890123456789012345678901234","a":"}","b":1}`))
	names := []string{"a", "b", "c.d", "e", "esc.key"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var js jsonSource
		js.data = string(data)
		js.names = names
		js.n = len(names)
		js.lenMask, js.keys = fieldMasks(names)
		js.fill()
		for i, n := range names {
			raw, ok := lookupFlat(js.data, n)
			got := js.slots[i]
			present := !(got.kind == KindError && got.code == errMissing)
			if ok != present {
				t.Fatalf("%q in %q: lookupFlat %v, fill %v", n, data, ok, present)
			}
			if ok && !rawValue(raw).Equal(got) {
				t.Fatalf("%q in %q: lookupFlat %v, fill %v", n, data, rawValue(raw), got)
			}
		}
	})
}

// FuzzShortDecimal checks the fast number parser against strconv.
func FuzzShortDecimal(f *testing.F) {
	for _, s := range []string{"72", "-0", "54.687157", "0.7", "123456789012345", "1.", ".5", "-", "1e3", "0x1F", "9007199254740993", "-12.50"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseShortDecimal(s)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: parseShortDecimal %v, ParseFloat %v %v", s, got, want, err)
		}
	})
}
