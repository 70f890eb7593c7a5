package telem

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// model is the telemetry table in its plainest form, a map per device, to
// check Table against: per parameter in message order, an older value is
// refused and an equal one at the same time is not announced; a change
// holds each parameter set during the merge once, with its value after the
// merge, sorted by name; eviction at the end of the merge forgets the
// oldest (by time, then name) beyond max.
type model struct {
	max     int
	devices map[string]map[string]store.TelemetryValue
}

func (md *model) merge(msgs []protocol.Message) Batch {
	var b Batch
	if md.devices == nil {
		md.devices = map[string]map[string]store.TelemetryValue{}
	}
	var order []string
	set := map[string]map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		ident := m.Ident()
		ts, _ := store.DeviceTime(m)
		d := md.devices[ident]
		if d == nil {
			d = map[string]store.TelemetryValue{}
			md.devices[ident] = d
		}
		for _, p := range m.Params() {
			if old, ok := d[p.Name]; ok {
				if old.Time > ts || old.Time == ts && old.Value.Equal(p.Value) && old.Value.Kind() == p.Value.Kind() {
					continue
				}
			}
			d[p.Name] = store.TelemetryValue{Name: p.Name, Value: p.Value, Time: ts}
			if set[ident] == nil {
				set[ident] = map[string]bool{}
				order = append(order, ident)
			}
			set[ident][p.Name] = true
		}
	}
	for _, ident := range order {
		d := md.devices[ident]
		if len(d) > md.max {
			all := make([]store.TelemetryValue, 0, len(d))
			for _, v := range d {
				all = append(all, v)
			}
			slices.SortFunc(all, func(a, b store.TelemetryValue) int {
				if a.Time != b.Time {
					if a.Time < b.Time {
						return -1
					}
					return 1
				}
				return strings.Compare(a.Name, b.Name)
			})
			for _, v := range all[:len(all)-md.max] {
				delete(d, v.Name)
				delete(set[ident], v.Name)
				if b.Evicted == nil {
					b.Evicted = map[string][]string{}
				}
				b.Evicted[ident] = append(b.Evicted[ident], v.Name)
			}
		}
		if len(set[ident]) == 0 {
			continue
		}
		c := store.TelemetryChange{Ident: ident}
		for name := range set[ident] {
			c.Values = append(c.Values, d[name])
		}
		slices.SortFunc(c.Values, func(a, b store.TelemetryValue) int { return strings.Compare(a.Name, b.Name) })
		b.Changes = append(b.Changes, c)
	}
	return b
}

func (md *model) get(ident string) []store.TelemetryValue {
	d, ok := md.devices[ident]
	if !ok {
		return nil
	}
	out := make([]store.TelemetryValue, 0, len(d))
	for _, v := range d {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b store.TelemetryValue) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// sameValue compares exactly: kind, bits (so -0 differs from 0) and time.
func sameValue(a, b store.TelemetryValue) bool {
	return a.Name == b.Name && a.Value.Kind() == b.Value.Kind() && a.Value.String() == b.Value.String() &&
		sameBits(a.Value, b.Value) && math.Float64bits(a.Time) == math.Float64bits(b.Time)
}

func sameBits(a, b protocol.Value) bool {
	fa, oka := a.Float()
	fb, okb := b.Float()
	return oka == okb && math.Float64bits(fa) == math.Float64bits(fb)
}

func format(vs []store.TelemetryValue) string {
	var sb strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&sb, " %s=%s(%s)@%g", v.Name, v.Value, v.Value.Kind(), v.Time)
	}
	return sb.String()
}

func sameBatch(t *testing.T, step int, got, want Batch) {
	t.Helper()
	if len(got.Changes) != len(want.Changes) {
		t.Fatalf("step %d: %d changes, want %d", step, len(got.Changes), len(want.Changes))
	}
	for i, c := range got.Changes {
		w := want.Changes[i]
		if c.Ident != w.Ident || !slices.EqualFunc(c.Values, w.Values, sameValue) {
			t.Fatalf("step %d: change %d: %s:%s\nwant %s:%s", step, i, c.Ident, format(c.Values), w.Ident, format(w.Values))
		}
	}
	if len(got.Evicted) != len(want.Evicted) {
		t.Fatalf("step %d: evicted %v, want %v", step, got.Evicted, want.Evicted)
	}
	for ident, names := range want.Evicted {
		if !slices.Equal(got.Evicted[ident], names) {
			t.Fatalf("step %d: evicted %v, want %v", step, got.Evicted, want.Evicted)
		}
	}
}

