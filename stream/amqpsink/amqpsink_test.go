package amqpsink_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/internal/testproxy"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/amqpsink"
	"github.com/gnssgate/gnssgate/stream/streamtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// rabbit is a test's view of the broker: its URL, a URL through a proxy
// the test cuts, and a connection for declaring and consuming.
type rabbit struct {
	url, proxied string
	proxy        *testproxy.Proxy
	conn         *amqp.Connection
	ch           *amqp.Channel
}

func newRabbit(t testing.TB) *rabbit {
	raw := testenv.AMQPURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	px := testproxy.New(t, u.Host)
	pu := *u
	pu.Host = px.Addr()
	conn, err := amqp.Dial(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return &rabbit{url: raw, proxied: pu.String(), proxy: px, conn: conn, ch: ch}
}

// queue declares a queue that goes away with the test's connection.
func (r *rabbit) queue(t testing.TB, args amqp.Table) string {
	name := "gnssgate-test-" + uuid.NewString()
	if _, err := r.ch.QueueDeclare(name, false, false, true, false, args); err != nil {
		t.Fatal(err)
	}
	return name
}

// consumer is the suite's Target: a real consumer on a queue that
// decodes each message and keeps its AMQP message id.
type consumer struct {
	streamtest.Collector
	setDown func(bool)
	mu      sync.Mutex
	bad     []string
	keys    []string
}

func (c *consumer) SetDown(down bool) { c.setDown(down) }

func (r *rabbit) consume(t testing.TB, queue string) *consumer {
	c, err := r.startConsumer(queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.check(t) })
	return c
}

// startConsumer consumes queue on a channel of its own.
func (r *rabbit) startConsumer(queue string) (*consumer, error) {
	ch, err := r.conn.Channel()
	if err != nil {
		return nil, err
	}
	deliveries, err := ch.Consume(queue, "", false, true, false, false, nil)
	if err != nil {
		return nil, err
	}
	c := &consumer{setDown: r.proxy.SetDown}
	go func() {
		for d := range deliveries {
			var m protocol.Message
			err := m.UnmarshalJSON(d.Body)
			st, _ := d.Headers[amqpsink.HeaderStream].(string)
			c.mu.Lock()
			if err != nil || d.ContentType != "application/json" || d.MessageId == "" || st == "" || d.DeliveryMode != amqp.Persistent || d.AppId != "gnssgate" {
				c.bad = append(c.bad, fmt.Sprintf("body %q (%v), content type %q, id %q, stream %q, mode %d", d.Body, err, d.ContentType, d.MessageId, st, d.DeliveryMode))
			}
			c.keys = append(c.keys, d.RoutingKey)
			c.mu.Unlock()
			if err == nil {
				c.Add(streamtest.Received{ID: d.MessageId, Message: m})
			}
			d.Ack(false)
		}
	}()
	return c, nil
}

// check fails t if a delivery was not as the sink promises.
func (c *consumer) check(t testing.TB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		t.Errorf("%d deliveries not as the sink promises, first: %s", len(c.bad), c.bad[0])
	}
}

func TestConformance(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		r := newRabbit(t)
		q := r.queue(t, nil)
		c := r.consume(t, q)
		sink, err := amqpsink.New(&amqpsink.Config{URL: r.proxied, RoutingKey: q, DialTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sink.Close() })
		return sink, c
	}, streamtest.Options{NoReject: true})
}

// Through a topic exchange with a routing key per device.
func TestConformanceTopicExchange(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		r := newRabbit(t)
		x := "gnssgate-test-x-" + uuid.NewString()
		if err := r.ch.ExchangeDeclare(x, "topic", false, true, false, false, nil); err != nil {
			t.Fatal(err)
		}
		q := r.queue(t, nil)
		if err := r.ch.QueueBind(q, "fleet.#", x, false, nil); err != nil {
			t.Fatal(err)
		}
		c := r.consume(t, q)
		sink, err := amqpsink.New(&amqpsink.Config{URL: r.proxied, Exchange: x, RoutingKey: "fleet.%ident%", DialTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sink.Close() })
		return sink, c
	}, streamtest.Options{NoReject: true})
}

