// Package streamtest is the conformance suite for [stream.Sink]
// implementations, in the shape of testing/slogtest: a sink's test calls
// [Run] with a function that makes the sink and its real target (an HTTP
// server, a broker subscriber, a TCP receiver written in the test), and the
// suite runs streams through it: order, ids, a target that is down for a
// while, a message the target refuses, a restart.
//
//	func TestConformance(t *testing.T) {
//		streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
//			target := newReceiver(t) // a real server the test controls
//			return httpsink.New(&httpsink.Config{URL: target.URL}), target
//		}, streamtest.Options{})
//	}
package streamtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
)

// Received is one message as the target got it.
type Received struct {
	// ID is the stream message id the sink conveyed with it ("" when the
	// sink's protocol has no place for one: Options.NoIDs).
	ID string
	// Message is the message as the target decoded it.
	Message protocol.Message
}

// Target is the real receiving end of the sink under test. Its methods are
// called from the test goroutine while the sink writes to it.
type Target interface {
	// Received returns what the target has received so far, in arrival
	// order, duplicates included. It may lag behind the sink's
	// acknowledgements (a broker acknowledges before its subscribers get
	// the message): the suite waits up to Options.Timeout for the rest.
	Received() []Received
	// SetDown makes the target fail what it is sent (refuse connections,
	// answer 503, drop the connection before acknowledging…) while down is
	// true, so that the sink's Write fails with an error the stream
	// retries; false serves again.
	SetDown(down bool)
}

// Rejecter is implemented by targets that can refuse messages for good (an
// HTTP 400, an AMQP nack): while set, messages for which refuse returns
// true are refused, and the sink must report a stream.Permanent error for
// them (for the whole batch, or per message in a stream.BatchError).
type Rejecter interface {
	Reject(refuse func(m *protocol.Message) bool)
}

// Factory makes a sink and its target for one subtest; cleanup with
// t.Cleanup.
type Factory func(t *testing.T) (stream.Sink, Target)

// Options says what the sink promises.
type Options struct {
	// NoIDs: the sink's protocol carries no message id.
	NoIDs bool
	// NoReject: the target cannot refuse messages for good (an MQTT
	// subscriber), even if it implements Rejecter.
	NoReject bool
	// Params lists the parameters the target gets back unchanged (a sink
	// that maps parameters to another protocol's fields keeps only some);
	// nil means every parameter of the test messages.
	Params []string
	// Timeout bounds each subtest's wait for deliveries; 0 means 30 s.
	Timeout time.Duration
}

// Run runs the suite as subtests of t.
func Run(t *testing.T, f Factory, opts Options) {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	h := &harness{f: f, opts: opts}
	t.Run("OrderAndIDs", h.testOrder)
	t.Run("TargetDownThenBack", h.testDown)
	t.Run("TargetDownMidway", h.testDownMidway)
	t.Run("Reject", h.testReject)
	t.Run("Restart", h.testRestart)
}

type harness struct {
	f    Factory
	opts Options
}

// Message returns the i-th test message of device ident: a position with
// the parameters every sink must carry.
func Message(ident string, i int) protocol.Message {
	var m protocol.Message
	m.SetString(protocol.ParamIdent, ident)
	m.SetFloat(protocol.ParamTimestamp, 1.7e9+float64(i))
	m.SetFloat(protocol.ParamLatitude, 54.5+float64(i%1000)/10000)
	m.SetFloat(protocol.ParamLongitude, 25.25+float64(i%1000)/10000)
	m.SetFloat(protocol.ParamAltitude, 120)
	m.SetFloat(protocol.ParamSpeed, float64(i%120))
	m.SetFloat(protocol.ParamDirection, float64(i%360))
	m.SetInt(protocol.ParamSatellites, 9)
	m.SetFloat("external.powersource.voltage", 12.5)
	m.SetInt("din", int64(i%4))
	return m
}

type env struct {
	t      *testing.T
	h      *harness
	log    store.Log
	dl     store.Log
	sink   stream.Sink
	target Target
	sent   []protocol.Message // in log order
	cancel context.CancelFunc
	done   chan error
	s      *stream.Stream
}

func (h *harness) start(t *testing.T) *env {
	sink, target := h.f(t)
	e := &env{t: t, h: h, log: memory.New(nil).Log(), dl: memory.New(nil).Log(), sink: sink, target: target}
	t.Cleanup(e.stop)
	return e
}

