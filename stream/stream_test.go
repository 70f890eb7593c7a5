package stream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/stream"
)

// recorder is a sink that keeps what it was given and fails on demand.
type recorder struct {
	mu      sync.Mutex
	got     []got // accepted messages, in order
	writes  []int // batch sizes
	fail    func(b *stream.Batch) error
	changed chan struct{}
}

type got struct {
	id, json string
	seq      uint64
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) Write(ctx context.Context, b *stream.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, len(b.Messages))
	var err error
	if r.fail != nil {
		err = r.fail(b)
	}
	var be *stream.BatchError
	isBE := errors.As(err, &be)
	if err == nil || isBE {
		for i := range b.Messages {
			if isBE && be.Err(i) != nil {
				continue
			}
			m := &b.Messages[i]
			r.got = append(r.got, got{m.ID(), string(m.JSON), m.Seq})
		}
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return err
}

func (r *recorder) snapshot() []got {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor waits until the recorder holds n messages.
func (r *recorder) waitFor(t *testing.T, n int) []got {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if g := r.snapshot(); len(g) >= n {
			return g
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("sink got %d messages, want %d", len(r.snapshot()), n)
		}
	}
}

func msg(ident string, ch int64, i int) protocol.Message {
	var m protocol.Message
	m.SetString("ident", ident)
	m.SetFloat("timestamp", 1.7e9+float64(i))
	m.SetInt("channel.id", ch)
	m.SetInt("n", int64(i))
	m.SetFloat("position.latitude", 54.7)
	m.SetFloat("position.longitude", 25.3)
	return m
}

