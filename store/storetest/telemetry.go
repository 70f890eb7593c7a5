package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

var telemetryTests = []testCase{
	{"NewerWins", false, testTelemetryOrder},
	{"Select", false, testTelemetrySelect},
	{"Watch", false, testTelemetryWatch},
	{"MaxParams", false, testTelemetryMaxParams},
	{"Invalid", false, testTelemetryInvalid},
	{"ConcurrentUpdates", false, testTelemetryConcurrent},
	{"Restart", true, testTelemetryRestart},
}

func tmsg(ident string, ts float64, kv ...any) protocol.Message {
	var m protocol.Message
	m.SetString("ident", ident)
	m.SetFloat("timestamp", ts)
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case float64:
			m.SetFloat(kv[i].(string), v)
		case string:
			m.SetString(kv[i].(string), v)
		case bool:
			m.SetBool(kv[i].(string), v)
		}
	}
	return m
}

func names(vs []store.TelemetryValue) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

func value(t *testing.T, tel store.Telemetry, ident, name string) store.TelemetryValue {
	t.Helper()
	vs := check(tel.Get(ctxT(t), ident, name))(t)
	if len(vs) != 1 {
		t.Fatalf("Get(%s, %s) = %v", ident, name, vs)
	}
	return vs[0]
}

func testTelemetryOrder(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	tel, ctx := in.telemetry(), ctxT(t)
	if err := tel.Update(ctx, []protocol.Message{tmsg("d", 2000, "position.latitude", 54.1, "fuel", 30.0)}); err != nil {
		t.Fatal(err)
	}
	// A black-box message from earlier: its latitude must not win, but a
	// parameter seen for the first time is taken.
	if err := tel.Update(ctx, []protocol.Message{tmsg("d", 1000, "position.latitude", 10.0, "odometer", 5.0)}); err != nil {
		t.Fatal(err)
	}
	if v := value(t, tel, "d", "position.latitude"); v.Time != 2000 || !v.Value.Equal(protocol.Float(54.1)) {
		t.Fatalf("older message overwrote newer: %+v", v)
	}
	if v := value(t, tel, "d", "odometer"); v.Time != 1000 {
		t.Fatalf("new parameter from an old message: %+v", v)
	}
	// Within one batch too, in either order.
	if err := tel.Update(ctx, []protocol.Message{
		tmsg("d", 3001, "fuel", 20.0),
		tmsg("d", 3000, "fuel", 25.0),
	}); err != nil {
		t.Fatal(err)
	}
	if v := value(t, tel, "d", "fuel"); v.Time != 3001 || !v.Value.Equal(protocol.Float(20)) {
		t.Fatalf("batch order beat timestamp order: %+v", v)
	}
	// Equal timestamps: the later update wins.
	if err := tel.Update(ctx, []protocol.Message{tmsg("d", 3001, "fuel", 21.0)}); err != nil {
		t.Fatal(err)
	}
	if v := value(t, tel, "d", "fuel"); !v.Value.Equal(protocol.Float(21)) {
		t.Fatalf("equal timestamp did not replace: %+v", v)
	}
	if v := value(t, tel, "d", "timestamp"); v.Time != 3001 {
		t.Fatalf("timestamp parameter: %+v", v)
	}
}

func testTelemetrySelect(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	tel, ctx := in.telemetry(), ctxT(t)
	if err := tel.Update(ctx, []protocol.Message{tmsg("d", 10,
		"position.latitude", 1.0, "position.longitude", 2.0, "position.valid", true,
		"battery.voltage", 4.1, "din#1", true)}); err != nil {
		t.Fatal(err)
	}
	all := check(tel.Get(ctx, "d"))(t)
	want := []string{"battery.voltage", "din#1", "ident", "position.latitude", "position.longitude", "position.valid", "timestamp"}
	if !slices.Equal(names(all), want) {
		t.Fatalf("all: %v, want %v", names(all), want)
	}
	got := check(tel.Get(ctx, "d", "position.*", "battery.voltage", "missing"))(t)
	if want := []string{"battery.voltage", "position.latitude", "position.longitude", "position.valid"}; !slices.Equal(names(got), want) {
		t.Fatalf("selected: %v, want %v", names(got), want)
	}
	if got := check(tel.Get(ctx, "d", "nothing.*"))(t); len(got) != 0 {
		t.Fatalf("no match: %v", names(got))
	}
	_, err := tel.Get(ctx, "unknown")
	wantErr(t, err, store.ErrNotFound, "Get of unknown device")
}