// TestMergeMatchesModel merges random batches into a Table and the model:
// devices whose messages change shape (parameters added, dropped,
// reordered, repeated within a message), timestamps older, equal and newer
// than stored, values equal in value but not in kind or bits, and a small
// MaxParams so that eviction runs. Every batch's changes and evictions, and
// every device's values after it, must be the model's.
func TestMergeMatchesModel(t *testing.T) {
	for seed := range uint64(20) {
		mergeAgainstModel(t, seed, 300)
	}
}

// FuzzMergeMatchesModel is TestMergeMatchesModel from other seeds.
func FuzzMergeMatchesModel(f *testing.F) {
	f.Add(uint64(100), uint8(50))
	f.Add(uint64(101), uint8(200))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint8) {
		mergeAgainstModel(t, seed, int(steps))
	})
}

func mergeAgainstModel(t *testing.T, seed uint64, steps int) {
	t.Helper()
	names := []string{"a", "b", "c", "d", "e", "f", "position.latitude", "position.longitude", "z"}
	values := []protocol.Value{protocol.Int(1), protocol.Float(1), protocol.Float(0), protocol.Float(math.Copysign(0, -1)),
		protocol.Float(math.NaN()), protocol.String("x"), protocol.String("y"), protocol.Bool(true), protocol.Null()}
	idents := []string{"A", "B", "C"}
	r := rand.New(rand.NewPCG(seed, 1))
	max := 3 + r.IntN(8)
	tab := Table{MaxParams: max}
	md := model{max: max}
	// Each device has a usual shape that most of its messages keep, as a
	// tracker's do.
	shapes := map[string][]string{}
	for _, id := range idents {
		shapes[id] = slices.Clone(names[:2+r.IntN(len(names)-2)])
		r.Shuffle(len(shapes[id]), func(i, j int) { shapes[id][i], shapes[id][j] = shapes[id][j], shapes[id][i] })
	}
	for step := range steps {
		msgs := make([]protocol.Message, 1+r.IntN(4))
		for i := range msgs {
			id := idents[r.IntN(len(idents))]
			shape := shapes[id]
			switch r.IntN(8) {
			case 0: // another shape
				shape = slices.Clone(names[:r.IntN(len(names))])
				r.Shuffle(len(shape), func(i, j int) { shape[i], shape[j] = shape[j], shape[i] })
			case 1: // a parameter repeated
				if len(shape) > 0 {
					shape = append(slices.Clone(shape), shape[r.IntN(len(shape))])
				}
			}
			m := &msgs[i]
			m.Add(protocol.ParamIdent, protocol.String(id))
			m.Add(protocol.ParamTimestamp, protocol.Float(float64(step/4+r.IntN(4))))
			for _, n := range shape {
				m.Add(n, values[r.IntN(len(values))])
			}
		}
		if err := Validate(msgs); err != nil {
			t.Fatal(err)
		}
		sameBatch(t, step, tab.Merge(msgs), md.merge(msgs))
		for _, id := range idents {
			got, err := tab.Get(id, nil)
			want := md.get(id)
			if want == nil {
				if err == nil {
					t.Fatalf("seed %d step %d: %s has values %s, want none", seed, step, id, format(got))
				}
				continue
			}
			if err != nil || !slices.EqualFunc(got, want, sameValue) {
				t.Fatalf("seed %d step %d: %s:%s %v\nwant%s", seed, step, id, format(got), err, format(want))
			}
		}
	}
}

func msg(ident string, ts float64, kv ...any) protocol.Message {
	var m protocol.Message
	m.Add(protocol.ParamIdent, protocol.String(ident))
	m.Add(protocol.ParamTimestamp, protocol.Float(ts))
	for i := 0; i < len(kv); i += 2 {
		m.Add(kv[i].(string), kv[i+1].(protocol.Value))
	}
	return m
}