func appendN(t *testing.T, l store.Log, ident string, ch int64, from, n int) {
	t.Helper()
	batch := make([]protocol.Message, 0, n)
	for i := from; i < from+n; i++ {
		batch = append(batch, msg(ident, ch, i))
	}
	if _, err := l.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// run starts s and returns a function that stops it and returns Run's error.
func run(t *testing.T, s *stream.Stream) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func newStream(t *testing.T, l store.Log, sink stream.Sink, cfg stream.Config) *stream.Stream {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	s, err := stream.New(l, sink, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ns(g []got) []uint64 {
	out := make([]uint64, len(g))
	for i := range g {
		out[i] = g[i].seq
	}
	return out
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for q := from; q <= to; q++ {
		out = append(out, q)
	}
	return out
}

func TestDeliversInOrderInBatches(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	rec := newRecorder()
	s := newStream(t, l, rec, stream.Config{MaxBatch: 100, StartAt: stream.StartOldest})
	appendN(t, l, "a", 1, 0, 250)
	stop := run(t, s)
	appendN(t, l, "a", 1, 250, 250)
	g := rec.waitFor(t, 500)
	if !slices.Equal(ns(g), seqRange(1, 500)) {
		t.Fatalf("delivered out of order: %v…", ns(g)[:10])
	}
	for _, w := range rec.writes {
		if w > 100 {
			t.Fatalf("batch of %d > MaxBatch", w)
		}
	}
	id := store.LogID(l)
	if g[0].id != id+":1" || g[499].id != id+":500" {
		t.Fatalf("ids %q … %q, want %s:1 … %s:500", g[0].id, g[499].id, id, id)
	}
	want := msg("a", 1, 0)
	if g[0].json != want.String() {
		t.Fatalf("json %s, want %s", g[0].json, want.String())
	}
	waitCursor(t, l, s.Consumer(), 501)
	stop()
	st := s.Stats()
	if st.Read != 500 || st.Accepted != 500 || st.Queue != 0 || st.Next != 501 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStartNewForwardsOnlyNewMessages(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	appendN(t, l, "a", 1, 0, 10) // before the stream exists
	rec := newRecorder()
	s := newStream(t, l, rec, stream.Config{})
	stop := run(t, s)
	waitCursor(t, l, s.Consumer(), 11)
	appendN(t, l, "a", 1, 10, 5)
	g := rec.waitFor(t, 5)
	stop()
	if !slices.Equal(ns(g), seqRange(11, 15)) {
		t.Fatalf("got %v, want 11..15", ns(g))
	}
}

func waitCursor(t *testing.T, l store.Log, consumer string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := l.Cursor(context.Background(), consumer); err == nil && n >= want {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("cursor %s never reached %d", consumer, want)
}

func TestSubscriptionsAndValidate(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	subs := &stream.Subscriptions{}
	subs.AddChannel(1)
	subs.AddDevice(7)
	subs.AddIdent("z")
	x, err := filter.CompileFilter(`n % 2 == 0`)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	s := newStream(t, l, rec, stream.Config{Subscriptions: subs, Validate: x, StartAt: stream.StartOldest})
	var batch []protocol.Message
	for i := 0; i < 40; i++ {
		m := msg(fmt.Sprint("d", i%4), int64(i%3), i) // channels 0,1,2
		if i%5 == 0 {
			m.SetInt("device.id", 7) // device 7 on channel 0, 1 or 2
		}
		if i == 33 {
			m.SetString("ident", "z")
		}
		batch = append(batch, m)
	}
	if _, err := l.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	var want []uint64
	read := 0
	for i := range batch {
		ch, _ := batch[i].Int("channel.id")
		dev, _ := batch[i].Int("device.id")
		if ch == 1 || dev == 7 || batch[i].Ident() == "z" {
			read++
			if i%2 == 0 {
				want = append(want, uint64(i+1))
			}
		}
	}
	stop := run(t, s)
	waitCursor(t, l, s.Consumer(), 41)
	stop()
	g := rec.snapshot()
	if !slices.Equal(ns(g), want) {
		t.Fatalf("forwarded %v, want %v", ns(g), want)
	}
	st := s.Stats()
	if st.Read != int64(read) || st.Skipped != int64(read-len(want)) || st.Accepted != int64(len(want)) {
		t.Fatalf("stats read %d skipped %d accepted %d; want %d %d %d", st.Read, st.Skipped, st.Accepted, read, read-len(want), len(want))
	}
}

func TestConvert(t *testing.T) {
	cases := []struct {
		conv stream.Convert
		want string
	}{
		{stream.Convert{Fields: []string{"ident", "position.*"}},
			`{"ident":"a","position.latitude":54.7,"position.longitude":25.3}`},
		{stream.Convert{Nested: true},
			`{"ident":"a","timestamp":1700000000,"channel":{"id":1},"n":0,"position":{"latitude":54.7,"longitude":25.3}}`},
		{stream.Convert{Fields: []string{"position.*", "n"}, Nested: true},
			`{"n":0,"position":{"latitude":54.7,"longitude":25.3}}`},
	}
	for _, c := range cases {
		db := memory.New(nil)
		l := db.Log()
		rec := newRecorder()
		s := newStream(t, l, rec, stream.Config{Convert: c.conv, StartAt: stream.StartOldest})
		appendN(t, l, "a", 1, 0, 1)
		stop := run(t, s)
		g := rec.waitFor(t, 1)
		stop()
		if g[0].json != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.conv, g[0].json, c.want)
		}
	}
}

func TestRetriesUntilTargetIsBack(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	rec := newRecorder()
	failures := 5
	rec.fail = func(b *stream.Batch) error {
		if failures > 0 {
			failures--
			return errors.New("503 service unavailable")
		}
		return nil
	}
	var mu sync.Mutex
	var events []stream.EventType
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest, OnEvent: func(e stream.Event) {
		mu.Lock()
		events = append(events, e.Type)
		mu.Unlock()
	}})
	appendN(t, l, "a", 1, 0, 30)
	stop := run(t, s)
	g := rec.waitFor(t, 30)
	waitCursor(t, l, s.Consumer(), 31)
	stop()
	if !slices.Equal(ns(g), seqRange(1, 30)) {
		t.Fatalf("got %v", ns(g))
	}
	st := s.Stats()
	if st.Retries != 5 || st.Accepted != 30 || st.LastError != "" {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) < 2 || events[0] != stream.EventTargetDown || events[1] != stream.EventRecovered {
		t.Fatalf("events %v, want target_down then recovered", events)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	rec := newRecorder()
	var first time.Time
	var second time.Time
	rec.fail = func(b *stream.Batch) error {
		if first.IsZero() {
			first = time.Now()
			return stream.RetryAfter(errors.New("429"), 200*time.Millisecond)
		}
		if second.IsZero() {
			second = time.Now()
		}
		return nil
	}
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest, RetryMin: time.Millisecond, RetryMax: time.Second})
	appendN(t, l, "a", 1, 0, 1)
	stop := run(t, s)
	rec.waitFor(t, 1)
	stop()
	if d := second.Sub(first); d < 200*time.Millisecond {
		t.Fatalf("retried after %v, before the target's Retry-After of 200ms", d)
	}
}

