package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

var historyTests = []testCase{
	{"Query", false, testQuery},
	{"EqualTimestamps", false, testEqualTimestamps},
	{"Invalid", false, testHistoryInvalid},
	{"Delete", false, testHistoryDelete},
	{"AgeRetention", false, testHistoryAge},
	{"SizeRotation", false, testHistorySize},
	{"Restart", true, testHistoryRestart},
}

// fill stores n messages for ident with timestamps base, base+1, … in a
// shuffled order (black boxes deliver late).
func fill(t *testing.T, m store.Messages, ident string, base float64, n int) {
	t.Helper()
	msgs := make([]protocol.Message, n)
	for i := range msgs {
		j := (i * 7) % n // a permutation when gcd(7, n) == 1
		msgs[i] = Message(ident, base+float64(j), j)
	}
	for len(msgs) > 0 {
		k := min(len(msgs), 13)
		if err := m.Store(ctxT(t), msgs[:k]); err != nil {
			t.Fatal(err)
		}
		msgs = msgs[k:]
	}
}

func ns(msgs []protocol.Message) []int {
	out := make([]int, len(msgs))
	for i := range msgs {
		out[i] = msgN(&msgs[i])
	}
	return out
}

func seqInts(from, to int) []int { // from..to inclusive, either direction
	var out []int
	if from <= to {
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
	} else {
		for i := from; i >= to; i-- {
			out = append(out, i)
		}
	}
	return out
}

func testQuery(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	m, ctx := in.messages(), ctxT(t)
	const base = 1.7e9
	fill(t, m, "dev1", base, 50)
	fill(t, m, "dev2", base, 50)
	fill(t, m, "dev", base, 10) // a prefix of the others' idents
	cases := []struct {
		name string
		q    store.Query
		want []int
	}{
		{"all", store.Query{}, seqInts(0, 49)},
		{"from-to inclusive", store.Query{From: base + 10, To: base + 20}, seqInts(10, 20)},
		{"count", store.Query{From: base + 10, Count: 5}, seqInts(10, 14)},
		{"reverse", store.Query{To: base + 20, Reverse: true, Count: 3}, seqInts(20, 18)},
		{"reverse all", store.Query{Reverse: true}, seqInts(49, 0)},
		{"fractional bounds", store.Query{From: base + 1.5, To: base + 3.5}, seqInts(2, 3)},
		{"empty range", store.Query{From: base + 100}, nil},
		{"to before from", store.Query{From: base + 10, To: base + 5}, nil},
		{"filter", store.Query{Filter: store.FilterFunc(func(m *protocol.Message) bool {
			return msgN(m)%10 == 0
		}), Count: 3}, []int{0, 10, 20}},
	}
	for _, c := range cases {
		got := check(m.Query(ctx, "dev1", c.q))(t)
		if !slices.Equal(ns(got), c.want) {
			t.Errorf("%s: got %v, want %v", c.name, ns(got), c.want)
		}
	}
	got := check(m.Query(ctx, "dev2", store.Query{From: base + 7, To: base + 7}))(t)
	want := Message("dev2", base+7, 7)
	if len(got) != 1 {
		t.Fatalf("dev2 at one timestamp: %v", ns(got))
	}
	sameMessage(t, &got[0], &want, "history message")
	if got := check(m.Query(ctx, "dev", store.Query{}))(t); len(got) != 10 {
		t.Fatalf("device whose ident prefixes others: %d messages, want 10", len(got))
	}
	if got := check(m.Query(ctx, "nobody", store.Query{}))(t); len(got) != 0 {
		t.Fatalf("unknown device: %v", ns(got))
	}
	proj := check(m.Query(ctx, "dev1", store.Query{Count: 1, Fields: []string{"position.*", "ident"}}))(t)
	var wantP protocol.Message
	full := Message("dev1", base, 0)
	for _, p := range full.Params() {
		if p.Name == "ident" || store.MatchName("position.*", p.Name) {
			wantP.Set(p.Name, p.Value)
		}
	}
	sameMessage(t, &proj[0], &wantP, "fields projection")
	st := check(m.Device(ctx, "dev1"))(t)
	if st.Count != 50 || st.Oldest != base || st.Newest != base+49 || st.Bytes <= 0 || st.Ident != "dev1" {
		t.Fatalf("device stats %+v", st)
	}
	_, err := m.Device(ctx, "nobody")
	wantErr(t, err, store.ErrNotFound, "Device of unknown ident")
}

