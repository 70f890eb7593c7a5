package mqttsink_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/internal/testproxy"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/mqttsink"
	"github.com/gnssgate/gnssgate/stream/streamtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// subscriber is the suite's Target: a real subscriber that decodes every
// message and keeps its message_id; SetDown is delegated.
type subscriber struct {
	streamtest.Collector
	setDown func(bool)
	mu      sync.Mutex
	bad     []string // properties that were not as the sink promises
	topics  []string
}

func (s *subscriber) SetDown(down bool) { s.setDown(down) }

func (s *subscriber) handle(_ context.Context, m broker.Message) error {
	var msg protocol.Message
	if err := msg.UnmarshalJSON(m.Payload); err != nil {
		s.mu.Lock()
		s.bad = append(s.bad, fmt.Sprintf("payload %q: %v", m.Payload, err))
		s.mu.Unlock()
		return nil
	}
	id, _ := m.Properties.UserProperty(mqttsink.PropertyMessageID)
	st, _ := m.Properties.UserProperty(mqttsink.PropertyStream)
	s.mu.Lock()
	if m.Properties.ContentType != "application/json" || st == "" || id == "" || m.QoS != 1 {
		s.bad = append(s.bad, fmt.Sprintf("content type %q, stream %q, id %q, QoS %d", m.Properties.ContentType, st, id, m.QoS))
	}
	s.topics = append(s.topics, m.Topic)
	s.mu.Unlock()
	s.Add(streamtest.Received{ID: id, Message: msg})
	return nil
}

func (s *subscriber) check(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) > 0 {
		t.Fatalf("%d messages not as promised, first: %s", len(s.bad), s.bad[0])
	}
}

