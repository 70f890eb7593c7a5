package history

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/stream"
)

// stores are the engines the writer runs on: each test runs on both.
var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memory", func(t *testing.T) store.Store { return memory.New(nil) }},
	{"pebble", func(t *testing.T) store.Store {
		db, err := pebble.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}},
}

func eachStore(t *testing.T, fn func(t *testing.T, open func() store.Store)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			fn(t, func() store.Store {
				db := s.open(t)
				t.Cleanup(func() { db.Close() })
				return db
			})
		})
	}
}

// message builds a message: ident "" and ts < 0 leave them out.
func message(ident string, ts, serverTS float64, params ...any) protocol.Message {
	var m protocol.Message
	if ident != "" {
		m.SetString(protocol.ParamIdent, ident)
	}
	if ts >= 0 {
		m.SetFloat(protocol.ParamTimestamp, ts)
	}
	if serverTS >= 0 {
		m.SetFloat(protocol.ParamServerTimestamp, serverTS)
	}
	for i := 0; i+1 < len(params); i += 2 {
		switch v := params[i+1].(type) {
		case int:
			m.SetInt(params[i].(string), int64(v))
		case string:
			m.SetString(params[i].(string), v)
		}
	}
	return m
}

// batch makes a stream batch of msgs at log positions from, from+1, …
func batch(from uint64, msgs ...protocol.Message) *stream.Batch {
	b := &stream.Batch{Stream: "history"}
	for i := range msgs {
		b.Messages = append(b.Messages, stream.Message{Seq: from + uint64(i), Message: &msgs[i]})
	}
	return b
}

