package filter

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/internal/cputime"
)

// maxPayload is the largest payload the embedded broker accepts by default
// (its MaxPacketSize, 1 MiB).
const maxPayload = 1 << 20

// worstGlobFilter is the $filter of the issue: three specs, each a ~1 KB
// wildcard pattern (MaxString) built so that the two-pointer matcher
// retries the whole pattern at every byte of a long string, within the
// 4,096-byte topic filter limit.
func worstGlobFilter(t testing.TB) string {
	pat := "*" + strings.Repeat("a", 1020) + "b?" // a true glob: not prefix, suffix or contains
	spec := "payload=" + url.PathEscape(`p=="`+pat+`"`)
	f := "$filter/" + spec + "/$filter/" + spec + "/$filter/" + spec + "/t"
	if len(f) > maxTopicFilter {
		t.Fatalf("filter is %d bytes, over the %d limit", len(f), maxTopicFilter)
	}
	return f
}

// worstGlobPayload is {"p":"aaa…"} of 1 MiB.
func worstGlobPayload() []byte {
	return []byte(`{"p":"` + strings.Repeat("a", maxPayload-9) + `"}`)
}

// worstLookupFilter reads more fields than the single pass caches, so every
// further field is a lookup of its own over the whole payload.
func worstLookupFilter(t testing.TB) string {
	var b strings.Builder
	for i := range 200 {
		if i > 0 {
			b.WriteString("||")
		}
		b.WriteString("$f" + strconv.Itoa(i) + "==1") // absent: null, so the || goes on
	}
	f := "$filter/payload=" + url.PathEscape(b.String()) + "/t"
	if len(f) > maxTopicFilter {
		t.Fatalf("filter is %d bytes, over the %d limit", len(f), maxTopicFilter)
	}
	return f
}

// worstLookupPayload is a 1 MiB object of small members, the slowest kind of
// JSON to walk member by member.
func worstLookupPayload() []byte {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; b.Len() < maxPayload-64; i++ {
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i) + `,`)
	}
	b.WriteString(`"z":1}`)
	return []byte(b.String())
}

func TestBudgetStopsWorstFilters(t *testing.T) {
	for _, c := range []struct {
		name    string
		filter  string
		payload []byte
	}{
		{"glob", worstGlobFilter(t), worstGlobPayload()},
		{"lookups", worstLookupFilter(t), worstLookupPayload()},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseTopicFilter(c.filter)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := f.Check(TopicMessage{Topic: "t", Payload: c.payload}, nil)
			if ok || !errors.Is(err, ErrBudget) {
				t.Fatalf("Check = %v, %v; want false, ErrBudget", ok, err)
			}
			if f.Match(TopicMessage{Topic: "t", Payload: c.payload}) {
				t.Fatal("Match over budget = true")
			}
		})
	}
}

// A filter that reads a 1 MiB payload a few times stays within the default
// budget, and a small configured budget stops it.
func TestBudgetLegitimateWork(t *testing.T) {
	payload := []byte(`{"p":"` + strings.Repeat("x", maxPayload-20) + `yz","q":7}`)
	spec := "$filter/payload=" + url.PathEscape(`p=="x*y?" && q==7 && p!="*zz"`) + "/t"
	f, err := ParseTopicFilter(spec)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := f.Check(TopicMessage{Topic: "t", Payload: payload}, nil); !ok || err != nil {
		t.Fatalf("Check = %v, %v; want true, nil", ok, err)
	}
	small, err := (&Config{Limits: Limits{MaxSteps: 1000}}).ParseTopicFilter(spec)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := small.Check(TopicMessage{Topic: "t", Payload: payload}, nil); ok || !errors.Is(err, ErrBudget) {
		t.Fatalf("Check with 1000 steps = %v, %v; want false, ErrBudget", ok, err)
	}
	// A short message fits the small budget.
	if ok, err := small.Check(TopicMessage{Topic: "t", Payload: []byte(`{"p":"xxyz","q":7}`)}, nil); !ok || err != nil {
		t.Fatalf("Check short = %v, %v; want true, nil", ok, err)
	}
}