func testEqualTimestamps(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	m, ctx := in.messages(), ctxT(t)
	for i := range 5 {
		if err := m.Store(ctx, []protocol.Message{Message("d", 100, i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := check(m.Query(ctx, "d", store.Query{}))(t)
	if !slices.Equal(ns(got), []int{0, 1, 2, 3, 4}) {
		t.Fatalf("equal timestamps: %v, want all five in arrival order", ns(got))
	}
	// A message without "timestamp" is filed under "server.timestamp".
	var srv protocol.Message
	srv.SetString("ident", "d")
	srv.SetFloat("server.timestamp", 50)
	srv.SetInt("test.n", 9)
	if err := m.Store(ctx, []protocol.Message{srv}); err != nil {
		t.Fatal(err)
	}
	if got := check(m.Query(ctx, "d", store.Query{Count: 1}))(t); msgN(&got[0]) != 9 {
		t.Fatalf("server.timestamp fallback: first is %v", ns(got))
	}
}

func testHistoryInvalid(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	m, ctx := in.messages(), ctxT(t)
	var noIdent, noTime protocol.Message
	noIdent.SetFloat("timestamp", 1)
	noTime.SetString("ident", "x")
	for _, bad := range []protocol.Message{noIdent, noTime} {
		err := m.Store(ctx, []protocol.Message{Message("ok", 1, 1), bad})
		wantErr(t, err, store.ErrInvalid, "Store of "+bad.String())
	}
	if got := check(m.Query(ctx, "ok", store.Query{}))(t); len(got) != 0 {
		t.Fatal("a rejected batch was partly stored")
	}
}

func testHistoryDelete(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	m, ctx := in.messages(), ctxT(t)
	fill(t, m, "d", 1000, 20)
	before := check(m.Device(ctx, "d"))(t)
	if n := check(m.Delete(ctx, "d", 1005, 1009))(t); n != 5 {
		t.Fatalf("deleted %d, want 5", n)
	}
	got := check(m.Query(ctx, "d", store.Query{}))(t)
	want := append(seqInts(0, 4), seqInts(10, 19)...)
	if !slices.Equal(ns(got), want) {
		t.Fatalf("after delete: %v", ns(got))
	}
	after := check(m.Device(ctx, "d"))(t)
	if after.Count != 15 || after.Bytes >= before.Bytes {
		t.Fatalf("stats after delete %+v (before %+v)", after, before)
	}
	if n := check(m.Delete(ctx, "d", 0, 0))(t); n != 15 {
		t.Fatalf("delete all: %d, want 15", n)
	}
	_, err := m.Device(ctx, "d")
	wantErr(t, err, store.ErrNotFound, "Device after deleting everything")
}

func testHistoryAge(t *testing.T, h *harness) {
	c := newClock()
	now := float64(c.Now().Unix())
	in := h.start(t, store.Config{Now: c.Now, History: store.HistoryConfig{
		Retention:    store.Retention{MaxAge: time.Hour},
		TrimInterval: -1,
		ForDevice: func(ident string) store.Retention {
			if ident == "forever" {
				return store.Retention{MaxAge: -1}
			}
			return store.Retention{MaxAge: time.Hour}
		},
	}})
	m, ctx := in.messages(), ctxT(t)
	fill(t, m, "d", now-7200, 10) // two hours old
	fill(t, m, "d", now-60, 10)   // a minute old
	fill(t, m, "forever", now-1e6, 3)
	if err := m.Trim(ctx); err != nil {
		t.Fatal(err)
	}
	got := check(m.Query(ctx, "d", store.Query{}))(t)
	if len(got) != 10 || msgN(&got[0]) != 0 {
		t.Fatalf("after age trim: %v", ns(got))
	}
	if st := check(m.Device(ctx, "d"))(t); st.Count != 10 || st.Oldest != now-60 {
		t.Fatalf("stats after age trim %+v", st)
	}
	if got := check(m.Query(ctx, "forever", store.Query{}))(t); len(got) != 3 {
		t.Fatalf("per-device retention ignored: %v", ns(got))
	}
}

func testHistorySize(t *testing.T, h *harness) {
	probe := h.start(t, store.Config{})
	fill(t, probe.messages(), "d", 1000, 1)
	one := check(probe.messages().Device(ctxT(t), "d"))(t).Bytes
	in := h.start(t, store.Config{History: store.HistoryConfig{Retention: store.Retention{MaxBytes: 20 * one}}})
	m, ctx := in.messages(), ctxT(t)
	for i := range 40 {
		if err := m.Store(ctx, []protocol.Message{Message("d", 1000+float64(i), i)}); err != nil {
			t.Fatal(err)
		}
		if st := check(m.Device(ctx, "d"))(t); st.Bytes > 20*one+one/2 {
			t.Fatalf("device size %d above the cap %d", st.Bytes, 20*one)
		}
	}
	got := check(m.Query(ctx, "d", store.Query{}))(t)
	if len(got) < 17 || len(got) > 20 || msgN(&got[len(got)-1]) != 39 {
		t.Fatalf("after rotation: %v", ns(got))
	}
	if !slices.Equal(ns(got), seqInts(40-len(got), 39)) {
		t.Fatalf("rotation did not drop the oldest: %v", ns(got))
	}
}

func testHistoryRestart(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	ctx := ctxT(t)
	fill(t, in.messages(), "d", 1000, 20)
	for i := range 3 {
		if err := in.messages().Store(ctx, []protocol.Message{Message("d", 1005, 100+i)}); err != nil {
			t.Fatal(err)
		}
	}
	before := check(in.messages().Device(ctx, "d"))(t)
	in.reopen()
	after := check(in.messages().Device(ctx, "d"))(t)
	if before != after {
		t.Fatalf("device stats changed across restart: %+v → %+v", before, after)
	}
	// Equal timestamps stored after the restart still sort after the old ones.
	if err := in.messages().Store(ctx, []protocol.Message{Message("d", 1005, 200)}); err != nil {
		t.Fatal(err)
	}
	got := check(in.messages().Query(ctx, "d", store.Query{From: 1005, To: 1005}))(t)
	if !slices.Equal(ns(got), []int{5, 100, 101, 102, 200}) {
		t.Fatalf("equal timestamps across restart: %v", ns(got))
	}
}
