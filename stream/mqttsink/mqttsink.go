// Package mqttsink is the MQTT [stream.Sink]: each message is published
// with QoS 1 to a topic made from a template, through the [broker.Broker]
// contract — broker/paho for any external MQTT 5 broker (Mosquitto, EMQX,
// flespi…), broker/embedded for the broker in this process. It is
// flespi's MQTT stream.
//
//	b, err := paho.New(ctx, paho.Config{Server: "mqtt://broker.example:1883", ClientID: "gateway-stream"})
//	sink, err := mqttsink.New(&mqttsink.Config{Broker: b, Topic: "fleet/%ident%/messages"})
//
// # What is published
//
// The payload is the message's JSON as the stream encodes it
// ([stream.Message.JSON]: flat flespi names, or nested when the stream's
// Convert says so), with content type application/json and the MQTT 5
// payload format indicator "UTF-8". Two MQTT 5 user properties carry the
// message's stable id ("message_id", [stream.Message.ID]: the same for
// every delivery, so a subscriber drops the duplicates that at-least-once
// delivery allows) and the stream's name ("stream"). A broker that speaks
// only MQTT 3.1.1 drops properties; the id is then lost to subscribers.
//
// The topic template's masks, %name%, take a message's parameter:
// "%ident%", "%channel.id%", "%device.id%", any other. A message without
// the parameter, or whose value would change the topic's structure (it
// holds '/', '+', '#' or a zero byte) or is an invalid topic, is refused
// for good ([stream.Permanent]): no retry can deliver it. The stream's
// reject policy takes it; the others are delivered.
//
// # Acknowledgement
//
// A message is accepted when Broker.Publish returns nil: for QoS 1 that is
// the external broker's PUBACK (broker/paho), or the message routed to
// every subscriber's queue (broker/embedded). A PUBACK with a reason code
// that means "never" (not authorized, topic name invalid) refuses the
// message for good; any other failure — no connection, a timeout, a
// quota — is retried by the stream.
//
// # Order and pipelining
//
// MQTT promises order per topic (MQTT 5 §4.6: a server forwards the
// messages of one topic in the order it received them from a client), and
// the sink keeps exactly that: a message is published only after every
// earlier message of the batch on the same topic was acknowledged.
// Messages on different topics are published concurrently, up to
// Config.MaxInFlight at a time, earliest in the batch first; a message
// waiting for its topic's previous one does not hold back the messages of
// other topics behind it. With a topic per
// device ("fleet/%ident%/…", the templates' purpose) each device's messages
// arrive in the log's order while a batch of many devices costs a few
// round trips rather than one per message. With one fixed topic, or with
// MaxInFlight 1, the sink publishes one message at a time and the broker
// sees the whole batch in the log's order.
//
// Why not every message concurrently, whatever its topic? The
// broker.Broker contract has no ordered asynchronous publish, and the
// implementations do not order concurrent calls: in broker/paho each
// Publish takes the session's send quota and a packet id and writes its
// PUBLISH on its own goroutine, so concurrent calls reach the wire in
// scheduling order (measured against Mosquitto while building this
// package: 844 of 5,000 messages out of order with 64 in flight on one
// topic). broker/embedded's Publish returns once the message is routed,
// without a round trip, so serial publishing costs it nothing.
//
// When a publish fails with a retriable error, the sink issues nothing
// more: that message, the later messages of its topic and every message
// not yet issued are reported failed in a [*stream.BatchError] (the
// others, acknowledged, are accepted), so the retry keeps each topic's
// order. A publish whose PUBACK was lost with its connection may reach
// subscribers twice, with the same message_id.
package mqttsink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/internal/mask"
	"github.com/gnssgate/gnssgate/stream/internal/outcome"
)

// The MQTT 5 user properties the sink sets.
const (
	PropertyMessageID = "message_id"
	PropertyStream    = "stream"
)

// Config configures a [Sink]. Broker and Topic are required; every other
// field's zero value is documented.
type Config struct {
	// Broker publishes the messages: a *paho.Broker connected to an
	// external broker, or an *embedded.Server. The sink does not close it.
	Broker broker.Broker
	// Topic is the topic template, e.g. "fleet/%ident%/messages" (see the
	// package documentation).
	Topic string
	// MaxInFlight bounds the publishes in flight at once, each on a
	// different topic; 0 means 64. 1 publishes one message at a time, in
	// batch order across topics too.
	MaxInFlight int
	// PublishTimeout bounds each publish, the wait for a connection
	// included; 0 means only the stream's write timeout does. A smaller
	// value reports a broker that is down sooner.
	PublishTimeout time.Duration
	// Retain sets the MQTT retain flag on every message, so that a new
	// subscriber gets each topic's last message at once.
	Retain bool
}