func history(t *testing.T, db store.Store, ident string) []protocol.Message {
	t.Helper()
	got, err := db.Messages().Query(context.Background(), ident, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func speeds(msgs []protocol.Message) []int64 {
	var out []int64
	for i := range msgs {
		v, _ := msgs[i].Int("speed")
		out = append(out, v)
	}
	return out
}

func telemetry(t *testing.T, db store.Store, ident string) map[string]string {
	t.Helper()
	vals, err := db.Telemetry().Get(context.Background(), ident)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range vals {
		out[v.Name] = fmt.Sprintf("%s@%g", v.Value.AppendJSON(nil), v.Time)
	}
	return out
}

func TestWrite(t *testing.T) {
	eachStore(t, func(t *testing.T, open func() store.Store) {
		ctx := context.Background()
		db := open()
		var mu sync.Mutex
		active := map[string]float64{}
		w := &Writer{Messages: db.Messages(), Telemetry: db.Telemetry(),
			Keep: func(ident string) bool { return ident != "nohist" },
			Active: func(ident string, st float64) {
				mu.Lock()
				active[ident] = max(active[ident], st)
				mu.Unlock()
			}}
		b := batch(1,
			message("A", 100, 1000, "speed", 1),
			message("B", 100, 1001, "speed", 2),
			message("", 100, 1002, "speed", 3),       // no ident: no device
			message("A", -1, -1, "speed", 4),         // no time at all
			message("A", -1, 1003, "speed", 5),       // server time stands in
			message("A", 90, 1004, "speed", 6),       // older: history sorts it, telemetry keeps the newer
			message("nohist", 100, 1005, "speed", 7), // telemetry only
		)
		if err := w.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if got := speeds(history(t, db, "A")); !reflect.DeepEqual(got, []int64{6, 1, 5}) {
			t.Errorf("A's history: speeds %v, want [6 1 5] (by device time)", got)
		}
		if got := speeds(history(t, db, "B")); !reflect.DeepEqual(got, []int64{2}) {
			t.Errorf("B's history: speeds %v, want [2]", got)
		}
		if got := history(t, db, "nohist"); len(got) != 0 {
			t.Errorf("a device that keeps no history has %d messages", len(got))
		}
		if got, want := telemetry(t, db, "A")["speed"], "5@1003"; got != want {
			t.Errorf("A's telemetry speed %s, want %s", got, want)
		}
		if got, want := telemetry(t, db, "nohist")["speed"], "7@100"; got != want {
			t.Errorf("nohist's telemetry speed %s, want %s", got, want)
		}
		if got := telemetry(t, db, ""); got != nil {
			t.Errorf("telemetry without ident: %v", got)
		}
		want := map[string]float64{"A": 1004, "B": 1001, "nohist": 1005}
		if !reflect.DeepEqual(active, want) {
			t.Errorf("Active told %v, want %v", active, want)
		}
		// The batch's messages are the stream's: the writer changed none.
		if got := b.Messages[0].Message.String(); got != `{"ident":"A","timestamp":100,"server.timestamp":1000,"speed":1}` {
			t.Errorf("batch message changed: %s", got)
		}
	})
}

// Messages or Telemetry nil skips that part; a batch with nothing to
// keep touches neither (a closed store is not even asked).
func TestWriteParts(t *testing.T) {
	eachStore(t, func(t *testing.T, open func() store.Store) {
		ctx := context.Background()
		db := open()
		if err := (&Writer{Messages: db.Messages()}).Write(ctx, batch(1, message("A", 1, 1, "speed", 1))); err != nil {
			t.Fatal(err)
		}
		if err := (&Writer{Telemetry: db.Telemetry()}).Write(ctx, batch(2, message("B", 1, 1, "speed", 2))); err != nil {
			t.Fatal(err)
		}
		if len(history(t, db, "A")) != 1 || telemetry(t, db, "A") != nil {
			t.Errorf("Messages only: history %d, telemetry %v", len(history(t, db, "A")), telemetry(t, db, "A"))
		}
		if len(history(t, db, "B")) != 0 || telemetry(t, db, "B") == nil {
			t.Errorf("Telemetry only: history %d, telemetry %v", len(history(t, db, "B")), telemetry(t, db, "B"))
		}
		closed := open()
		closed.Close()
		w := &Writer{Messages: closed.Messages(), Telemetry: closed.Telemetry()}
		for _, b := range []*stream.Batch{batch(1), batch(1, message("", 1, 1), message("A", -1, -1))} {
			if err := w.Write(ctx, b); err != nil {
				t.Errorf("a batch with nothing to keep: %v", err)
			}
		}
	})
}

// A store that fails fails the batch, with the error wrapped, so the
// stream retries it; the retry stores every message once.
func TestWriteStoreErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, open func() store.Store) {
		ctx := context.Background()
		good, closed := open(), open()
		closed.Close()
		b := batch(1, message("A", 1, 10, "speed", 1), message("A", 2, 11, "speed", 2))

		for _, tc := range []struct {
			name   string
			w      *Writer
			ctx    context.Context
			prefix string
			is     error
		}{
			{"telemetry fails", &Writer{Messages: good.Messages(), Telemetry: closed.Telemetry()}, ctx, "history: telemetry: ", store.ErrClosed},
			{"messages fail", &Writer{Messages: closed.Messages(), Telemetry: good.Telemetry()}, ctx, "history: messages: ", store.ErrClosed},
			{"context ended", &Writer{Messages: good.Messages(), Telemetry: good.Telemetry()}, canceled(), "history: telemetry: ", context.Canceled},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.w.Write(tc.ctx, b)
				if !errors.Is(err, tc.is) || err.Error()[:len(tc.prefix)] != tc.prefix {
					t.Errorf("err = %v, want %q… wrapping %v", err, tc.prefix, tc.is)
				}
			})
		}
		// History may keep the messages of a batch whose telemetry failed
		// (both are written at once), never twice.
		if n := len(history(t, good, "A")); n > 2 {
			t.Fatalf("failed writes stored %d messages", n)
		}
		// The stream retries the batch on a writer whose store is back:
		// a new writer, as after a restart, and the one that failed.
		w := &Writer{Messages: good.Messages(), Telemetry: good.Telemetry()}
		if err := w.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if got := speeds(history(t, good, "A")); !reflect.DeepEqual(got, []int64{1, 2}) {
			t.Errorf("after the retry: speeds %v, want [1 2]", got)
		}
		failed := &Writer{Messages: good.Messages(), Telemetry: closed.Telemetry()}
		failed.Write(ctx, b)
		failed.Telemetry = good.Telemetry()
		if err := failed.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if got := speeds(history(t, good, "A")); !reflect.DeepEqual(got, []int64{1, 2}) {
			t.Errorf("after a retry on the writer that failed: speeds %v, want [1 2]", got)
		}
	})
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// At least once: a batch in flight when the process died is delivered
// again by the next run (a new Writer), whole or inside a larger batch,
// and a batch whose commit failed is delivered again to the same Writer.
// History keeps each message once.
func TestRedelivery(t *testing.T) {
	msgs := []protocol.Message{
		message("A", 1, 10, "speed", 1),
		message("B", 1, 10, "speed", 2),
		message("A", 2, 11, "speed", 3),
		message("A", 2, 11, "speed", 3), // sent twice by the tracker: two records, both kept
		message("A", 3, 12, "speed", 4),
		message("B", 0.5, 12, "speed", 5),
		message("C", 0, 12, "speed", 6), // time 0: a query To 0 would be unbounded
	}
	for _, tc := range []struct {
		name    string
		batches [][2]int // [from, to) of msgs, written in turn
		fresh   []bool   // a new Writer (a restart) before batch i
	}{
		{"the same batch after a restart", [][2]int{{0, 4}, {0, 4}, {4, 7}}, []bool{false, true, false}},
		{"inside a larger batch after a restart", [][2]int{{0, 3}, {0, 7}}, []bool{false, true}},
		{"again to the same writer", [][2]int{{0, 4}, {0, 7}}, []bool{false, false}},
		{"the tail again", [][2]int{{0, 4}, {2, 7}}, []bool{false, true}},
		{"time 0 again", [][2]int{{0, 7}, {6, 7}}, []bool{false, true}},
		{"no redelivery", [][2]int{{0, 2}, {2, 4}, {4, 7}}, []bool{false, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, open func() store.Store) {
				ctx := context.Background()
				db := open()
				var w *Writer
				for i, r := range tc.batches {
					if w == nil || tc.fresh[i] {
						w = &Writer{Messages: db.Messages(), Telemetry: db.Telemetry()}
					}
					part := make([]protocol.Message, r[1]-r[0])
					for j := range part {
						part[j] = msgs[r[0]+j].Clone()
					}
					if err := w.Write(ctx, batch(uint64(100+r[0]), part...)); err != nil {
						t.Fatal(err)
					}
				}
				if got := speeds(history(t, db, "A")); !reflect.DeepEqual(got, []int64{1, 3, 3, 4}) {
					t.Errorf("A's history: speeds %v, want [1 3 3 4]", got)
				}
				if got := speeds(history(t, db, "B")); !reflect.DeepEqual(got, []int64{5, 2}) {
					t.Errorf("B's history: speeds %v, want [5 2]", got)
				}
				if got := speeds(history(t, db, "C")); !reflect.DeepEqual(got, []int64{6}) {
					t.Errorf("C's history: speeds %v, want [6]", got)
				}
			})
		})
	}
}