// One poison message in a batch that the target refuses as a whole: the
// stream isolates it, delivers everything else in order and dead-letters
// it with the reason; Replay sends it again once the target takes it.
func TestPoisonMessageIsIsolatedAndDeadLettered(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	dl := memory.New(nil).Log()
	rec := newRecorder()
	poisoned := true
	rec.fail = func(b *stream.Batch) error {
		for i := range b.Messages {
			if n, _ := b.Messages[i].Message.Int("n"); n == 37 && poisoned {
				return stream.Permanent(errors.New("400 bad request: field n"))
			}
		}
		return nil
	}
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest, MaxBatch: 100, DeadLetter: dl})
	appendN(t, l, "a", 1, 0, 100)
	stop := run(t, s)
	g := rec.waitFor(t, 99)
	waitCursor(t, l, s.Consumer(), 101)
	stop()
	want := append(seqRange(1, 37), seqRange(39, 100)...)
	if !slices.Equal(ns(g), want) {
		t.Fatalf("delivered %v, want all but 38 in order", ns(g))
	}
	st := s.Stats()
	if st.Rejected != 1 || st.DeadLettered != 1 || st.Accepted != 99 {
		t.Fatalf("stats %+v", st)
	}
	recs, err := dl.Read(context.Background(), 1, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("dead letter log: %v, %v", recs, err)
	}
	m := &recs[0].Message
	if r, _ := m.Str(stream.ParamRejectReason); r != "permanent: 400 bad request: field n" {
		t.Fatalf("reason %q", r)
	}
	if id, _ := m.Str(stream.ParamMessageID); id != store.LogID(l)+":38" {
		t.Fatalf("dead-lettered id %q", id)
	}
	poisoned = false
	next, sent, err := s.Replay(context.Background(), 1)
	if err != nil || sent != 1 || next != 2 {
		t.Fatalf("Replay = %d, %d, %v", next, sent, err)
	}
	g = rec.snapshot()
	last := g[len(g)-1]
	want37 := msg("a", 1, 37)
	if last.id != store.LogID(l)+":38" || last.json != want37.String() {
		t.Fatalf("replayed %+v", last)
	}
}

func TestBatchErrorRetriesOnlyTheFailed(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	rec := newRecorder()
	attempts := 0
	rec.fail = func(b *stream.Batch) error {
		attempts++
		if attempts > 1 {
			return nil
		}
		be := stream.NewBatchError()
		be.Failed(2, errors.New("timeout"))
		be.Failed(4, stream.Permanent(errors.New("rejected")))
		return be
	}
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest, OnReject: stream.RejectSkip})
	appendN(t, l, "a", 1, 0, 6)
	stop := run(t, s)
	waitCursor(t, l, s.Consumer(), 7)
	stop()
	g := rec.snapshot()
	if !slices.Equal(ns(g), []uint64{1, 2, 4, 6, 3}) {
		t.Fatalf("delivered %v", ns(g))
	}
	st := s.Stats()
	if st.Accepted != 5 || st.Rejected != 1 || st.DeadLettered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRejectStopStopsBeforeTheMessage(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	rec := newRecorder()
	refuse := true
	rec.fail = func(b *stream.Batch) error {
		for i := range b.Messages {
			if b.Messages[i].Seq == 5 && refuse {
				return stream.Permanent(errors.New("nope"))
			}
		}
		return nil
	}
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest, OnReject: stream.RejectStop})
	appendN(t, l, "a", 1, 0, 8)
	err := s.Run(context.Background())
	var rej *stream.RejectedError
	if !errors.As(err, &rej) || !errors.Is(err, stream.ErrStopped) || rej.ID != store.LogID(l)+":5" {
		t.Fatalf("Run = %v", err)
	}
	if next, _ := l.Cursor(context.Background(), s.Consumer()); next != 5 {
		t.Fatalf("cursor %d, want 5 (the refused message is next)", next)
	}
	refuse = false
	stop := run(t, s)
	waitCursor(t, l, s.Consumer(), 9)
	stop()
	g := rec.snapshot()
	if !slices.Equal(ns(g), []uint64{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("delivered %v", ns(g))
	}
}