// Sink is the MQTT sink. It is safe for concurrent use.
type Sink struct {
	cfg      Config
	tmpl     mask.Template
	inflight int
}

// ErrBadTopic is wrapped by New's error for a template that cannot make
// a valid MQTT topic.
var ErrBadTopic = errors.New("mqttsink: bad topic template")

// New returns a sink for cfg.
func New(cfg *Config) (*Sink, error) {
	if cfg.Broker == nil {
		return nil, errors.New("mqttsink: Config.Broker is required")
	}
	t := mask.Parse(cfg.Topic)
	if err := broker.ValidateTopic(t.Literal("x")); err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadTopic, cfg.Topic, err)
	}
	s := &Sink{cfg: *cfg, tmpl: t, inflight: cfg.MaxInFlight}
	if s.inflight <= 0 {
		s.inflight = 64
	}
	return s, nil
}

// topicLevel refuses a value that would add levels or wildcards to the
// topic.
func topicLevel(name, v string) error {
	// A loop, not strings.IndexAny: this runs for every message, and on
	// short values the loop costs a fifth of the instructions.
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '/', '+', '#', 0:
			return fmt.Errorf("parameter %q = %q holds %q, which would change the topic", name, cut(v), v[i])
		}
	}
	return nil
}

func cut(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Topic returns the topic of message m: the template expanded with its
// parameters.
func (s *Sink) Topic(m *stream.Message) (string, error) {
	var buf [128]byte // the usual topic fits: one allocation, the string's
	b, err := s.tmpl.Append(buf[:0], m.Message, topicLevel)
	if err != nil {
		return "", fmt.Errorf("mqttsink: topic for message %s: %w", m.ID(), err)
	}
	topic := string(b)
	if err := broker.ValidateTopic(topic); err != nil {
		return "", fmt.Errorf("mqttsink: message %s: %w", m.ID(), err)
	}
	return topic, nil
}

// Write implements [stream.Sink].
func (s *Sink) Write(ctx context.Context, b *stream.Batch) error {
	n := len(b.Messages)
	errs := make([]error, n)
	topics := make([]string, n)
	for i := range b.Messages {
		t, err := s.Topic(&b.Messages[i])
		if err != nil {
			errs[i] = stream.Permanent(err)
		}
		topics[i] = t
	}
	if s.inflight == 1 {
		s.serial(ctx, b, topics, errs)
	} else {
		s.pipelined(ctx, b, topics, errs)
	}
	return outcome.Error(errs)
}

// serial publishes one message at a time and stops at the first
// retriable failure.
func (s *Sink) serial(ctx context.Context, b *stream.Batch, topics []string, errs []error) {
	for i := range b.Messages {
		if errs[i] != nil {
			continue
		}
		if err := s.publish(ctx, b, i, topics[i]); err != nil {
			errs[i] = err
			if !stream.IsPermanent(err) {
				outcome.FailFrom(errs, i+1, err)
				return
			}
		}
	}
}

// pipelined publishes the batch on a fixed pool of s.inflight goroutines
// (fewer when the batch has fewer topics), each taking the next message
// it may publish, earliest first: a message whose topic's previous
// message is still unacknowledged waits, the others overtake it.
//
// A pool, not a goroutine per message: a publish through broker/paho runs
// deep enough to outgrow a new goroutine's stack, and copying the stack
// was a sixth of the sink's CPU with 64 in flight; a worker grows its
// stack once per batch. Workers pick their next message themselves, with
// no dispatcher between a PUBACK and the next PUBLISH: handing work from
// one goroutine to another would add a wake-up, often of another CPU, to
// every message's path.
func (s *Sink) pipelined(ctx context.Context, b *stream.Batch, topics []string, errs []error) {
	n := len(errs)
	p := &pipeline{errs: errs, prev: make([]int32, n), succ: make([]int32, n), state: make([]msgState, n)}
	last := make(map[string]int32)
	for i := range n {
		p.prev[i], p.succ[i] = -1, -1
		if errs[i] != nil {
			continue
		}
		if j, ok := last[topics[i]]; ok {
			p.prev[i], p.succ[j] = j, int32(i)
		}
		last[topics[i]] = int32(i)
	}
	p.wake = sync.NewCond(&p.mu)
	var wg sync.WaitGroup
	for range min(s.inflight, len(last)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			for i := p.next(ctx, -1, nil); i >= 0; i = p.next(ctx, i, err) {
				err = s.publish(ctx, b, int(i), topics[i])
			}
		}()
	}
	wg.Wait()
}

