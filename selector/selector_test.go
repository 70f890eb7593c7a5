package selector

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/filter"
)

// vector is one line of testdata/flespi-expressions.jsonl (copied from
// shared/vectors, each line with its source URL as provenance).
type vector struct {
	Kind    string          `json:"kind"`
	Input   string          `json:"input"`
	Context json.RawMessage `json:"context"`
	Expect  json.RawMessage `json:"expect"`
	Source  string          `json:"source"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/flespi-expressions.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.Kind == "selector" {
			out = append(out, v)
		}
	}
	return out
}

func TestVectors(t *testing.T) {
	cases := loadVectors(t)
	if len(cases) != 20 {
		t.Fatalf("want 20 selector vectors, got %d", len(cases))
	}
	for i, v := range cases {
		t.Run(strconv.Itoa(i)+"/"+v.Input, func(t *testing.T) {
			var expect any
			json.Unmarshal(v.Expect, &expect)
			in := v.Input
			// Bare patterns: BAS gives the wildcard rule without the field
			// name, so they are tested as the value of a path term.
			if in == "FM?640" || in == "86435*" {
				field := map[string]string{"FM?640": "model", "86435*": "configuration.ident"}[in]
				sel, err := Parse(field + "=" + in)
				if err != nil {
					t.Fatal(err)
				}
				yes := map[string][]string{"FM?640": {"FMB640", "FMC640", "FMM640"}, "86435*": {"864350012345678", "86435"}}[in]
				no := map[string][]string{"FM?640": {"FMB641", "FM640", "FMBB640"}, "86435*": {"86436", "186435"}}[in]
				for _, s := range yes {
					if !sel.Match(nested(field, s)) {
						t.Errorf("%s does not match %s", sel, s)
					}
				}
				for _, s := range no {
					if sel.Match(nested(field, s)) {
						t.Errorf("%s matches %s", sel, s)
					}
				}
				return
			}
			if strings.HasPrefix(in, "all?") {
				u, err := url.Parse("/gw/devices/" + in)
				if err != nil {
					t.Fatal(err)
				}
				segs, err := SplitPath(u.EscapedPath())
				if err != nil {
					t.Fatal(err)
				}
				q, err := ParseQuery(segs[2], u.Query())
				if err != nil {
					t.Fatal(err)
				}
				items := [][]byte{
					[]byte(`{"id":1,"name":"a","device_type_id":2,"connected":true,"counters":{"errors":0},"configuration":{"ident":"1"}}`),
					[]byte(`{"id":2,"name":"b","device_type_id":3,"connected":false}`),
				}
				var got struct {
					Result     []map[string]any `json:"result"`
					Pagination struct{ Limit, Offset, Count int }
				}
				if err := json.Unmarshal(q.Apply(items), &got); err != nil {
					t.Fatal(err)
				}
				want := strings.Split(u.Query().Get("fields"), ",")
				if len(got.Result) != 2 || len(got.Result[0]) != len(want) {
					t.Fatalf("result %v, fields %v", got.Result, want)
				}
				for _, f := range want {
					if _, ok := got.Result[0][f]; !ok {
						t.Errorf("field %s missing in %v", f, got.Result[0])
					}
				}
				if got.Pagination.Count != 2 || got.Pagination.Limit != q.Limit || got.Pagination.Offset != q.Offset {
					t.Errorf("pagination %+v", got.Pagination)
				}
				if m, ok := expect.(map[string]any); ok {
					p := m["pagination"].(map[string]any)
					if float64(got.Pagination.Limit) != p["limit"] || float64(got.Pagination.Offset) != p["offset"] {
						t.Errorf("pagination %+v, want %v", got.Pagination, p)
					}
				}
				return
			}
			sel, err := Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := Parse(sel.String()); err != nil || again.String() != sel.String() {
				t.Fatalf("round trip %q -> %q: %v", sel, again, err)
			}
			if want, ok := expect.(bool); ok {
				if got := sel.Match(v.Context); got != want {
					t.Errorf("Match(%s) = %v, want %v", v.Context, got, want)
				}
				return
			}
			switch {
			case in == "all":
				if !sel.All() || !sel.Match([]byte(`{"id":9}`)) || !sel.Match([]byte(`{}`)) {
					t.Error("all does not select everything")
				}
			case isIDList(in):
				ids := sel.IDs()
				if fmt.Sprint(ids) != "["+strings.ReplaceAll(in, ",", " ")+"]" {
					t.Errorf("ids %v", ids)
				}
				for _, id := range ids {
					if !sel.Match(fmt.Appendf(nil, `{"id":%d,"name":"x"}`, id)) {
						t.Errorf("id %d not selected", id)
					}
				}
				if sel.Match([]byte(`{"id":100000}`)) || sel.Match([]byte(`{"name":"no id"}`)) {
					t.Error("selected an unlisted id")
				}
			case len(v.Context) > 0:
				if !sel.Match(v.Context) {
					t.Errorf("does not select %s", v.Context)
				}
				if sel.Match([]byte(`{"protocol_name":"gt06"}`)) {
					t.Error("selects another protocol")
				}
			case in == "fields.driver=value":
				if !sel.Match([]byte(`{"id":1,"fields":{"driver":"value"}}`)) || sel.Match([]byte(`{"fields":{"driver":"other"}}`)) {
					t.Error("plugin field not matched exactly")
				}
			case in == "item_id==123":
				if !sel.Match([]byte(`{"item_id":123}`)) || sel.Match([]byte(`{"item_id":124}`)) {
					t.Error("item_id==123")
				}
			case strings.HasPrefix(in, "{data.configuration.ident"):
				if !sel.Match([]byte(`{"data":{"configuration":{"ident":"IMEI_VALUE"}}}`)) || sel.Match([]byte(`{"data":{"configuration":{"ident":"X"}}}`)) {
					t.Error("deleted-record expression")
				}
			case in == "metadata.fleet_id=10":
				if !sel.Match([]byte(`{"metadata":{"fleet_id":10}}`)) || !sel.Match([]byte(`{"metadata":{"fleet_id":10.0}}`)) ||
					sel.Match([]byte(`{"metadata":{"fleet_id":100}}`)) || sel.Match([]byte(`{"metadata":{}}`)) {
					t.Error("numeric metadata match")
				}
			case in == "metadata.project=*important*":
				if !sel.Match([]byte(`{"metadata":{"project":"very important one"}}`)) || sel.Match([]byte(`{"metadata":{"project":"minor"}}`)) {
					t.Error("substring metadata match")
				}
			default:
				t.Fatalf("unhandled vector %q", in)
			}
		})
	}
}

func nested(path, value string) []byte {
	parts := strings.Split(path, ".")
	b, _ := json.Marshal(value)
	s := string(b)
	for i := len(parts) - 1; i >= 0; i-- {
		s = `{"` + parts[i] + `":` + s + `}`
	}
	return []byte(s)
}

func isIDList(s string) bool {
	for _, p := range strings.Split(s, ",") {
		if !isDigits(p) {
			return false
		}
	}
	return true
}

func TestParseAndMatch(t *testing.T) {
	item := []byte(`{"id":7,"name":"my tracker, v2","device_type_id":42,"connected":true,"cid":null,` +
		`"configuration":{"ident":"352625066004561","phone":"+37060000000"},` +
		`"telemetry":{"position.speed":{"value":55,"ts":1},"battery.level":{"value":80}},` +
		`"groups":[{"id":1},{"id":1234}],"tags":["a","b"],"metadata":{"fleet_id":10,"project":"important"}}`)
	for _, c := range []struct {
		sel   string
		want  bool
		canon string
	}{
		{"all", true, "all"},
		{"all,connected=true", true, "connected=true"},
		{"7", true, "7"},
		{"5,7,3,7", true, "3,5,7"},
		{"8", false, ""},
		{"7,name=my*", true, ""},
		{"8,name=my*", false, ""},
		{`name="my tracker, v2"`, true, `name="my tracker, v2"`},
		{`name='my*'`, true, "name=my*"},
		{"name!=x*", true, ""},
		{"name!=my*", false, ""},
		{"nothere=*", false, ""},
		{"nothere!=x", false, ""},
		{"cid=null", true, ""},
		{"connected=tr?e", true, ""},
		{"device_type_id=4*", true, ""},
		{"device_type_id=42.0", true, ""},
		{"configuration.ident==3526*", true, "configuration.ident=3526*"},
		{"configuration=*", false, ""},
		{"telemetry.position.speed.value=55", true, ""},
		{"groups.id=1234", true, ""},
		{"groups.0.id=1234", false, ""},
		{"tags=b", true, ""},
		{"metadata.fleet_id=10,metadata.project=*port*", true, ""},
		{"{cid=123 || cid=456}", false, "{cid == 123 || cid == 456}"},
		{"{exists('telemetry.battery.level') && telemetry.battery.level.value > 50}", true, ""},
		{"{id/7==1}", true, "{id / 7 == 1}"},
		{"{json(groups, 1)['id'] == 1234}", true, ""},
		{"{last_active < now() - 86400}", false, ""},
		{"{name}", false, ""},
	} {
		sel, err := Parse(c.sel)
		if err != nil {
			t.Errorf("%s: %v", c.sel, err)
			continue
		}
		if got := sel.Match(item); got != c.want {
			t.Errorf("%s: Match %v, want %v", c.sel, got, c.want)
		}
		if c.canon != "" && sel.String() != c.canon {
			t.Errorf("%s: String %q, want %q", c.sel, sel, c.canon)
		}
		again, err := Parse(sel.String())
		if err != nil || again.String() != sel.String() || again.Match(item) != c.want {
			t.Errorf("%s: round trip %q: %v", c.sel, sel, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in, contains string
		sentinel     error
	}{
		{"", "empty selector", ErrSyntax},
		{"1,,2", "empty selector term (1:3)", ErrSyntax},
		{"1,", "empty selector term", ErrSyntax},
		{"name", "want '=' or '!=' after path 'name'", ErrSyntax},
		{"a b=1", "want '='", ErrSyntax},
		{"=x", "bad selector term", ErrSyntax},
		{".a=1", "bad selector term", ErrSyntax},
		{"{a==1", "unterminated '{'", ErrSyntax},
		{"a==1}", "unexpected '}'", ErrSyntax},
		{"{a==1}x", "must end with '}'", ErrSyntax},
		{"{a==}", "unexpected end of input (1:5)", filter.ErrSyntax},
		{"1,{foo(1)}", "unknown function 'foo' (1:4)", filter.ErrUnknownFunction},
		{`name="abc`, "unterminated quote", ErrSyntax},
		{`name="a"b"`, "unterminated quote", ErrSyntax},
		{`name="ab`, "unterminated quote", ErrSyntax},
		{"99999999999999999999", "id out of range", ErrSyntax},
		{strings.Repeat("1,", 3000), "longer than 4096", ErrTooLong},
		{"name=" + strings.Repeat("x", 1100), "pattern longer than 1024", filter.ErrLimit},
	} {
		_, err := Parse(c.in)
		if err == nil || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%.40q: error %v, want %q", c.in, err, c.contains)
			continue
		}
		if !errors.Is(err, c.sentinel) {
			t.Errorf("%.40q: %v is not %v", c.in, err, c.sentinel)
		}
	}
}