func changeString(b Batch) string {
	var sb strings.Builder
	for _, c := range b.Changes {
		fmt.Fprintf(&sb, "%s:%s;", c.Ident, format(c.Values))
	}
	return sb.String()
}

// TestMergeShapes walks the cases of the cached slots one by one.
func TestMergeShapes(t *testing.T) {
	var tab Table
	steps := []struct {
		msgs []protocol.Message
		want string
	}{
		{[]protocol.Message{msg("d", 10, "speed", protocol.Int(5), "fuel", protocol.Int(30))},
			`d: fuel=30(int)@10 ident="d"(string)@10 speed=5(int)@10 timestamp=10(float)@10;`},
		// Same shape, only speed moves.
		{[]protocol.Message{msg("d", 11, "speed", protocol.Int(6), "fuel", protocol.Int(30))},
			`d: fuel=30(int)@11 ident="d"(string)@11 speed=6(int)@11 timestamp=11(float)@11;`},
		// Same time again: nothing is new.
		{[]protocol.Message{msg("d", 11, "speed", protocol.Int(6), "fuel", protocol.Int(30))}, ``},
		// Same time, equal number of another kind: announced.
		{[]protocol.Message{msg("d", 11, "speed", protocol.Float(6))}, `d: speed=6(float)@11;`},
		// A new parameter sorted before the others, one dropped, order
		// changed: every slot after it moves.
		{[]protocol.Message{msg("d", 12, "fuel", protocol.Int(29), "alt", protocol.Int(100))},
			`d: alt=100(int)@12 fuel=29(int)@12 ident="d"(string)@12 timestamp=12(float)@12;`},
		// The first shape again, with its slots moved by "alt".
		{[]protocol.Message{msg("d", 13, "speed", protocol.Int(7), "fuel", protocol.Int(29))},
			`d: fuel=29(int)@13 ident="d"(string)@13 speed=7(int)@13 timestamp=13(float)@13;`},
		// Older: refused, but a parameter never seen is taken.
		{[]protocol.Message{msg("d", 5, "speed", protocol.Int(1), "odo", protocol.Int(9))},
			`d: odo=9(int)@5;`},
		// A parameter repeated: the later one wins, announced once.
		{[]protocol.Message{msg("d", 14, "speed", protocol.Int(8), "speed", protocol.Int(9))},
			`d: ident="d"(string)@14 speed=9(int)@14 timestamp=14(float)@14;`},
		// Two messages of one device around another's, newest last and
		// first: one change per device, its newest values.
		{[]protocol.Message{
			msg("d", 16, "speed", protocol.Int(10)),
			msg("e", 1, "x", protocol.Bool(true)),
			msg("d", 15, "speed", protocol.Int(11), "fuel", protocol.Int(28)),
		}, `d: fuel=28(int)@15 ident="d"(string)@16 speed=10(int)@16 timestamp=16(float)@16;e: ident="e"(string)@1 timestamp=1(float)@1 x=true(bool)@1;`},
	}
	for i, s := range steps {
		if got := changeString(tab.Merge(s.msgs)); got != s.want {
			t.Fatalf("step %d: %s\nwant %s", i, got, s.want)
		}
	}
	got, err := tab.Get("d", []string{"speed", "alt", "o*"})
	if err != nil || format(got) != ` alt=100(int)@12 odo=9(int)@5 speed=10(int)@16` {
		t.Fatalf("Get: %s %v", format(got), err)
	}
}