// msgState is where a message of a pipelined batch is.
type msgState uint8

const (
	waiting  msgState = iota // not reached yet
	deferred                 // passed over: its topic's previous message was in flight
	issued
	finished
)

// pipeline is the shared state of one pipelined batch.
type pipeline struct {
	mu      sync.Mutex
	wake    *sync.Cond // the batch ended or stopped
	errs    []error
	prev    []int32 // the previous message on the same topic, -1 for none
	succ    []int32 // the next message on the same topic, -1 for none
	state   []msgState
	cursor  int   // messages before it were issued, deferred or refused
	busy    int   // publishes in flight
	stopErr error // the first retriable failure: issue nothing more
	stopped bool  // the messages not issued carry stopErr
}

// next records the outcome err of message done (none when negative) and
// returns the message to publish next, or -1 when nothing is left to
// this worker.
func (p *pipeline) next(ctx context.Context, done int32, err error) int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done >= 0 {
		p.busy--
		p.state[done] = finished
		p.errs[done] = err
		if err != nil && !stream.IsPermanent(err) && p.stopErr == nil {
			p.stopErr = err
		}
	}
	if p.stopErr == nil && ctx.Err() != nil {
		p.stopErr = fmt.Errorf("mqttsink: %w", ctx.Err())
	}
	if p.stopErr != nil {
		p.stop()
		return -1
	}
	// The message after done on its topic, if it was passed over, goes
	// now: it comes before every message not yet reached. (Each passed
	// over message is issued this way, by the worker that finished its
	// predecessor, so none waits for another worker to notice it.)
	if done >= 0 {
		if j := p.succ[done]; j >= 0 && p.state[j] == deferred {
			p.issue(j)
			return j
		}
	}
	for {
		for p.cursor < len(p.errs) {
			i := int32(p.cursor)
			p.cursor++
			switch {
			case p.errs[i] != nil: // refused before publishing
			case p.prev[i] >= 0 && p.state[p.prev[i]] != finished:
				p.state[i] = deferred
			default:
				p.issue(i)
				return i
			}
		}
		if p.busy == 0 || p.stopped {
			// Every message was issued or refused and none is in flight
			// (a passed over message's predecessor was in flight), or
			// the batch stopped.
			p.wake.Broadcast()
			return -1
		}
		// Nothing to issue until a publish in flight finishes: its worker
		// issues what that frees, so this one waits for the end.
		p.wake.Wait()
	}
}

func (p *pipeline) issue(i int32) {
	p.state[i] = issued
	p.busy++
}

// stop fails every message not issued with the batch's stopping error,
// so that a retry sends them after the failed one, and lets the waiting
// workers go.
func (p *pipeline) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	for i, st := range p.state {
		if (st == waiting || st == deferred) && p.errs[i] == nil {
			p.errs[i] = p.stopErr
			p.state[i] = finished
		}
	}
	p.wake.Broadcast()
}

// publish sends message i and classifies the outcome.
func (s *Sink) publish(ctx context.Context, b *stream.Batch, i int, topic string) error {
	m := &b.Messages[i]
	if s.cfg.PublishTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.PublishTimeout)
		defer cancel()
	}
	msg := broker.Message{
		Topic: topic,
		// A copy: the stream reuses the batch's memory once Write
		// returned, and the broker.Broker contract does not say that a
		// broker copies what it keeps past Publish (broker/paho does,
		// for the publish its session may resend after reconnecting).
		Payload: append([]byte(nil), m.JSON...),
		QoS:     1,
		Retain:  s.cfg.Retain,
		Properties: broker.Properties{
			ContentType:   "application/json",
			PayloadFormat: 1,
			UserProperties: []broker.UserProperty{
				{Key: PropertyMessageID, Value: m.ID()},
				{Key: PropertyStream, Value: b.Stream},
			},
		},
	}
	err := s.cfg.Broker.Publish(ctx, msg)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, broker.ErrBadTopic), errors.Is(err, broker.ErrNotAuthorized):
		return stream.Permanent(fmt.Errorf("mqttsink: message %s to %q: %w", m.ID(), topic, err))
	}
	return fmt.Errorf("mqttsink: message %s to %q: %w", m.ID(), topic, err)
}