func TestSplitPath(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"/gw/devices/all/telemetry", []string{"gw", "devices", "all", "telemetry"}},
		{"/gw/devices/{a/2==1}/x", []string{"gw", "devices", "{a/2==1}", "x"}},
		{"/gw/devices/%7Ba%2F2%3D%3D1%7D/x", []string{"gw", "devices", "{a/2==1}", "x"}},
		{"/gw/devices/%7Ba/2==1%7D/x", []string{"gw", "devices", "{a/2==1}", "x"}},
		{`/gw/devices/{name=="a/}b"}/x`, []string{"gw", "devices", `{name=="a/}b"}`, "x"}},
		{`/gw/devices/%7Bname%3D%3D%22a%2F%7Db%22%7D/x`, []string{"gw", "devices", `{name=="a/}b"}`, "x"}},
		{"/gw/devices/name=a%2Fb/x", []string{"gw", "devices", "name=a/b", "x"}},
		{"/gw/devices/name=a+b", []string{"gw", "devices", "name=a+b"}},
		{"gw/devices/", []string{"gw", "devices", ""}},
	} {
		got, err := SplitPath(c.in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("SplitPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"/gw/{a", "/gw/%zz/x", "/" + strings.Repeat("a", MaxLen+1), `/gw/{"a}`} {
		if _, err := SplitPath(bad); err == nil {
			t.Errorf("SplitPath(%.40q) accepted", bad)
		}
	}
}

func TestFieldsAndPagination(t *testing.T) {
	items := [][]byte{
		[]byte(`{"id":1,"name":"a","configuration":{"ident":"1","phone":"p"},"telemetry":{"position.speed":{"value":5},"x":1}}`),
		[]byte(`{"id":2,"name":"b","configuration":"not an object"}`),
		[]byte(`{"id":3,"name":"c"}`),
		[]byte(`{"id":4,"name":"d"}`),
	}
	f, err := ParseFields("name,configuration.ident,telemetry.position.speed,name")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.AppendProject(nil, items[0])); got != `{"name":"a","configuration":{"ident":"1"},"telemetry":{"position.speed":{"value":5}}}` {
		t.Errorf("projection %s", got)
	}
	if got := string(f.AppendProject(nil, items[1])); got != `{"name":"b"}` {
		t.Errorf("projection %s", got)
	}
	sel, _ := Parse("{id > 1}")
	q := &Query{Selector: sel, Fields: Fields{paths: []string{"id"}}, Limit: 2, Offset: 1}
	if got := string(q.Apply(items)); got != `{"result":[{"id":3},{"id":4}],"pagination":{"limit":2,"offset":1,"count":3}}` {
		t.Errorf("query %s", got)
	}
	q = &Query{Offset: 10}
	if got := string(q.Apply(items)); got != `{"result":[],"pagination":{"limit":0,"offset":10,"count":4}}` {
		t.Errorf("query %s", got)
	}
	for _, bad := range []string{",", "a,,b", "a..b", "a b", ".a"} {
		if _, err := ParseFields(bad); err == nil {
			t.Errorf("ParseFields(%q) accepted", bad)
		}
	}
	for _, bad := range []url.Values{{"limit": {"-1"}}, {"offset": {"x"}}, {"fields": {"a,,"}}} {
		if _, err := ParseQuery("all", bad); err == nil {
			t.Errorf("ParseQuery(%v) accepted", bad)
		}
	}
}

// A selector's terms share one step budget per item: a hostile pattern
// over a large item gives up (not selected, ErrBudget) instead of costing
// the product of the pattern's and the value's lengths.
func TestSelectorBudget(t *testing.T) {
	long := `{"id":1,"name":"` + strings.Repeat("a", 1<<20) + `","n":"` + strings.Repeat("a", 300) + `bc"}`
	hostile := "*" + strings.Repeat("a", 1000) + "b?"
	for _, sel := range []string{"name=" + hostile, `{name=="` + hostile + `"}`, "name!=" + hostile} {
		s, err := Parse(sel)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Check([]byte(long), nil); ok || !errors.Is(err, filter.ErrBudget) {
			t.Errorf("%.20s…: Check = %v, %v; want false, ErrBudget", sel, ok, err)
		}
		if s.Match([]byte(long)) {
			t.Errorf("%.20s…: Match over budget = true", sel)
		}
	}
	// Within the budget the same pattern decides.
	s, _ := Parse("n=*" + strings.Repeat("a", 100) + "b?")
	if ok, err := s.Check([]byte(long), nil); !ok || err != nil {
		t.Errorf("cheap term: %v, %v", ok, err)
	}
	// The budget is configurable and spans the terms.
	small, err := ParseConfig("id=1,n=*bc", &filter.Config{Limits: filter.Limits{MaxSteps: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := small.Check([]byte(long), nil); ok || !errors.Is(err, filter.ErrBudget) {
		t.Errorf("1000 steps over 1 MiB: %v, %v", ok, err)
	}
	if ok, err := small.Check([]byte(`{"id":1,"n":"xbc"}`), nil); !ok || err != nil {
		t.Errorf("1000 steps over a small item: %v, %v", ok, err)
	}
}