func TestQueueTTLExpiresOldMessages(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := memory.New(&store.Config{Now: clock})
	l := db.Log()
	rec := newRecorder()
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest, QueueTTL: time.Hour, Now: clock})
	appendN(t, l, "a", 1, 0, 3)
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	appendN(t, l, "a", 1, 3, 2)
	stop := run(t, s)
	waitCursor(t, l, s.Consumer(), 6)
	stop()
	if g := rec.snapshot(); !slices.Equal(ns(g), []uint64{4, 5}) {
		t.Fatalf("delivered %v, want 4,5", ns(g))
	}
	if st := s.Stats(); st.Expired != 3 {
		t.Fatalf("expired %d, want 3", st.Expired)
	}
}

// A disabled stream keeps its queue, delivers nothing, and never forwards
// what arrived while it was disabled — also across a restart.
func TestDisabledStreamAppendsNothing(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := db.Log()
	rec := newRecorder()
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest})
	ctx := context.Background()
	if err := s.SetEnabled(ctx, false); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "a", 1, 0, 3) // 1..3 arrive while disabled
	stop := run(t, s)
	time.Sleep(20 * time.Millisecond)
	if len(rec.snapshot()) != 0 {
		t.Fatal("a disabled stream delivered")
	}
	if st := s.Stats(); st.State != stream.StateDisabled {
		t.Fatalf("state %s", st.State)
	}
	if err := s.SetEnabled(ctx, true); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "a", 1, 3, 2) // 4, 5
	rec.waitFor(t, 2)
	if err := s.SetEnabled(ctx, false); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "a", 1, 5, 2) // 6, 7: lost to the stream
	stop()
	db.Close()

	// Restart: still disabled; enable and append more.
	db, err = pebble.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l = db.Log()
	s = newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest})
	if on, err := s.Enabled(ctx); err != nil || on {
		t.Fatalf("Enabled after restart = %v, %v; want false", on, err)
	}
	stop = run(t, s)
	if err := s.SetEnabled(ctx, true); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "a", 1, 7, 1) // 8
	rec.waitFor(t, 3)
	waitCursor(t, l, s.Consumer(), 9)
	// The gap's marker goes right after the cursor that passed it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := l.Stats(ctx)
		if len(st.Consumers) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	if g := rec.snapshot(); !slices.Equal(ns(g), []uint64{4, 5, 8}) {
		t.Fatalf("delivered %v, want 4, 5, 8", ns(g))
	}
	st, _ := l.Stats(ctx)
	for _, c := range st.Consumers {
		if c.Name != s.Consumer() {
			t.Errorf("consumer %q left behind after the gaps were passed", c.Name)
		}
	}
}

// A stream stopped in the middle resumes exactly after the last batch the
// sink acknowledged: nothing lost, and the batch in flight is the only one
// sent twice, with the same ids.
func TestResumeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := db.Log()
	appendN(t, l, "a", 1, 0, 1000)
	rec := newRecorder()
	block := make(chan struct{})
	inFlight := make(chan struct{})
	writes := 0
	rec.fail = func(b *stream.Batch) error {
		writes++
		if writes == 3 {
			close(inFlight)
			<-block // the third batch is in flight when the process "dies"
			return errors.New("killed")
		}
		return nil
	}
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest, MaxBatch: 100})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-inFlight // two batches delivered and committed
	cancel()
	close(block)
	<-done
	db.Close()

	db, err = pebble.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	s = newStream(t, db.Log(), rec, stream.Config{StartAt: stream.StartOldest, MaxBatch: 100})
	stop := run(t, s)
	g := rec.waitFor(t, 1000)
	stop()
	if !slices.Equal(ns(g), seqRange(1, 1000)) {
		t.Fatalf("after restart: %d messages, %v…", len(g), ns(g)[195:205])
	}
}