// mosquitto connects a publisher through a proxy (SetDown cuts it) and a
// subscriber directly, both with broker/paho.
func mosquitto(t *testing.T, prefix string) (pub broker.Broker, sub *subscriber) {
	addr := testenv.MQTTAddr(t)
	px := testproxy.New(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := paho.New(ctx, paho.Config{Server: px.Addr(), ReconnectMin: 5 * time.Millisecond,
		ReconnectMax: 50 * time.Millisecond, ConnectTimeout: time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, err := paho.New(ctx, paho.Config{Server: addr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sub = &subscriber{setDown: px.SetDown}
	if _, err := s.Subscribe(ctx, prefix+"#", broker.HandlerFunc(sub.handle)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.check(t) })
	return p, sub
}

func prefix() string { return "gnssgate-test/" + uuid.NewString() + "/" }

func TestConformanceMosquitto(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		pre := prefix()
		pub, sub := mosquitto(t, pre)
		sink, err := mqttsink.New(&mqttsink.Config{Broker: pub, Topic: pre + "messages", PublishTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return sink, sub
	}, streamtest.Options{NoReject: true})
}

// With a topic per device and MaxInFlight 1 the broker sees the whole
// batch in log order, across topics too.
func TestConformanceMosquittoSerialTopicPerDevice(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		pre := prefix()
		pub, sub := mosquitto(t, pre)
		sink, err := mqttsink.New(&mqttsink.Config{Broker: pub, Topic: pre + "%ident%/messages",
			MaxInFlight: 1, PublishTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return sink, sub
	}, streamtest.Options{NoReject: true})
}

// downable is the in-process broker's fault injection: there is no
// connection to cut, so while down Publish fails with what broker/paho
// returns when its connection is down. Delivery is the real broker's.
type downable struct {
	broker.Broker
	down atomic.Bool
}

func (d *downable) Publish(ctx context.Context, m broker.Message) error {
	if d.down.Load() {
		return fmt.Errorf("test: broker down: %w", broker.ErrNotConnected)
	}
	return d.Broker.Publish(ctx, m)
}

func TestConformanceEmbedded(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		srv := embedded.New(&embedded.Config{Logger: quiet})
		t.Cleanup(func() { srv.Close() })
		d := &downable{Broker: srv}
		sub := &subscriber{setDown: d.down.Store}
		if _, err := srv.Subscribe(context.Background(), "out/#", broker.HandlerFunc(sub.handle)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.check(t) })
		sink, err := mqttsink.New(&mqttsink.Config{Broker: d, Topic: "out/messages"})
		if err != nil {
			t.Fatal(err)
		}
		return sink, sub
	}, streamtest.Options{NoReject: true})
}

// counting records how many publishes run at once.
type counting struct {
	broker.Broker
	now, peak atomic.Int64
	delay     time.Duration
}

func (c *counting) Publish(ctx context.Context, m broker.Message) error {
	n := c.now.Add(1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	defer c.now.Add(-1)
	time.Sleep(c.delay)
	return c.Broker.Publish(ctx, m)
}

// runStream streams msgs through sink until all are committed.
func runStream(t *testing.T, sink stream.Sink, msgs []protocol.Message, cfg stream.Config) *stream.Stream {
	t.Helper()
	cfg.Logger = quiet
	return streamtest.Deliver(t, sink, msgs, cfg)
}

func fleet(devices, each int) []protocol.Message {
	var msgs []protocol.Message
	for i := 0; i < each; i++ {
		for d := 0; d < devices; d++ {
			msgs = append(msgs, streamtest.Message(fmt.Sprintf("dev%02d", d), i))
		}
	}
	return msgs
}

// perDeviceOrder checks every device's messages arrived once each, in
// order of their timestamps, and returns how many arrived.
func perDeviceOrder(t *testing.T, got []streamtest.Received, devices, each int) {
	t.Helper()
	last := map[string]float64{}
	count := map[string]int{}
	for _, r := range got {
		id := r.Message.Ident()
		ts, _ := r.Message.Float(protocol.ParamTimestamp)
		if prev, ok := last[id]; ok && ts <= prev {
			t.Fatalf("device %s: timestamp %v after %v", id, ts, prev)
		}
		last[id] = ts
		count[id]++
	}
	if len(count) != devices {
		t.Fatalf("%d devices arrived, want %d", len(count), devices)
	}
	for id, n := range count {
		if n != each {
			t.Fatalf("device %s: %d messages, want %d", id, n, each)
		}
	}
}

// With a topic per device, messages of different devices are in flight
// together and each device's arrive in log order.
func TestPipelinedPerTopicOrder(t *testing.T) {
	pre := prefix()
	pub, sub := mosquitto(t, pre)
	c := &counting{Broker: pub, delay: time.Millisecond}
	sink, err := mqttsink.New(&mqttsink.Config{Broker: c, Topic: pre + "%ident%"})
	if err != nil {
		t.Fatal(err)
	}
	runStream(t, sink, fleet(20, 25), stream.Config{MaxBatch: 500})
	deadline := time.Now().Add(10 * time.Second)
	for len(sub.Received()) < 500 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	perDeviceOrder(t, sub.Received(), 20, 25)
	if p := c.peak.Load(); p < 10 {
		t.Fatalf("at most %d publishes in flight with 20 topics", p)
	}
	// One topic: never two at once.
	c2 := &counting{Broker: pub}
	sink2, _ := mqttsink.New(&mqttsink.Config{Broker: c2, Topic: pre + "all"})
	runStream(t, sink2, fleet(5, 20), stream.Config{MaxBatch: 100})
	if p := c2.peak.Load(); p != 1 {
		t.Fatalf("%d publishes in flight on one topic", p)
	}
}

// The broker goes down in the middle of a pipelined batch: what was
// acknowledged is accepted, the rest retried, and every device's messages
// still arrive in order (duplicates aside).
func TestDownMidBatchKeepsTopicOrder(t *testing.T) {
	addr := testenv.MQTTAddr(t)
	pre := prefix()
	px := testproxy.New(t, addr)
	ctx := context.Background()
	pub, err := paho.New(ctx, paho.Config{Server: px.Addr(), ReconnectMin: 5 * time.Millisecond,
		ReconnectMax: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	s, err := paho.New(ctx, paho.Config{Server: addr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub := &subscriber{setDown: px.SetDown}
	if _, err := s.Subscribe(ctx, pre+"#", broker.HandlerFunc(sub.handle)); err != nil {
		t.Fatal(err)
	}
	var published atomic.Int64
	hook := &hookBroker{Broker: pub, after: func() {
		if published.Add(1) == 150 {
			px.SetDown(true)
			time.AfterFunc(time.Second, func() { px.SetDown(false) })
		}
	}}
	sink, _ := mqttsink.New(&mqttsink.Config{Broker: hook, Topic: pre + "%ident%", PublishTimeout: 300 * time.Millisecond})
	st := runStream(t, sink, fleet(10, 40), stream.Config{MaxBatch: 400}).Stats()
	if st.Retries == 0 {
		t.Fatalf("the cut caused no retry: %+v", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := sub.Received()
		seen := map[string]bool{}
		for _, r := range got {
			seen[r.ID] = true
		}
		if len(seen) == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d distinct messages arrived, want 400", len(seen))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Drop duplicates (same id), then check each device's order.
	var uniq []streamtest.Received
	seen := map[string]bool{}
	for _, r := range sub.Received() {
		if !seen[r.ID] {
			seen[r.ID] = true
			uniq = append(uniq, r)
		}
	}
	perDeviceOrder(t, uniq, 10, 40)
}

type hookBroker struct {
	broker.Broker
	after func()
}

func (h *hookBroker) Publish(ctx context.Context, m broker.Message) error {
	err := h.Broker.Publish(ctx, m)
	h.after()
	return err
}

// Messages whose topic cannot be made are refused for good; the rest are
// delivered.
func TestTopicMasks(t *testing.T) {
	srv := embedded.New(&embedded.Config{Logger: quiet})
	defer srv.Close()
	sub := &subscriber{}
	srv.Subscribe(context.Background(), "d/#", broker.HandlerFunc(sub.handle))
	sink, err := mqttsink.New(&mqttsink.Config{Broker: srv, Topic: "d/%channel.id%/%ident%"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fleet(1, 6)
	for i := range msgs {
		msgs[i].SetInt(protocol.ParamChannelID, 7)
	}
	msgs[1].Delete(protocol.ParamChannelID)        // missing
	msgs[2].SetString(protocol.ParamIdent, "a/b")  // would add a level
	msgs[3].SetString(protocol.ParamIdent, "x+y")  // a wildcard
	msgs[4].SetString(protocol.ParamIdent, "ok-1") // fine
	st := runStream(t, sink, msgs, stream.Config{OnReject: stream.RejectSkip}).Stats()
	if st.Rejected != 3 || st.Accepted != 3 {
		t.Fatalf("stats %+v, want 3 rejected, 3 accepted", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(sub.Received()) < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	sub.mu.Lock()
	topics := slices.Sorted(slices.Values(sub.topics))
	sub.mu.Unlock()
	if got := strings.Join(topics, " "); got != "d/7/dev00 d/7/dev00 d/7/ok-1" {
		t.Fatalf("topics %q", got)
	}
}

func TestNewRejectsBadTemplates(t *testing.T) {
	srv := embedded.New(&embedded.Config{Logger: quiet})
	defer srv.Close()
	for _, tmpl := range []string{"", "a/#/b", "a/+", "x\x00"} {
		if _, err := mqttsink.New(&mqttsink.Config{Broker: srv, Topic: tmpl}); !errors.Is(err, mqttsink.ErrBadTopic) {
			t.Errorf("New(%q) = %v", tmpl, err)
		}
	}
	if _, err := mqttsink.New(&mqttsink.Config{Topic: "a"}); err == nil {
		t.Error("New without a Broker accepted")
	}
}

// A broker that refuses the topic (PUBACK 0x87, not authorized) refuses
// the message for good: here the embedded broker over TCP with a token
// that may publish only under "allowed/", and broker/paho as the client.
func TestNotAuthorizedIsPermanent(t *testing.T) {
	var tokens embedded.TokenStore
	tokens.Set("tok", &embedded.Token{Name: "stream", Publish: []string{"allowed/#"}, Subscribe: []string{"#"}})
	srv := embedded.New(&embedded.Config{Authenticator: &tokens, Logger: quiet})
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, ln)
	pub, err := paho.New(ctx, paho.Config{Server: ln.Addr().String(), Username: "tok", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub := &subscriber{}
	srv.Subscribe(ctx, "#", broker.HandlerFunc(sub.handle))
	sink, _ := mqttsink.New(&mqttsink.Config{Broker: pub, Topic: "%custom.area%/%ident%"})
	msgs := fleet(1, 4)
	for i := range msgs {
		msgs[i].SetString("custom.area", []string{"allowed", "forbidden"}[i%2])
	}
	dl := memory.New(nil).Log()
	st := runStream(t, sink, msgs, stream.Config{DeadLetter: dl}).Stats()
	if st.Accepted != 2 || st.DeadLettered != 2 || st.Retries != 0 {
		t.Fatalf("stats %+v, want 2 accepted, 2 dead-lettered", st)
	}
	recs, _ := dl.Read(ctx, 1, 5)
	if r, _ := recs[0].Message.Str(stream.ParamRejectReason); !strings.Contains(r, "not authorized") {
		t.Fatalf("reason %q", r)
	}
}

// Retain: a subscriber that comes later gets each topic's last message.
func TestRetain(t *testing.T) {
	srv := embedded.New(&embedded.Config{Logger: quiet})
	defer srv.Close()
	sink, _ := mqttsink.New(&mqttsink.Config{Broker: srv, Topic: "last/%ident%", Retain: true})
	runStream(t, sink, fleet(2, 3), stream.Config{})
	sub := &subscriber{}
	srv.Subscribe(context.Background(), "last/+", broker.HandlerFunc(sub.handle))
	deadline := time.Now().Add(5 * time.Second)
	for len(sub.Received()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := sub.Received()
	if len(got) != 2 {
		t.Fatalf("a late subscriber got %d retained messages, want 2", len(got))
	}
	for _, r := range got {
		if ts, _ := r.Message.Float(protocol.ParamTimestamp); ts != 1.7e9+2 {
			t.Fatalf("retained %s, want each device's last", r.Message.String())
		}
	}
}

// batchOf makes a batch the way the stream hands one to a sink: message i
// is for device idents[i], its JSON encoded, its sequence number i+1.
func batchOf(t *testing.T, idents ...string) *stream.Batch {
	t.Helper()
	b := &stream.Batch{Stream: "test"}
	for i, id := range idents {
		m := streamtest.Message(id, i)
		js, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		b.Messages = append(b.Messages, stream.Message{Seq: uint64(i + 1), Message: &m, JSON: js})
	}
	return b
}

// gated holds every publish to topic Hold until Release is closed, and
// records the order in which publishes are made, by message_id.
type gated struct {
	broker.Broker
	Hold    string
	Release chan struct{}
	Fail    string // message_id whose publish fails, as a lost connection does
	mu      sync.Mutex
	order   []string
}

func (g *gated) Publish(ctx context.Context, m broker.Message) error {
	id, _ := m.Properties.UserProperty(mqttsink.PropertyMessageID)
	g.mu.Lock()
	g.order = append(g.order, m.Topic+" "+id)
	g.mu.Unlock()
	if m.Topic == g.Hold {
		select {
		case <-g.Release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if id == g.Fail {
		return fmt.Errorf("test: %w", broker.ErrNotConnected)
	}
	return g.Broker.Publish(ctx, m)
}

func (g *gated) published() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.order)
}

// A topic whose publish is slow holds back only its own later messages:
// the other topics' messages behind them in the batch overtake them.
func TestPipelinedOvertakesBlockedTopic(t *testing.T) {
	srv := embedded.New(&embedded.Config{Logger: quiet})
	defer srv.Close()
	g := &gated{Broker: srv, Hold: "d/slow", Release: make(chan struct{})}
	sink, err := mqttsink.New(&mqttsink.Config{Broker: g, Topic: "d/%ident%", MaxInFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	idents := []string{"slow", "slow", "slow"}
	for d := range 30 {
		idents = append(idents, fmt.Sprintf("fast%02d", d))
	}
	b := batchOf(t, idents...)
	done := make(chan error, 1)
	go func() { done <- sink.Write(context.Background(), b) }()
	// Every fast message is published while the first slow one is held.
	deadline := time.Now().Add(10 * time.Second)
	for len(g.published()) < 31 {
		if time.Now().After(deadline) {
			t.Fatalf("with the slow topic held, published only %q", g.published())
		}
		time.Sleep(time.Millisecond)
	}
	for _, p := range g.published() {
		if p == "d/slow :2" || p == "d/slow :3" {
			t.Fatalf("%q published before the topic's first message was acknowledged", p)
		}
	}
	close(g.Release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var slow []string
	for _, p := range g.published() {
		if strings.HasPrefix(p, "d/slow ") {
			slow = append(slow, p)
		}
	}
	if got := strings.Join(slow, ","); got != "d/slow :1,d/slow :2,d/slow :3" {
		t.Fatalf("slow topic published as %s", got)
	}
	if n := len(g.published()); n != len(idents) {
		t.Fatalf("%d publishes for %d messages", n, len(idents))
	}
}

// A retriable failure stops the batch: the failed message and every
// message not yet published are reported failed, nothing of the failed
// message's topic is published after it, and what each topic had
// acknowledged is a prefix of its messages, so a retry keeps the order.
// (How far the other topics got before the failure depends on
// scheduling.)
func TestPipelinedFailureStopsBatch(t *testing.T) {
	srv := embedded.New(&embedded.Config{Logger: quiet})
	defer srv.Close()
	var idents []string
	for range 20 {
		idents = append(idents, "a", "b", "c")
	}
	g := &gated{Broker: srv, Fail: ":11"} // the fourth message of "b"
	sink, err := mqttsink.New(&mqttsink.Config{Broker: g, Topic: "d/%ident%", MaxInFlight: 3})
	if err != nil {
		t.Fatal(err)
	}
	b := batchOf(t, idents...)
	err = sink.Write(context.Background(), b)
	var be *stream.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write = %v, want a *stream.BatchError", err)
	}
	if e := be.Err(10); !errors.Is(e, broker.ErrNotConnected) || stream.IsPermanent(e) {
		t.Fatalf("the failed message: %v", e)
	}
	for _, p := range g.published() {
		var seq int
		fmt.Sscanf(p[strings.Index(p, ":")+1:], "%d", &seq)
		if strings.HasPrefix(p, "d/b ") && seq > 11 {
			t.Fatalf("%q published after the topic's failure", p)
		}
	}
	for _, topic := range []string{"a", "b", "c"} {
		failed := false
		for i, id := range idents {
			if id != topic {
				continue
			}
			e := be.Err(i)
			if e != nil && stream.IsPermanent(e) {
				t.Fatalf("message %d: %v, want retriable", i, e)
			}
			if failed && e == nil {
				t.Fatalf("topic %s: message %d accepted after an earlier one failed", topic, i)
			}
			failed = failed || e != nil
		}
	}
}

// A batch whose context ends while a publish hangs returns, with that
// message and every one not yet published failed (retriable), and no
// worker left behind.
func TestPipelinedContextEnds(t *testing.T) {
	srv := embedded.New(&embedded.Config{Logger: quiet})
	defer srv.Close()
	g := &gated{Broker: srv, Hold: "d/stuck", Release: make(chan struct{})}
	sink, err := mqttsink.New(&mqttsink.Config{Broker: g, Topic: "d/%ident%", MaxInFlight: 8})
	if err != nil {
		t.Fatal(err)
	}
	idents := []string{"stuck", "stuck"}
	for d := range 5 {
		idents = append(idents, fmt.Sprintf("ok%d", d))
	}
	idents = append(idents, "stuck")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = sink.Write(ctx, batchOf(t, idents...))
	var be *stream.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write = %v, want a *stream.BatchError", err)
	}
	for i, id := range idents {
		e := be.Err(i)
		switch {
		case id == "stuck" && (e == nil || stream.IsPermanent(e)):
			t.Fatalf("message %d (%s): %v, want a retriable failure", i, id, e)
		case id != "stuck" && e != nil:
			t.Fatalf("message %d (%s): %v, want accepted", i, id, e)
		}
	}
	if !errors.Is(be.Err(0), context.DeadlineExceeded) {
		t.Fatalf("the hung publish: %v", be.Err(0))
	}
}
