package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

var logTests = []testCase{
	{"AppendRead", false, testAppendRead},
	{"ReadInto", false, testReadInto},
	{"ConcurrentAppenders", false, testConcurrentAppenders},
	{"ConcurrentReaders", false, testConcurrentReaders},
	{"Cursors", false, testCursors},
	{"Wait", false, testWait},
	{"AgeRetention", false, testAgeRetention},
	{"OverflowBlock", false, testOverflowBlock},
	{"OverflowDropOldest", false, testOverflowDrop},
	{"OverflowConcurrent", false, testOverflowConcurrent},
	{"Closed", false, testLogClosed},
	{"Restart", true, testLogRestart},
	{"RestartAfterEmptied", true, testLogRestartEmptied},
	{"Identity", false, testLogIdentity},
}

func testAppendRead(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	if first, err := l.Append(ctx, nil); err != nil || first != 0 {
		t.Fatalf("empty Append = %d, %v; want 0, nil", first, err)
	}
	st := check(l.Stats(ctx))(t)
	if st.Count != 0 || st.Last != 0 || st.First != 1 {
		t.Fatalf("empty log stats %+v", st)
	}
	if first := check(l.Append(ctx, batch("a", 0, 3)))(t); first != 1 {
		t.Fatalf("first batch starts at %d, want 1", first)
	}
	if first := check(l.Append(ctx, batch("b", 3, 4)))(t); first != 4 {
		t.Fatalf("second batch starts at %d, want 4", first)
	}
	recs := check(l.Read(ctx, 1, 100))(t)
	if len(recs) != 7 {
		t.Fatalf("read %d records, want 7: %s", len(recs), describe(recs))
	}
	for i, r := range recs {
		ident := "a"
		if i >= 3 {
			ident = "b"
		}
		want := Message(ident, 1.7e9+float64(i), i)
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		if r.Time.IsZero() {
			t.Fatalf("record %d has no time", r.Seq)
		}
		sameMessage(t, &r.Message, &want, "record")
	}
	// Records belong to the caller.
	recs[0].Message.SetString("ident", "changed")
	again := check(l.Read(ctx, 1, 1))(t)
	if again[0].Message.Ident() != "a" {
		t.Fatal("modifying a read record changed the log")
	}
	if got := check(l.Read(ctx, 5, 2))(t); len(got) != 2 || got[0].Seq != 5 || got[1].Seq != 6 {
		t.Fatalf("Read(5, 2) = %s", describe(got))
	}
	if got := check(l.Read(ctx, 8, 10))(t); len(got) != 0 {
		t.Fatalf("Read past the end = %s", describe(got))
	}
	if got := check(l.Read(ctx, 0, 1))(t); len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("Read(0) = %s", describe(got))
	}
	if got := check(l.Read(ctx, 1, 0))(t); len(got) != 0 {
		t.Fatalf("Read max 0 = %s", describe(got))
	}
	st = check(l.Stats(ctx))(t)
	if st.Count != 7 || st.First != 1 || st.Last != 7 || st.Bytes <= 0 || st.Oldest.IsZero() {
		t.Fatalf("stats %+v", st)
	}
	// The caller's messages are not retained by the log.
	msgs := batch("c", 7, 1)
	seq := check(l.Append(ctx, msgs))(t)
	msgs[0].SetString("ident", "mutated")
	got := check(l.Read(ctx, seq, 1))(t)
	if got[0].Message.Ident() != "c" {
		t.Fatal("log kept a reference to the appended message")
	}
}