func (e *env) appendMessages(devices, each int) {
	e.t.Helper()
	var batch []protocol.Message
	for i := 0; i < each; i++ {
		for d := 0; d < devices; d++ {
			batch = append(batch, Message(fmt.Sprintf("35630704244%04d", d), len(e.sent)/devices+i))
		}
	}
	if _, err := e.log.Append(context.Background(), batch); err != nil {
		e.t.Fatal(err)
	}
	e.sent = append(e.sent, batch...)
}

func (e *env) run(cfg stream.Config) {
	e.t.Helper()
	cfg.Name = "conformance"
	cfg.StartAt = stream.StartOldest
	cfg.RetryMin, cfg.RetryMax = 5*time.Millisecond, 50*time.Millisecond
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	cfg.DeadLetter = e.dl
	s, err := stream.New(e.log, e.sink, &cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- s.Run(ctx) }()
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			e.t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		e.t.Error("Run did not return 30 s after cancel")
	}
	e.cancel = nil
}

// waitCommitted waits until the stream committed everything sent.
func (e *env) waitCommitted() {
	e.t.Helper()
	want := uint64(len(e.sent)) + 1
	deadline := time.Now().Add(e.h.opts.Timeout)
	for time.Now().Before(deadline) {
		if n, err := e.log.Cursor(context.Background(), e.s.Consumer()); err == nil && n >= want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	n, _ := e.log.Cursor(context.Background(), e.s.Consumer())
	e.t.Fatalf("stream committed up to %d of %d messages in %v (stats %+v; target holds %d)",
		n-1, len(e.sent), e.h.opts.Timeout, e.s.Stats(), len(e.target.Received()))
}

// check verifies that the target received every sent message except those
// in skip (by log index), first occurrences in log order, and that every
// duplicate repeats an earlier delivery exactly (same id, same content).
func (e *env) check(skip map[int]bool) {
	e.t.Helper()
	// A broker acknowledges a message before its subscribers get it: the
	// target may still be receiving what the stream has committed.
	deadline := time.Now().Add(e.h.opts.Timeout)
	for {
		incomplete, err := e.verify(skip)
		if err == nil {
			return
		}
		if !incomplete || time.Now().After(deadline) {
			e.t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// verify is one pass of check; incomplete reports that what the target
// holds is right so far but not all.
func (e *env) verify(skip map[int]bool) (incomplete bool, err error) {
	got := e.target.Received()
	logID := store.LogID(e.log)
	seen := map[string]int{} // content key → index in got of first occurrence
	next := 0                // next expected index in e.sent
	for i := range got {
		r := &got[i]
		key := e.key(&r.Message)
		if j, dup := seen[key]; dup {
			if r.ID != got[j].ID {
				return false, fmt.Errorf("duplicate of message #%d carries id %q, first delivery had %q", j, r.ID, got[j].ID)
			}
			continue
		}
		for skip[next] {
			next++
		}
		if next >= len(e.sent) {
			return false, fmt.Errorf("target received an unexpected message #%d: %s", i, r.Message.String())
		}
		want := &e.sent[next]
		if k := e.key(want); k != key {
			return false, fmt.Errorf("message #%d out of order or altered:\n got %s\nwant %s", i, r.Message.String(), want.String())
		}
		if !e.h.opts.NoIDs {
			if wantID := fmt.Sprintf("%s:%d", logID, next+1); r.ID != wantID {
				return false, fmt.Errorf("message #%d has id %q, want %q", i, r.ID, wantID)
			}
		}
		seen[key] = i
		next++
	}
	for skip[next] {
		next++
	}
	if next != len(e.sent) {
		return true, fmt.Errorf("target received %d of %d messages", next, len(e.sent))
	}
	return false, nil
}

// key is the comparable content of a message: the parameters the target
// gets back, with numbers compared as the target sees them.
func (e *env) key(m *protocol.Message) string {
	params := e.h.opts.Params
	if params == nil {
		params = paramNames
	}
	var b []byte
	for _, p := range params {
		v, ok := m.Lookup(p)
		if !ok {
			b = append(b, p...)
			b = append(b, "=<absent>;"...)
			continue
		}
		b = append(b, p...)
		b = append(b, '=')
		if f, ok := v.Float(); ok {
			b = fmt.Appendf(b, "%.5f", f)
		} else {
			b = v.AppendJSON(b)
		}
		b = append(b, ';')
	}
	return string(b)
}

var paramNames = func() []string {
	m := Message("x", 0)
	var names []string
	for n := range m.All() {
		names = append(names, n)
	}
	return names
}()

func (h *harness) testOrder(t *testing.T) {
	e := h.start(t)
	e.appendMessages(3, 100)
	e.run(stream.Config{MaxBatch: 64})
	e.appendMessages(3, 100) // while running
	e.waitCommitted()
	e.check(nil)
	st := e.s.Stats()
	if st.Accepted != int64(len(e.sent)) || st.Rejected != 0 {
		t.Fatalf("stats: accepted %d rejected %d, want %d 0", st.Accepted, st.Rejected, len(e.sent))
	}
}

func (h *harness) testDown(t *testing.T) {
	e := h.start(t)
	e.target.SetDown(true)
	e.appendMessages(2, 50)
	e.run(stream.Config{MaxBatch: 20})
	deadline := time.Now().Add(h.opts.Timeout)
	for e.s.Stats().Retries < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no retries while the target is down: %+v", e.s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(e.target.Received()); n != 0 {
		t.Fatalf("a down target received %d messages", n)
	}
	e.appendMessages(2, 50)
	e.target.SetDown(false)
	e.waitCommitted()
	e.check(nil)
	if st := e.s.Stats(); st.Accepted != int64(len(e.sent)) || st.LastError != "" {
		t.Fatalf("stats after recovery %+v", st)
	}
}

func (h *harness) testDownMidway(t *testing.T) {
	e := h.start(t)
	e.run(stream.Config{MaxBatch: 10})
	e.appendMessages(1, 40)
	e.waitCommitted()
	e.target.SetDown(true)
	e.appendMessages(1, 40)
	deadline := time.Now().Add(h.opts.Timeout)
	for e.s.Stats().Retries < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no retries while the target is down: %+v", e.s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.target.SetDown(false)
	e.appendMessages(1, 40)
	e.waitCommitted()
	e.check(nil)
}

func (h *harness) testReject(t *testing.T) {
	e := h.start(t)
	rej, ok := e.target.(Rejecter)
	if !ok || h.opts.NoReject {
		t.Skip("target cannot refuse messages")
	}
	e.appendMessages(1, 50)
	bad := 17
	refusedSpeed, _ := e.sent[bad].Float(protocol.ParamSpeed)
	refusedTime, _ := e.sent[bad].Float(protocol.ParamTimestamp)
	rej.Reject(func(m *protocol.Message) bool {
		ts, _ := m.Float(protocol.ParamTimestamp)
		sp, _ := m.Float(protocol.ParamSpeed)
		return ts == refusedTime && sp == refusedSpeed
	})
	e.run(stream.Config{MaxBatch: 50})
	e.waitCommitted()
	e.check(map[int]bool{bad: true})
	st := e.s.Stats()
	if st.Rejected != 1 || st.DeadLettered != 1 || st.Accepted != int64(len(e.sent)-1) {
		t.Fatalf("stats %+v, want 1 rejected and dead-lettered, %d accepted", st, len(e.sent)-1)
	}
	recs, err := e.dl.Read(context.Background(), 1, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("dead-letter log holds %d records (%v), want 1", len(recs), err)
	}
	if ts, _ := recs[0].Message.Float(protocol.ParamTimestamp); ts != refusedTime {
		t.Fatalf("dead-lettered the wrong message: %s", recs[0].Message.String())
	}
}

func (h *harness) testRestart(t *testing.T) {
	e := h.start(t)
	e.appendMessages(2, 60)
	e.run(stream.Config{MaxBatch: 15})
	deadline := time.Now().Add(h.opts.Timeout)
	for len(e.target.Received()) < 30 {
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered")
		}
		time.Sleep(time.Millisecond)
	}
	e.stop()
	e.appendMessages(2, 60)
	e.run(stream.Config{MaxBatch: 15})
	e.waitCommitted()
	e.check(nil)
}

// Collector is a ready Target for tests that decode what their server
// received: Add records messages, SetDown and Down share the down flag with
// the server, Reject and Refused the refusal rule.
type Collector struct {
	mu     sync.Mutex
	got    []Received
	down   bool
	refuse func(m *protocol.Message) bool
}

// Add records received messages.
func (c *Collector) Add(r ...Received) {
	c.mu.Lock()
	c.got = append(c.got, r...)
	c.mu.Unlock()
}

// Received implements Target.
func (c *Collector) Received() []Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Received(nil), c.got...)
}

// SetDown implements Target.
func (c *Collector) SetDown(down bool) {
	c.mu.Lock()
	c.down = down
	c.mu.Unlock()
}

// Down reports whether the server should fail what it is sent.
func (c *Collector) Down() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.down
}

// Reject implements Rejecter.
func (c *Collector) Reject(refuse func(m *protocol.Message) bool) {
	c.mu.Lock()
	c.refuse = refuse
	c.mu.Unlock()
}

// Refused reports whether the server should refuse m for good.
func (c *Collector) Refused(m *protocol.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refuse != nil && c.refuse(m)
}