// Every entry point reports the budget: Eval as an error value, the Check
// methods as ErrBudget, and != of a pattern that ran out is not true.
func TestBudgetEntryPoints(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	data := []byte(`{"s":"` + long + `"}`)
	cfg := &Config{Limits: Limits{MaxSteps: 50_000}}
	x, err := cfg.Compile(`s=="*aaaaaaaaab?"`)
	if err != nil {
		t.Fatal(err)
	}
	ne, err := cfg.Compile(`s!="*aaaaaaaaab?"`)
	if err != nil {
		t.Fatal(err)
	}
	src := MapSource{"s": String(long)}
	if v := x.EvalJSON(data, nil); !errors.Is(v.Err(), ErrBudget) {
		t.Errorf("EvalJSON = %v, want an ErrBudget error", v)
	}
	if v := x.Eval(src, nil); !errors.Is(v.Err(), ErrBudget) {
		t.Errorf("Eval = %v, want an ErrBudget error", v)
	}
	if v := x.EvalObject(data, nil); !errors.Is(v.Err(), ErrBudget) {
		t.Errorf("EvalObject = %v, want an ErrBudget error", v)
	}
	for name, check := range map[string]func(*Expr) (bool, error){
		"CheckJSON":   func(x *Expr) (bool, error) { return x.CheckJSON(data, nil, nil) },
		"CheckObject": func(x *Expr) (bool, error) { return x.CheckObject(data, nil, nil) },
		"Check":       func(x *Expr) (bool, error) { return x.Check(src, nil, nil) },
	} {
		for _, e := range []*Expr{x, ne} {
			if ok, err := check(e); ok || !errors.Is(err, ErrBudget) {
				t.Errorf("%s(%s) = %v, %v; want false, ErrBudget", name, e, ok, err)
			}
		}
	}
	if x.MatchJSON(data, nil) || ne.MatchJSON(data, nil) || ne.Match(src, nil) || ne.MatchObject(data, nil) {
		t.Error("a Match over budget is true")
	}
	// A shared budget spans evaluations.
	short, _ := cfg.Compile(`s=="a*"`)
	b := NewBudget(40_000) // one pass over the 100 KB costs 25,000 steps
	for i := range 3 {
		ok, err := short.CheckJSON(data, nil, b)
		if want := i < 1; ok != want {
			t.Errorf("evaluation %d with a shared budget = %v, %v", i, ok, err)
		}
	}
	if !b.Exceeded() || b.Left() != 0 {
		t.Errorf("shared budget: exceeded %v, left %d", b.Exceeded(), b.Left())
	}
	// Patterns.
	pb := NewBudget(1000)
	if NewPattern("*ab?").MatchBudget(long, pb) || !pb.Exceeded() {
		t.Error("Pattern.MatchBudget did not stop")
	}
	if !NewPattern("*ab?").Match(long+"abc") || !NewPattern("a*").MatchBudget(long, NewBudget(0)) {
		t.Error("Pattern within budget does not match")
	}
}

// BenchmarkWorstFilter is the hostile subscription: the worst
// $filter the limits allow against the largest payload they allow, per
// message, with the default budget; "unbounded" is the same glob filter
// without a budget, over a 64 KiB payload only (1 MiB takes seconds), and
// "legit" a filter that reads a 1 MiB payload three times and matches.
func BenchmarkWorstFilter(b *testing.B) {
	run := func(b *testing.B, f *TopicFilter, payload []byte, wantErr bool) {
		m := TopicMessage{Topic: "t", Payload: payload}
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		b.ResetTimer()
		cpu := cputime.Process()
		for range b.N {
			ok, err := f.Check(m, nil)
			if errors.Is(err, ErrBudget) != wantErr || ok == wantErr {
				b.Fatalf("Check = %v, %v", ok, err)
			}
		}
		b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
	}
	glob, _ := ParseTopicFilter(worstGlobFilter(b))
	b.Run("glob-3x1KB-1MiB", func(b *testing.B) { run(b, glob, worstGlobPayload(), true) })
	lookups, _ := ParseTopicFilter(worstLookupFilter(b))
	b.Run("lookups-200-1MiB", func(b *testing.B) { run(b, lookups, worstLookupPayload(), true) })
	unbounded, _ := (&Config{Limits: Limits{MaxSteps: 1 << 62}}).ParseTopicFilter(worstGlobFilter(b))
	b.Run("glob-3x1KB-64KiB-unbounded", func(b *testing.B) {
		p := []byte(`{"p":"` + strings.Repeat("a", 64<<10) + `"}`)
		m := TopicMessage{Topic: "t", Payload: p}
		b.SetBytes(int64(len(p)))
		b.ResetTimer()
		cpu := cputime.Process()
		for range b.N {
			if ok, err := unbounded.Check(m, nil); ok || err != nil {
				b.Fatalf("Check = %v, %v", ok, err)
			}
		}
		b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
	})
	legit, _ := ParseTopicFilter("$filter/payload=" + url.PathEscape(`p=="x*y?" && q==7 && p!="*zz"`) + "/t")
	b.Run("legit-1MiB", func(b *testing.B) {
		run(b, legit, []byte(`{"p":"`+strings.Repeat("x", maxPayload-20)+`yz","q":7}`), false)
	})
}