// ReadInto returns what Read returns, reusing the caller's records.
func testReadInto(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	page := make([]store.Record, 3)
	if n, err := l.ReadInto(ctx, 1, page); n != 0 || err != nil {
		t.Fatalf("ReadInto on an empty log = %d, %v", n, err)
	}
	// The page starts out holding messages with other, more parameters:
	// they must be replaced, not merged.
	for i := range page {
		page[i].Message = Message("stale", 1, 99)
		page[i].Message.SetString("stale.extra", "x")
	}
	check(l.Append(ctx, batch("a", 0, 4)))(t)
	check(l.Append(ctx, batch("b", 4, 3)))(t)
	want := check(l.Read(ctx, 1, 100))(t)
	var kept []string
	next := uint64(1)
	for {
		n := check(l.ReadInto(ctx, next, page))(t)
		if n == 0 {
			break
		}
		for i := range n {
			r := &page[i]
			w := want[next-1+uint64(i)]
			if r.Seq != w.Seq || !r.Time.Equal(w.Time) {
				t.Fatalf("ReadInto record seq %d time %v, Read gave seq %d time %v", r.Seq, r.Time, w.Seq, w.Time)
			}
			sameMessage(t, &r.Message, &w.Message, "ReadInto record")
			kept = append(kept, r.Message.Ident())
		}
		next += uint64(n)
	}
	if next != 8 {
		t.Fatalf("ReadInto pages ended at %d, want 8", next)
	}
	// Strings taken from reused records stay valid.
	for i, id := range kept {
		if wantID := want[i].Message.Ident(); id != wantID {
			t.Fatalf("kept ident %d is %q, want %q", i, id, wantID)
		}
	}
	// Fewer records than the page: the rest of the page is untouched.
	page[2].Seq = 12345
	if n := check(l.ReadInto(ctx, 6, page))(t); n != 2 || page[0].Seq != 6 || page[1].Seq != 7 || page[2].Seq != 12345 {
		t.Fatalf("ReadInto(6) = %d records: %s", n, describe(page))
	}
	if n := check(l.ReadInto(ctx, 8, page))(t); n != 0 {
		t.Fatalf("ReadInto past the end = %d", n)
	}
	if n := check(l.ReadInto(ctx, 0, page[:1]))(t); n != 1 || page[0].Seq != 1 {
		t.Fatalf("ReadInto(0) = %d: %s", n, describe(page[:1]))
	}
	if n := check(l.ReadInto(ctx, 1, nil))(t); n != 0 {
		t.Fatalf("ReadInto into no records = %d", n)
	}
}

func testConcurrentAppenders(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	const writers, batches, size = 16, 20, 5
	type ack struct{ first, n int }
	acks := make([][]uint64, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				n := w*1000 + b*size
				first, err := l.Append(ctx, batch("w", n, size))
				if err != nil {
					errs <- err
					return
				}
				acks[w] = append(acks[w], first)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := writers * batches * size
	recs := check(l.Read(ctx, 1, total+10))(t)
	if len(recs) != total {
		t.Fatalf("read %d records, want %d", len(recs), total)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("gap: record %d has seq %d", i, r.Seq)
		}
	}
	for w, firsts := range acks {
		for b, first := range firsts {
			if b > 0 && first <= firsts[b-1] {
				t.Fatalf("writer %d: batch %d at %d not after batch %d at %d", w, b, first, b-1, firsts[b-1])
			}
			for i := range size {
				r := recs[first-1+uint64(i)]
				if got, want := msgN(&r.Message), w*1000+b*size+i; got != want {
					t.Fatalf("seq %d holds message %d, want %d (batches must be contiguous)", r.Seq, got, want)
				}
			}
		}
	}
}