func testTelemetryWatch(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	tel, ctx := in.telemetry(), ctxT(t)
	var mu sync.Mutex
	var seen []string
	stop := tel.Watch(func(c store.TelemetryChange) {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range c.Values {
			seen = append(seen, fmt.Sprintf("%s/%s=%s@%g", c.Ident, v.Name, v.Value, v.Time))
		}
	})
	if err := tel.Update(ctx, []protocol.Message{tmsg("a", 5, "speed", 10.0), tmsg("b", 5, "speed", 20.0)}); err != nil {
		t.Fatal(err)
	}
	if err := tel.Update(ctx, []protocol.Message{tmsg("a", 4, "speed", 99.0)}); err != nil { // older: no change
		t.Fatal(err)
	}
	if err := tel.Update(ctx, []protocol.Message{tmsg("a", 6, "speed", 11.0)}); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := tel.Update(ctx, []protocol.Message{tmsg("a", 7, "speed", 12.0)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"a/ident=\"a\"@5", "a/speed=10@5", "a/timestamp=5@5",
		"b/ident=\"b\"@5", "b/speed=20@5", "b/timestamp=5@5",
		"a/ident=\"a\"@6", "a/speed=11@6", "a/timestamp=6@6",
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("changes:\n%q\nwant\n%q", seen, want)
	}
}

func testTelemetryMaxParams(t *testing.T, h *harness) {
	in := h.start(t, store.Config{Telemetry: store.TelemetryConfig{MaxParams: 4}})
	tel, ctx := in.telemetry(), ctxT(t)
	// ident and timestamp count too: 2 + p1 + p2 fill the table.
	if err := tel.Update(ctx, []protocol.Message{tmsg("d", 1, "p1", 1.0, "p2", 2.0)}); err != nil {
		t.Fatal(err)
	}
	if err := tel.Update(ctx, []protocol.Message{tmsg("d", 2, "p3", 3.0)}); err != nil {
		t.Fatal(err)
	}
	got := check(tel.Get(ctx, "d"))(t)
	if len(got) != 4 || !slices.Contains(names(got), "p3") || !slices.Contains(names(got), "timestamp") {
		t.Fatalf("after eviction: %v", names(got))
	}
	if in.h.durable {
		in.reopen()
		if again := check(in.telemetry().Get(ctx, "d"))(t); !slices.Equal(names(again), names(got)) {
			t.Fatalf("eviction not durable: %v, want %v", names(again), names(got))
		}
	}
}

func testTelemetryInvalid(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	tel, ctx := in.telemetry(), ctxT(t)
	var noTime protocol.Message
	noTime.SetString("ident", "x")
	wantErr(t, tel.Update(ctx, []protocol.Message{tmsg("ok", 1, "a", 1.0), noTime}), store.ErrInvalid, "Update without timestamp")
	_, err := tel.Get(ctx, "ok")
	wantErr(t, err, store.ErrNotFound, "Get after a rejected batch")
}

func testTelemetryRestart(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	ctx := ctxT(t)
	if err := in.telemetry().Update(ctx, []protocol.Message{
		tmsg("d", 2000, "position.latitude", 54.1, "name", "truck", "moving", true),
		tmsg("e", 1, "x", 1.0),
	}); err != nil {
		t.Fatal(err)
	}
	before := check(in.telemetry().Get(ctx, "d"))(t)
	in.reopen()
	tel := in.telemetry()
	after := check(tel.Get(ctx, "d"))(t)
	if len(after) != len(before) {
		t.Fatalf("after restart %v, want %v", after, before)
	}
	for i := range after {
		if after[i].Name != before[i].Name || after[i].Time != before[i].Time ||
			!after[i].Value.Equal(before[i].Value) || after[i].Value.Kind() != before[i].Value.Kind() {
			t.Fatalf("after restart %+v, want %+v", after[i], before[i])
		}
	}
	// Timestamps survive: an older message still loses after the restart.
	if err := tel.Update(ctx, []protocol.Message{tmsg("d", 1000, "position.latitude", 1.0)}); err != nil {
		t.Fatal(err)
	}
	if v := value(t, tel, "d", "position.latitude"); v.Time != 2000 {
		t.Fatalf("older value won after restart: %+v", v)
	}
}

// Concurrent updates in random time order: the newest timestamp wins.
func testTelemetryConcurrent(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	tel, ctx := in.telemetry(), ctxT(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				ts := float64((i*37+w*11)%400 + 1) // 1..400, shuffled
				if err := tel.Update(ctx, []protocol.Message{tmsg("d", ts, "x", ts)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var newest float64
	for w := range 8 {
		for i := range 50 {
			newest = max(newest, float64((i*37+w*11)%400+1))
		}
	}
	if v := value(t, tel, "d", "x"); v.Time != newest || !v.Value.Equal(protocol.Float(newest)) {
		t.Fatalf("after concurrent updates: %+v, want time and value %g", v, newest)
	}
}