// TestMergeEvicts: eviction forgets the oldest beyond MaxParams, drops them
// from the change (the change itself when nothing else is left), and a
// kept change's values are not touched by later merges.
func TestMergeEvicts(t *testing.T) {
	tab := Table{MaxParams: 3}
	first := tab.Merge([]protocol.Message{msg("d", 10, "a", protocol.Int(1))})
	b := tab.Merge([]protocol.Message{msg("d", 11, "b", protocol.Int(2))})
	if got := changeString(b); got != `d: b=2(int)@11 ident="d"(string)@11 timestamp=11(float)@11;` ||
		!slices.Equal(b.Evicted["d"], []string{"a"}) {
		t.Fatalf("changes %s evicted %v", got, b.Evicted)
	}
	// An old parameter is taken, then evicted at once: no change left.
	b = tab.Merge([]protocol.Message{msg("d", 1, "c", protocol.Int(3))})
	if len(b.Changes) != 0 || !slices.Equal(b.Evicted["d"], []string{"c"}) {
		t.Fatalf("changes %s evicted %v", changeString(b), b.Evicted)
	}
	if got := changeString(first); got != `d: a=1(int)@10 ident="d"(string)@10 timestamp=10(float)@10;` {
		t.Fatalf("an earlier change was modified: %s", got)
	}
	got, _ := tab.Get("d", nil)
	if format(got) != ` b=2(int)@11 ident="d"(string)@11 timestamp=11(float)@11` {
		t.Fatalf("after evictions: %s", format(got))
	}
}

// TestSetThenMerge: values loaded with Set, in any order, are merged over
// as if merged before.
func TestSetThenMerge(t *testing.T) {
	var tab Table
	tab.Set("d", "speed", protocol.Int(5), 20)
	tab.Set("d", "alt", protocol.Int(100), 10)
	tab.Set("d", "zz", protocol.Int(1), 10)
	tab.Set("d", "alt", protocol.Int(101), 11)
	b := tab.Merge([]protocol.Message{msg("d", 15, "speed", protocol.Int(6), "alt", protocol.Int(102))})
	if got := changeString(b); got != `d: alt=102(int)@15 ident="d"(string)@15 timestamp=15(float)@15;` {
		t.Fatalf("changes %s", got)
	}
	var m protocol.Message
	var times []float64
	ok := tab.Each("d", func(name string, v protocol.Value, ts float64) {
		m.Add(name, v)
		times = append(times, ts)
	})
	if !ok || m.String() != `{"alt":102,"ident":"d","speed":5,"timestamp":15,"zz":1}` || !slices.Equal(times, []float64{15, 15, 20, 15, 10}) {
		t.Fatalf("Each: %s %v %v", m.String(), times, ok)
	}
	if tab.Each("x", func(string, protocol.Value, float64) { t.Fatal("Each of an unknown device") }) {
		t.Fatal("Each of an unknown device reports telemetry")
	}
}

// TestSlotsAfterInsert: after a message that added parameters (moving the
// entries after them), the device's slots point at that message's
// parameters, so that the next message of its shape finds every one at
// the first comparison.
func TestSlotsAfterInsert(t *testing.T) {
	var tab Table
	tab.Merge([]protocol.Message{msg("d", 1, "m", protocol.Int(1), "z", protocol.Int(2))})
	m := msg("d", 2, "z", protocol.Int(3), "b", protocol.Int(4), "m", protocol.Int(5), "a", protocol.Int(6))
	tab.Merge([]protocol.Message{m})
	d := tab.devices["d"]
	for i, p := range m.Params() {
		if j := d.slots[i]; int(j) >= len(d.entries) || d.entries[j].name != p.Name {
			t.Fatalf("slot of %s is %d", p.Name, j)
		}
	}
}

// TestGrowThenSet: Set after Grow fills the room made, in any order of
// names, and the values read back are those set.
func TestGrowThenSet(t *testing.T) {
	var tab Table
	tab.Grow("d", 3)
	before := cap(tab.devices["d"].entries)
	tab.Set("d", "b", protocol.Int(2), 2)
	tab.Set("d", "c", protocol.Int(3), 3)
	tab.Set("d", "a", protocol.Int(1), 1)
	if after := cap(tab.devices["d"].entries); before < 3 || after != before {
		t.Fatalf("capacity %d after Grow, %d after 3 Sets", before, after)
	}
	got, err := tab.Get("d", nil)
	if err != nil || format(got) != ` a=1(int)@1 b=2(int)@2 c=3(int)@3` {
		t.Fatalf("Get: %s %v", format(got), err)
	}
	tab.Grow("e", 0)
	if _, err := tab.Get("e", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a device grown by nothing: %v", err)
	}
}