func testConcurrentReaders(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	const writers, perWriter, readers = 4, 200, 3
	total := uint64(writers * perWriter)
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < perWriter; i += 10 {
				if _, err := l.Append(ctx, batch("w", w*perWriter+i, 10)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range readers {
		wg.Go(func() {
			seen := make(map[int]bool)
			next := uint64(1)
			for next <= total {
				if _, err := l.Wait(ctx, next-1); err != nil {
					errs <- err
					return
				}
				recs, err := l.Read(ctx, next, 64)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range recs {
					if r.Seq != next {
						errs <- errors.New("reader saw a gap or reordering")
						return
					}
					n := msgN(&r.Message)
					if seen[n] {
						errs <- errors.New("reader saw a message twice")
						return
					}
					seen[n] = true
					next++
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testCursors(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	_, err := l.Cursor(ctx, "mqtt")
	wantErr(t, err, store.ErrNotFound, "Cursor of unknown consumer")
	wantErr(t, l.DeleteConsumer(ctx, "mqtt"), store.ErrNotFound, "DeleteConsumer of unknown consumer")
	wantErr(t, l.Commit(ctx, "", 1), store.ErrInvalid, "Commit with empty name")
	check(l.Append(ctx, batch("a", 0, 10)))(t)
	wantErr(t, l.Commit(ctx, "mqtt", 12), store.ErrInvalid, "Commit beyond Last+1")
	if err := l.Commit(ctx, "mqtt", 4); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "http", 11); err != nil {
		t.Fatal(err)
	}
	if got := check(l.Cursor(ctx, "mqtt"))(t); got != 4 {
		t.Fatalf("cursor %d, want 4", got)
	}
	st := check(l.Stats(ctx))(t)
	want := []store.ConsumerStats{{Name: "http", Next: 11, Lag: 0}, {Name: "mqtt", Next: 4, Lag: 7}}
	if len(st.Consumers) != 2 || st.Consumers[0] != want[0] || st.Consumers[1] != want[1] {
		t.Fatalf("consumers %+v, want %+v", st.Consumers, want)
	}
	// Rewinding is allowed (replay).
	if err := l.Commit(ctx, "http", 2); err != nil {
		t.Fatal(err)
	}
	if got := check(l.Cursor(ctx, "http"))(t); got != 2 {
		t.Fatalf("rewound cursor %d, want 2", got)
	}
	if err := l.DeleteConsumer(ctx, "http"); err != nil {
		t.Fatal(err)
	}
	_, err = l.Cursor(ctx, "http")
	wantErr(t, err, store.ErrNotFound, "Cursor after DeleteConsumer")
}

func testWait(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err := l.Wait(short, 0)
	cancel()
	wantErr(t, err, context.DeadlineExceeded, "Wait on an empty log")
	got := make(chan uint64, 1)
	go func() {
		last, err := l.Wait(ctx, 0)
		if err != nil {
			t.Error(err)
		}
		got <- last
	}()
	time.Sleep(10 * time.Millisecond)
	check(l.Append(ctx, batch("a", 0, 2)))(t)
	select {
	case last := <-got:
		if last != 2 {
			t.Fatalf("Wait returned %d, want 2", last)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not wake on append")
	}
	if last := check(l.Wait(ctx, 1))(t); last != 2 {
		t.Fatalf("Wait with data available = %d", last)
	}
}

func testAgeRetention(t *testing.T, h *harness) {
	c := newClock()
	in := h.start(t, store.Config{Now: c.Now, Log: store.LogConfig{MaxAge: time.Hour, TrimInterval: -1}})
	l, ctx := in.log(), ctxT(t)
	check(l.Append(ctx, batch("a", 0, 5)))(t)
	c.Add(40 * time.Minute)
	check(l.Append(ctx, batch("a", 5, 5)))(t)
	c.Add(30 * time.Minute) // first batch is 70 min old, second 30
	if err := l.Commit(ctx, "slow", 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Trim(ctx); err != nil {
		t.Fatal(err)
	}
	st := check(l.Stats(ctx))(t)
	if st.First != 6 || st.Last != 10 || st.Count != 5 || st.Dropped != 5 {
		t.Fatalf("after trim: %+v", st)
	}
	if !st.Oldest.Equal(c.Now().Add(-30 * time.Minute)) {
		t.Fatalf("oldest %v, want %v", st.Oldest, c.Now().Add(-30*time.Minute))
	}
	if st.Consumers[0].Lag != 5 {
		t.Fatalf("lag of a consumer behind the trim point: %d, want 5", st.Consumers[0].Lag)
	}
	recs := check(l.Read(ctx, 1, 100))(t)
	if len(recs) != 5 || recs[0].Seq != 6 {
		t.Fatalf("read after trim: %s", describe(recs))
	}
	c.Add(2 * time.Hour)
	if err := l.Trim(ctx); err != nil {
		t.Fatal(err)
	}
	st = check(l.Stats(ctx))(t)
	if st.Count != 0 || st.First != 11 || st.Last != 10 || st.Bytes != 0 {
		t.Fatalf("after trimming everything: %+v", st)
	}
	if first := check(l.Append(ctx, batch("a", 10, 1)))(t); first != 11 {
		t.Fatalf("append after emptying got seq %d, want 11", first)
	}
}

// recordSize measures one test record's size as the engine counts it.
func recordSize(t *testing.T, h *harness) int64 {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	check(l.Append(ctx, batch("a", 0, 1)))(t)
	return check(l.Stats(ctx))(t).Bytes
}

func testOverflowBlock(t *testing.T, h *harness) {
	size := recordSize(t, h)
	in := h.start(t, store.Config{Log: store.LogConfig{MaxBytes: 10*size + size/2}})
	l, ctx := in.log(), ctxT(t)
	_, err := l.Append(ctx, batch("a", 0, 11))
	wantErr(t, err, store.ErrTooLarge, "batch above the cap")
	check(l.Append(ctx, batch("a", 0, 8)))(t)
	_, err = l.Append(ctx, batch("a", 8, 3))
	wantErr(t, err, store.ErrFull, "append beyond the cap")
	st := check(l.Stats(ctx))(t)
	if st.Last != 8 || st.Count != 8 {
		t.Fatalf("a refused batch changed the log: %+v", st)
	}
	check(l.Append(ctx, batch("a", 8, 2)))(t)
	_, err = l.Append(ctx, batch("a", 10, 1))
	wantErr(t, err, store.ErrFull, "append to a full log without consumers")
	// Two consumers: space is released only below the slower one.
	if err := l.Commit(ctx, "fast", 11); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "slow", 1); err != nil {
		t.Fatal(err)
	}
	_, err = l.Append(ctx, batch("a", 10, 1))
	wantErr(t, err, store.ErrFull, "append while a consumer has read nothing")
	if err := l.Commit(ctx, "slow", 4); err != nil {
		t.Fatal(err)
	}
	if first := check(l.Append(ctx, batch("a", 10, 3)))(t); first != 11 {
		t.Fatalf("append after release at %d, want 11", first)
	}
	st = check(l.Stats(ctx))(t)
	if st.First != 4 || st.Last != 13 || st.Bytes > 10*size+size/2 || st.Dropped != 0 {
		t.Fatalf("after release: %+v", st)
	}
	recs := check(l.Read(ctx, 4, 100))(t)
	for i, r := range recs {
		if msgN(&r.Message) != 3+i {
			t.Fatalf("after release: %s", describe(recs))
		}
	}
}

func testOverflowDrop(t *testing.T, h *harness) {
	size := recordSize(t, h)
	max := 20 * size
	in := h.start(t, store.Config{Log: store.LogConfig{MaxBytes: max, Overflow: store.DropOldest}})
	l, ctx := in.log(), ctxT(t)
	if err := l.Commit(ctx, "reader", 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i += 4 {
		check(l.Append(ctx, batch("a", i, 4)))(t)
		st := check(l.Stats(ctx))(t)
		if st.Bytes > max {
			t.Fatalf("size %d above the cap %d", st.Bytes, max)
		}
		if st.Last != uint64(i+4) {
			t.Fatalf("last %d, want %d", st.Last, i+4)
		}
	}
	st := check(l.Stats(ctx))(t)
	if st.Count < 15 || st.Count > 20 || st.Dropped != int64(100-st.Count) {
		t.Fatalf("after overflow: %+v", st)
	}
	// A consumer behind the start resumes at the oldest record kept.
	recs := check(l.Read(ctx, 1, 1000))(t)
	if len(recs) != int(st.Count) || recs[0].Seq != st.First || msgN(&recs[len(recs)-1].Message) != 99 {
		t.Fatalf("read after overflow: %s", describe(recs))
	}
	if lag := st.Consumers[0].Lag; lag != st.Count {
		t.Fatalf("lag %d, want %d", lag, st.Count)
	}
}

func testLogClosed(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	l, ctx := in.log(), ctxT(t)
	check(l.Append(ctx, batch("a", 0, 1)))(t)
	waited := make(chan error, 1)
	go func() {
		_, err := l.Wait(ctx, 1)
		waited <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := in.s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		wantErr(t, err, store.ErrClosed, "Wait during Close")
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake Wait")
	}
	_, err := l.Append(ctx, batch("a", 1, 1))
	wantErr(t, err, store.ErrClosed, "Append after Close")
	_, err = l.Read(ctx, 1, 1)
	wantErr(t, err, store.ErrClosed, "Read after Close")
	_, err = l.ReadInto(ctx, 1, make([]store.Record, 1))
	wantErr(t, err, store.ErrClosed, "ReadInto after Close")
	wantErr(t, l.Commit(ctx, "x", 1), store.ErrClosed, "Commit after Close")
	_, err = l.Stats(ctx)
	wantErr(t, err, store.ErrClosed, "Stats after Close")
	wantErr(t, in.s.Close(), store.ErrClosed, "second Close")
	in.s = closedStore{} // the cleanup must not close twice
}

type closedStore struct{}

func (closedStore) Log() store.Log             { return nil }
func (closedStore) Messages() store.Messages   { return nil }
func (closedStore) Telemetry() store.Telemetry { return nil }
func (closedStore) Close() error               { return nil }

func testLogRestart(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	ctx := ctxT(t)
	l := in.log()
	check(l.Append(ctx, batch("a", 0, 10)))(t)
	if err := l.Commit(ctx, "stream", 6); err != nil {
		t.Fatal(err)
	}
	before := check(l.Stats(ctx))(t)
	in.reopen()
	l = in.log()
	after := check(l.Stats(ctx))(t)
	if after.Count != before.Count || after.Bytes != before.Bytes || after.First != before.First ||
		after.Last != before.Last || !after.Oldest.Equal(before.Oldest) {
		t.Fatalf("stats changed across restart:\n%+v\n%+v", before, after)
	}
	if got := check(l.Cursor(ctx, "stream"))(t); got != 6 {
		t.Fatalf("cursor after restart %d, want 6", got)
	}
	recs := check(l.Read(ctx, 1, 100))(t)
	for i := range recs {
		want := Message("a", 1.7e9+float64(i), i)
		sameMessage(t, &recs[i].Message, &want, "record after restart")
	}
	if first := check(l.Append(ctx, batch("a", 10, 1)))(t); first != 11 {
		t.Fatalf("append after restart at %d, want 11", first)
	}
}

func testLogRestartEmptied(t *testing.T, h *harness) {
	c := newClock()
	in := h.start(t, store.Config{Now: c.Now, Log: store.LogConfig{MaxAge: time.Minute, TrimInterval: -1}})
	ctx := ctxT(t)
	check(in.log().Append(ctx, batch("a", 0, 7)))(t)
	c.Add(time.Hour)
	if err := in.log().Trim(ctx); err != nil {
		t.Fatal(err)
	}
	in.reopen()
	st := check(in.log().Stats(ctx))(t)
	if st.Count != 0 || st.Last != 7 || st.First != 8 {
		t.Fatalf("stats of an emptied log after restart: %+v", st)
	}
	if first := check(in.log().Append(ctx, []protocol.Message{Message("a", 1, 1)}))(t); first != 8 {
		t.Fatalf("sequence numbers reused after restart: got %d, want 8", first)
	}
}

// Many appenders against a full log: every batch is stored whole or not at
// all, and the cap holds.
func testOverflowConcurrent(t *testing.T, h *harness) {
	size := recordSize(t, h)
	max := 50 * size
	in := h.start(t, store.Config{Log: store.LogConfig{MaxBytes: max}})
	l, ctx := in.log(), ctxT(t)
	var mu sync.Mutex
	stored := map[uint64]int{} // first seq → message number of the batch
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for b := 0; ; b++ {
				n := w*1000 + b*3
				first, err := l.Append(ctx, batch("w", n, 3))
				if errors.Is(err, store.ErrFull) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				stored[first] = n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st := check(l.Stats(ctx))(t)
	if st.Bytes > max || st.Count != int64(3*len(stored)) {
		t.Fatalf("stats %+v after %d stored batches (cap %d)", st, len(stored), max)
	}
	recs := check(l.Read(ctx, 1, 1000))(t)
	for first, n := range stored {
		for i := range 3 {
			if r := recs[first-1+uint64(i)]; msgN(&r.Message) != n+i {
				t.Fatalf("seq %d holds %d, want %d", r.Seq, msgN(&r.Message), n+i)
			}
		}
	}
}

// A log that has an identity keeps it for its life, across reopen for a
// durable engine, and two stores do not share one.
func testLogIdentity(t *testing.T, h *harness) {
	in := h.start(t, store.Config{})
	id := store.LogID(in.log())
	if _, ok := in.log().(store.Identifier); !ok {
		t.Skip("log has no identity")
	}
	if id == "" {
		t.Fatal("ID() is empty")
	}
	if other := h.start(t, store.Config{}); store.LogID(other.log()) == id {
		t.Fatalf("two stores share the identity %q", id)
	}
	if !h.durable {
		return
	}
	in.reopen()
	if got := store.LogID(in.log()); got != id {
		t.Fatalf("identity %q became %q across reopen", id, got)
	}
}