func TestDroppedByRetentionIsCounted(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := memory.New(&store.Config{Now: clock, Log: store.LogConfig{MaxAge: time.Hour, TrimInterval: -1}})
	l := db.Log()
	rec := newRecorder()
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest})
	stop := run(t, s)
	waitCursor(t, l, s.Consumer(), 1)
	stop()
	appendN(t, l, "a", 1, 0, 4)
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if err := l.Trim(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "a", 1, 4, 1)
	stop = run(t, s)
	rec.waitFor(t, 1)
	stop()
	if st := s.Stats(); st.Dropped != 4 {
		t.Fatalf("dropped %d, want 4", st.Dropped)
	}
}

func TestIDsRoundTrip(t *testing.T) {
	b := &stream.Batch{}
	ids := stream.BatchIDsForTest(b, "3f1c2d4e-0000-1111-2222-123456789012", []uint64{7, 8, 9, 11, 13, 14})
	if ids != "3f1c2d4e-0000-1111-2222-123456789012:7-9,11,13-14" {
		t.Fatalf("AppendIDs = %q", ids)
	}
	got, err := stream.ParseIDs(ids, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{}
	for _, q := range []int{7, 8, 9, 11, 13, 14} {
		want = append(want, fmt.Sprintf("3f1c2d4e-0000-1111-2222-123456789012:%d", q))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseIDs = %v", got)
	}
	for _, bad := range []string{"nolog", ":1", "x:1-", "x:3-1", "x:a", "x:0-99999999999"} {
		if _, err := stream.ParseIDs(bad, 1000); err == nil {
			t.Errorf("ParseIDs(%q) accepted", bad)
		}
	}
}

// Disabled while a batch is being retried and while the reader waits for
// the log, then enabled: both wake, the batch read before is delivered,
// and what arrived in between is not.
func TestDisableDuringRetryThenEnable(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	rec := newRecorder()
	var mu sync.Mutex
	failing := true
	rec.fail = func(*stream.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return errors.New("down")
		}
		return nil
	}
	s := newStream(t, l, rec, stream.Config{StartAt: stream.StartOldest})
	appendN(t, l, "a", 1, 0, 3)
	stop := run(t, s)
	waitFor := func(cond func() bool) {
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %+v", s.Stats())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(func() bool { return s.Stats().Retries > 2 })
	ctx := context.Background()
	if err := s.SetEnabled(ctx, false); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "a", 1, 3, 2) // lost to the stream
	mu.Lock()
	failing = false
	mu.Unlock()
	if err := s.SetEnabled(ctx, true); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, "a", 1, 5, 1)
	waitCursor(t, l, s.Consumer(), 7)
	stop()
	if g := rec.snapshot(); !slices.Equal(ns(g), []uint64{1, 2, 3, 6}) {
		t.Fatalf("delivered %v, want 1, 2, 3, 6", ns(g))
	}
}

// validate_message has the expression's step budget: a message it gives up
// on is skipped and counted in Stats.OverBudget, the others are decided.
func TestValidateBudget(t *testing.T) {
	db := memory.New(nil)
	l := db.Log()
	x, err := (&filter.Config{LooseEquals: true, Limits: filter.Limits{MaxSteps: 20_000}}).Compile(
		`name == "*` + strings.Repeat("a", 100) + `b?"`)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	s := newStream(t, l, rec, stream.Config{Validate: x, StartAt: stream.StartOldest})
	var batch []protocol.Message
	for i, name := range []string{strings.Repeat("a", 100) + "bc", strings.Repeat("a", 50_000), "short"} {
		m := msg("d", 1, i)
		m.SetString("name", name)
		batch = append(batch, m)
	}
	if _, err := l.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	stop := run(t, s)
	waitCursor(t, l, s.Consumer(), 4)
	stop()
	if g := ns(rec.snapshot()); !slices.Equal(g, []uint64{1}) {
		t.Fatalf("forwarded %v, want [1]", g)
	}
	if st := s.Stats(); st.Skipped != 2 || st.OverBudget != 1 {
		t.Fatalf("skipped %d over budget %d, want 2 and 1", st.Skipped, st.OverBudget)
	}
}
