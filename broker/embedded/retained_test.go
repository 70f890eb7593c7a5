package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// The retained tree returns exactly what broker's Filter.Match accepts.
func TestRetainedTreeMatchesFilter(t *testing.T) {
	var r retainedStore
	topics := []string{"a", "a/b", "a/b/c", "a/c", "/a", "a//b", "$SYS/x", "$SYS/x/y", "b/1/t", "b/2/t", "b/3/t", "x"}
	for _, tp := range topics {
		r.set(&message{topic: tp, payload: []byte(tp)})
	}
	filters := []string{"#", "+", "a/#", "a/+", "+/+", "/#", "+/b/#", "$SYS/#", "$SYS/+", "+/x", "b/1,3/t", "b/3,1,9/t",
		"a//b", "a/+/c", "#/x", "a/b/c/#", "x/#"}
	for _, fs := range filters {
		pf, err := parseFilter(fs)
		if err != nil {
			if fs == "#/x" {
				continue
			}
			t.Fatalf("%s: %v", fs, err)
		}
		var got, want []string
		for _, m := range r.collect(&pf, time.Now(), 0) {
			got = append(got, m.topic)
		}
		for _, tp := range topics {
			if pf.Match(tp) {
				want = append(want, tp)
			}
		}
		slices.Sort(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: tree %v, Match %v", fs, got, want)
		}
	}
	for _, tp := range topics {
		r.set(&message{topic: tp})
	}
	if r.len() != 0 || len(r.root.children) != 0 {
		t.Fatalf("after deleting all: %d left, %d root children", r.len(), len(r.root.children))
	}
}

// Replacing, deleting (which prunes the tree) and setting again topics of
// one parent in a row keeps the tree exact: the parent node the store
// remembers from the last set is never a pruned one.
func TestRetainedSameParent(t *testing.T) {
	var r retainedStore
	set := func(topic, payload string) { r.set(&message{topic: topic, payload: []byte(payload)}) }
	collect := func(filter string) string {
		pf, err := parseFilter(filter)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range r.collect(&pf, time.Now(), 0) {
			got = append(got, m.topic+"="+string(m.payload))
		}
		return fmt.Sprint(got)
	}
	set("d/1/t/a", "1")
	set("d/1/t/b", "1")
	set("d/1/t/a", "2")
	set("d/2/t/a", "1")
	set("d/1/t/b", "2")
	if got := collect("d/#"); got != "[d/1/t/a=2 d/1/t/b=2 d/2/t/a=1]" {
		t.Fatalf("after replacing: %s", got)
	}
	set("d/1/t/a", "")
	set("d/1/t/b", "") // prunes d/1/t and d/1
	set("d/1/t/c", "3")
	set("d/1/t/a", "4")
	if got := collect("d/+/t/+"); got != "[d/1/t/a=4 d/1/t/c=3 d/2/t/a=1]" {
		t.Fatalf("after pruning and setting again: %s", got)
	}
	set("x", "1")
	set("/x", "2")
	set("x/", "3")
	if got := collect("#"); got != "[/x=2 d/1/t/a=4 d/1/t/c=3 d/2/t/a=1 x=1 x/=3]" {
		t.Fatalf("one-level and empty-level topics: %s", got)
	}
	if r.len() != 6 {
		t.Fatalf("len %d, want 6", r.len())
	}
}

// BenchmarkSubscribeRetained: subscribing to one device's 50 retained
// telemetry topics among 10,000 devices' (500,000 retained messages).
func BenchmarkSubscribeRetained(b *testing.B) {
	var r retainedStore
	for d := 0; d < 10_000; d++ {
		for p := 0; p < 50; p++ {
			r.set(&message{topic: fmt.Sprintf("flespi/state/gw/devices/%d/telemetry/param%d", d, p), payload: []byte("1")})
		}
	}
	pf, err := parseFilter("flespi/state/gw/devices/1234/telemetry/#")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := len(r.collect(&pf, now, 0)); n != 50 {
			b.Fatalf("%d retained", n)
		}
	}
}

func TestRetainedLimits(t *testing.T) {
	s := New(&Config{MaxRetained: 3, MaxRetainedBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	ctx := context.Background()
	pub := func(topic, payload string) {
		s.Publish(ctx, broker.Message{Topic: topic, Payload: []byte(payload), Retain: true})
	}
	pub("r/1", "a")
	pub("r/2", "b")
	pub("r/3", "c")
	pub("r/4", "refused") // a fourth topic
	pub("r/1", "replaced")
	if n := s.retained.len(); n != 3 || s.retained.has("r/4") {
		t.Fatalf("%d retained, r/4 kept: %v", n, s.retained.has("r/4"))
	}
	pub("r/2", "") // delete, then there is room
	pub("r/4", "d")
	if !s.retained.has("r/4") {
		t.Fatal("r/4 refused although there was room")
	}
	for _, tp := range []string{"r/1", "r/3", "r/4"} {
		pub(tp, "")
	}
	if s.retained.len() != 0 || s.retained.bytes != 0 {
		t.Fatalf("after deleting all: %d messages, %d bytes", s.retained.len(), s.retained.bytes)
	}
	// The byte bound.
	s2 := New(&Config{MaxRetainedBytes: 100, Logger: slog.New(slog.DiscardHandler)})
	defer s2.Close()
	s2.Publish(ctx, broker.Message{Topic: "big", Payload: make([]byte, 90), Retain: true})
	s2.Publish(ctx, broker.Message{Topic: "more", Payload: make([]byte, 20), Retain: true})
	if s2.retained.has("more") || !s2.retained.has("big") {
		t.Fatal("byte bound not applied")
	}
}