// runStream streams msgs through sink until all are committed.
func runStream(t *testing.T, sink stream.Sink, msgs []protocol.Message, cfg stream.Config) *stream.Stream {
	t.Helper()
	cfg.Logger = quiet
	return streamtest.Deliver(t, sink, msgs, cfg)
}

func messages(n int) []protocol.Message {
	msgs := make([]protocol.Message, n)
	for i := range msgs {
		msgs[i] = streamtest.Message("356307042441013", i)
	}
	return msgs
}

// waitDistinct waits until the consumer holds n distinct ids and checks
// they came in order (duplicates aside).
func waitDistinct(t *testing.T, c *consumer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.Received()
		seen := map[string]bool{}
		last := 0.0
		for _, r := range got {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			ts, _ := r.Message.Float(protocol.ParamTimestamp)
			if ts <= last {
				t.Fatalf("message at %v after %v", ts, last)
			}
			last = ts
		}
		if len(seen) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer holds %d distinct messages, want %d", len(seen), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A message no queue takes comes back (mandatory): refused for good and
// dead-lettered with the broker's reason; the others are delivered.
func TestReturnedIsPermanent(t *testing.T) {
	r := newRabbit(t)
	x := "gnssgate-test-x-" + uuid.NewString()
	if err := r.ch.ExchangeDeclare(x, "direct", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	q := r.queue(t, nil)
	if err := r.ch.QueueBind(q, "ok", x, false, nil); err != nil {
		t.Fatal(err)
	}
	c := r.consume(t, q)
	sink, _ := amqpsink.New(&amqpsink.Config{URL: r.url, Exchange: x, RoutingKey: "%custom.route%"})
	defer sink.Close()
	msgs := messages(20)
	for i := range msgs {
		msgs[i].SetString("custom.route", "ok")
	}
	msgs[3].SetString("custom.route", "nowhere")
	msgs[11].SetString("custom.route", "nowhere")
	msgs[15].Delete("custom.route") // no routing key at all: refused before publishing
	dl := memory.New(nil).Log()
	st := runStream(t, sink, msgs, stream.Config{DeadLetter: dl}).Stats()
	if st.Accepted != 17 || st.DeadLettered != 3 || st.Retries != 0 {
		t.Fatalf("stats %+v, want 17 accepted, 3 dead-lettered, no retry", st)
	}
	waitDistinct(t, c, 17)
	recs, _ := dl.Read(context.Background(), 1, 5)
	var reasons []string
	for _, rec := range recs {
		reason, _ := rec.Message.Str(stream.ParamRejectReason)
		reasons = append(reasons, reason)
	}
	if len(reasons) != 3 || !strings.Contains(reasons[0], "NO_ROUTE") || !strings.Contains(reasons[1], "NO_ROUTE") || !strings.Contains(reasons[2], "custom.route") {
		t.Fatalf("reasons %q", reasons)
	}
}

// A queue that is full with overflow reject-publish nacks: the nacked
// messages are refused for good, the others accepted.
func TestNack(t *testing.T) {
	r := newRabbit(t)
	q := r.queue(t, amqp.Table{"x-max-length": int32(5), "x-overflow": "reject-publish"})
	sink, _ := amqpsink.New(&amqpsink.Config{URL: r.url, RoutingKey: q})
	defer sink.Close()
	st := runStream(t, sink, messages(12), stream.Config{OnReject: stream.RejectSkip}).Stats()
	if st.Accepted != 5 || st.Rejected != 7 {
		t.Fatalf("stats %+v, want 5 accepted and 7 rejected by a queue of 5", st)
	}
	// The batch came back as a BatchError naming the nacked ones.
	if _, err := r.ch.QueuePurge(q, false); err != nil {
		t.Fatal(err)
	}
	b := batch(8)
	err := sink.Write(context.Background(), b)
	var be *stream.BatchError
	if !errors.As(err, &be) || be.Len() != 3 || !errors.Is(be.Err(7), amqpsink.ErrNack) || !stream.IsPermanent(be.Err(5)) || be.Err(4) != nil {
		t.Fatalf("Write = %v, want messages 5..7 nacked for good", err)
	}

}

func batch(n int) *stream.Batch {
	l := memory.New(nil).Log()
	l.Append(context.Background(), messages(n))
	recs, _ := l.Read(context.Background(), 1, n)
	b := &stream.Batch{Stream: "t"}
	for i := range recs {
		m := &recs[i].Message
		b.Messages = append(b.Messages, stream.Message{Seq: recs[i].Seq, Message: m, JSON: m.AppendJSON(nil)})
	}
	return b
}

// The connection is cut in the middle of a large batch: confirmed
// messages are not lost, unconfirmed ones are sent again on a new
// connection, and the consumer sees the batch in order (duplicates, with
// the same id, aside).
func TestCutMidBatch(t *testing.T) {
	r := newRabbit(t)
	q := r.queue(t, nil)
	c := r.consume(t, q)
	sink, _ := amqpsink.New(&amqpsink.Config{URL: r.proxied, RoutingKey: q, DialTimeout: time.Second})
	defer sink.Close()
	// About a tenth of the way into the batch's bytes.
	r.proxy.CutAfter(80_000)
	var mu sync.Mutex
	var reports []stream.BatchReport
	onBatch := func(rep stream.BatchReport) {
		mu.Lock()
		reports = append(reports, rep)
		mu.Unlock()
	}
	st := runStream(t, sink, messages(1500), stream.Config{MaxBatch: 1500, OnBatch: onBatch}).Stats()
	if st.Retries == 0 {
		t.Fatalf("the cut caused no retry: %+v", st)
	}
	// The first Write accepts what was confirmed before the cut (often
	// nothing: the cut can come before any confirm is read) and fails the
	// rest; TestNack checks the accepted prefix deterministically.
	mu.Lock()
	first := reports[0]
	mu.Unlock()
	if first.Accepted+first.Failed != 1500 || first.Failed == 0 {
		t.Fatalf("first Write: %d accepted, %d failed", first.Accepted, first.Failed)
	}
	t.Logf("first Write: %d confirmed before the cut, %d sent again", first.Accepted, first.Failed)
	waitDistinct(t, c, 1500)
	if n := r.proxy.Accepted(); n < 2 {
		t.Fatalf("%d connections: the sink did not reconnect", n)
	}
}

// The broker stops answering (a dead network path): no confirm before the
// stream's write timeout, so the batch is retried on a new connection.
func TestNoConfirmTimesOut(t *testing.T) {
	r := newRabbit(t)
	q := r.queue(t, nil)
	c := r.consume(t, q)
	sink, _ := amqpsink.New(&amqpsink.Config{URL: r.proxied, RoutingKey: q, DialTimeout: time.Second})
	defer sink.Close()
	if err := sink.Write(context.Background(), batch(3)); err != nil {
		t.Fatal(err)
	}
	r.proxy.Pause(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	start := time.Now()
	err := sink.Write(ctx, batch(5))
	cancel()
	if err == nil || stream.IsPermanent(err) || time.Since(start) > 3*time.Second {
		t.Fatalf("Write against a silent broker = %v after %v", err, time.Since(start))
	}
	r.proxy.Pause(false)
	if err := sink.Write(context.Background(), batch(5)); err != nil {
		t.Fatalf("Write after the pause: %v", err)
	}
	if n := r.proxy.Accepted(); n != 2 {
		t.Fatalf("%d connections, want 2 (the silent one replaced)", n)
	}
	_ = c
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "http://x", "amqp://host:notaport/"} {
		if _, err := amqpsink.New(&amqpsink.Config{URL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

// A broker that cannot be reached is a retriable error.
func TestBrokerDown(t *testing.T) {
	r := newRabbit(t)
	r.proxy.SetDown(true)
	sink, _ := amqpsink.New(&amqpsink.Config{URL: r.proxied, RoutingKey: "x", DialTimeout: 500 * time.Millisecond})
	defer sink.Close()
	if err := sink.Write(context.Background(), batch(2)); err == nil || stream.IsPermanent(err) {
		t.Fatalf("Write to a down broker = %v, want a retriable error", err)
	}
}
