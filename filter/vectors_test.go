package filter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// vector is one line of testdata/flespi-expressions.jsonl, copied from
// shared/vectors; each line carries its source URL as provenance.
type vector struct {
	Kind    string          `json:"kind"`
	Input   string          `json:"input"`
	Context json.RawMessage `json:"context"`
	Expect  json.RawMessage `json:"expect"`
	Source  string          `json:"source"`
	Note    string          `json:"note"`
}

func loadVectors(t testing.TB, kind string) []vector {
	t.Helper()
	f, err := os.Open("testdata/flespi-expressions.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.Source == "" {
			t.Fatalf("vector without source: %s", sc.Text())
		}
		if v.Kind == kind {
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// vectorFuncs stands in for flespi's calculator-only functions: mileage()
// exists only in a calculator context, so evaluating it here is an error.
var vectorFuncs = []Func{{
	Name: "mileage", Usage: "mileage()", MinArgs: 0, MaxArgs: 0,
	Call: func(*Env, []Value) Value { return Errorf("mileage() needs a calculator context") },
}}

func TestVectorsExpressions(t *testing.T) {
	cases := loadVectors(t, "expression")
	if len(cases) != 59 {
		t.Fatalf("want 59 expression vectors, got %d", len(cases))
	}
	cfg := &Config{LooseEquals: true, Funcs: vectorFuncs}
	for i, v := range cases {
		t.Run(strconv.Itoa(i)+"/"+v.Input, func(t *testing.T) {
			var expect any
			if err := json.Unmarshal(v.Expect, &expect); err != nil {
				t.Fatal(err)
			}
			x, err := cfg.Compile(v.Input)
			if s, ok := expect.(string); ok && strings.HasPrefix(s, "invalid (deprecated unquoted") ||
				v.Input == "param1!=" {
				// flespi rejects these forms outright: so do we, at compile time.
				if err == nil {
					t.Fatalf("compiled %q, want a syntax error", v.Input)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			// The canonical form compiles to the same program.
			if y, err := cfg.Compile(x.String()); err != nil || y.String() != x.String() {
				t.Fatalf("round trip %q -> %q: %v", x, y, err)
			}
			if len(v.Context) == 0 {
				return // "valid … filter": compiling is the check
			}
			data := []byte(v.Context)
			env := &Env{Location: time.UTC}
			var ctx map[string]json.RawMessage
			if err := json.Unmarshal(data, &ctx); err != nil {
				t.Fatal(err)
			}
			if md, ok := ctx["__metadata"]; ok {
				env.Metadata = ObjectSource(md)
			}
			got := x.EvalJSON(data, env)
			// The same context as a decoded protocol.Message gives the same value.
			var m protocol.Message
			if err := m.UnmarshalJSON(data); err != nil {
				t.Fatal(err)
			}
			if got2 := x.EvalMessage(&m, env); !sameValue(got2, got) {
				t.Errorf("EvalMessage = %v, EvalJSON = %v", got2, got)
			}
			match := x.MatchJSON(data, env)
			switch e := expect.(type) {
			case bool:
				// Literal results (0, 5, null) are stated for a boolean
				// context; boolean results must also be that boolean.
				if b, ok := got.Bool(); ok && b != e || !ok && got.Kind() != KindNumber && !got.IsNull() {
					t.Errorf("got %v, want %v", got, e)
				}
				if match != e {
					t.Errorf("Match = %v, want %v", match, e)
				}
			case float64:
				if f, ok := got.Float(); !ok || f != e {
					t.Errorf("got %v, want %v", got, e)
				}
			case nil:
				if !got.IsNull() {
					t.Errorf("got %v, want null", got)
				}
			case string:
				switch {
				case strings.HasPrefix(e, "error"):
					if !got.IsError() || match {
						t.Errorf("got %v (match %v), want an error", got, match)
					}
				case strings.HasPrefix(e, "legacy: evaluation impossible; current: JSON value"):
					if got.Kind() != KindJSON {
						t.Errorf("got %v, want a JSON value", got)
					}
				case strings.HasPrefix(e, "1 (true)"):
					if b, ok := got.Bool(); !ok || !b || !match {
						t.Errorf("got %v, want true", got)
					}
				case strings.HasPrefix(e, "0 (false)"):
					if b, ok := got.Bool(); !ok || b || match {
						t.Errorf("got %v, want false", got)
					}
				case strings.HasPrefix(e, "false (message skipped"):
					if !got.IsError() || match {
						t.Errorf("got %v, want an error (skipped)", got)
					}
				case e == "invalid (deprecated separator)":
					// "field1=1|field1=100": '|' is bitwise and refuses booleans,
					// so the filter is an error and never passes.
					if !got.IsError() || match {
						t.Errorf("got %v, want an error", got)
					}
				case e == "invalid (old existence-check form stops operating)":
					// A bare string parameter is not a boolean: never passes.
					if match {
						t.Errorf("bare %q passed the filter", v.Input)
					}
				default:
					if got.Kind() != KindString {
						t.Fatalf("unhandled expectation %q (got %v)", e, got)
					}
					if s, _ := got.Str(); s != e {
						t.Errorf("got %v, want %q", got, e)
					}
				}
			default:
				t.Fatalf("unhandled expectation %v", expect)
			}
		})
	}
}

func TestVectorsTopicFilters(t *testing.T) {
	cases := loadVectors(t, "filter")
	if len(cases) != 10 {
		t.Fatalf("want 10 filter vectors, got %d", len(cases))
	}
	for i, v := range cases {
		t.Run(strconv.Itoa(i)+"/"+v.Input, func(t *testing.T) {
			f, err := ParseTopicFilter(v.Input)
			if err != nil {
				t.Fatal(err)
			}
			g, err := ParseTopicFilter(f.String())
			if err != nil || g.String() != f.String() {
				t.Fatalf("round trip %q -> %q: %v", f, g, err)
			}
			var ctx struct {
				Topic   string          `json:"topic"`
				CID     int64           `json:"cid"`
				Payload json.RawMessage `json:"payload"`
			}
			if len(v.Context) > 0 {
				if err := json.Unmarshal(v.Context, &ctx); err != nil {
					t.Fatal(err)
				}
			}
			var expect any
			json.Unmarshal(v.Expect, &expect)
			if want, ok := expect.(bool); ok {
				payload := []byte(ctx.Payload)
				var s string
				if json.Unmarshal(ctx.Payload, &s) == nil {
					payload = []byte(s) // a text payload given as a JSON string
				}
				m := TopicMessage{Topic: ctx.Topic, CID: ctx.CID, Payload: payload, Timestamp: 1.8e9}
				if got := f.Match(m); got != want {
					t.Errorf("Match = %v, want %v", got, want)
				}
				if ctx.Topic != "" && !f.MatchTopic(ctx.Topic) {
					t.Errorf("topic %q does not match %q", ctx.Topic, f.Topic)
				}
				return
			}
			devTopic := "flespi/message/gw/devices/7"
			switch {
			case strings.Contains(v.Input, "$share/workers/"):
				if f.Share != "workers" || f.Topic != "flespi/message/gw/devices/+" {
					t.Errorf("share %q topic %q", f.Share, f.Topic)
				}
				fallthrough
			case strings.Contains(v.Input, "cid=123"):
				if !f.Match(TopicMessage{Topic: devTopic, CID: 123}) || f.Match(TopicMessage{Topic: devTopic, CID: 124}) || f.Match(TopicMessage{Topic: devTopic}) {
					t.Error("cid=123 does not select exactly cid 123")
				}
			case strings.Contains(v.Input, "modified_since>1700000000"):
				if !f.Match(TopicMessage{Topic: devTopic, Timestamp: 1700000000.5}) || f.Match(TopicMessage{Topic: devTopic, Timestamp: 1700000000}) {
					t.Error("modified_since>1700000000 does not select messages after it")
				}
			case strings.Contains(v.Input, "123,456,789"):
				if !MatchTopic(f.Topic, "flespi/state/gw/devices/456/connected") || MatchTopic(f.Topic, "flespi/state/gw/devices/45/connected") {
					t.Error("comma list does not select each listed id only")
				}
			case strings.Contains(v.Input, "10,20"):
				if !MatchTopic(f.Topic, "flespi/message/gw/channels/20/x") || MatchTopic(f.Topic, "flespi/message/gw/channels/30/x") {
					t.Error("comma list does not select each listed channel only")
				}
			default:
				t.Fatalf("unhandled vector %q", v.Input)
			}
		})
	}
}

// sameValue is Value.Equal with JSON compared after compaction.
func sameValue(a, b Value) bool {
	ra, ok1 := a.Raw()
	rb, ok2 := b.Raw()
	if ok1 && ok2 {
		var ca, cb bytes.Buffer
		return json.Compact(&ca, []byte(ra)) == nil && json.Compact(&cb, []byte(rb)) == nil && ca.String() == cb.String()
	}
	return a.Equal(b)
}
