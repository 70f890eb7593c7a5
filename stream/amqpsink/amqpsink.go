// Package amqpsink is the AMQP 0-9-1 [stream.Sink] (RabbitMQ, LavinMQ…),
// built on github.com/rabbitmq/amqp091-go: each message is published to an
// exchange with a routing key made from a template, with publisher
// confirms, and is accepted when the broker confirms it.
//
//	sink, err := amqpsink.New(&amqpsink.Config{
//		URL:        "amqp://user:secret@rabbit.example:5672/telematics",
//		Exchange:   "fleet",
//		RoutingKey: "messages.%channel.id%.%ident%",
//	})
//
// The sink declares nothing: the exchange, the queues and their bindings
// are the broker operator's (the default exchange "" with a queue's name
// as the routing key reaches that queue directly).
//
// # What is published
//
// The body is the message's JSON as the stream encodes it
// ([stream.Message.JSON]), with content type application/json, persistent
// delivery (unless Config.Transient), the message's stable id
// ([stream.Message.ID]) as the AMQP message id — the same for every
// delivery, so a consumer drops the duplicates that at-least-once delivery
// allows — the stream's name in the header "stream", the time the log
// accepted the message as the AMQP timestamp, and app id "gnssgate".
//
// The routing key's masks, %name%, take a message's parameter ("%ident%",
// "%channel.id%", any other; numbers as their JSON text). A message
// without the parameter, or whose key would exceed AMQP's 255 bytes, is
// refused for good ([stream.Permanent]).
//
// # Confirms, nacks and returns
//
// A batch is published on one channel in confirm mode, all messages
// before any wait (AMQP keeps a channel's order, so this is pipelined and
// ordered at once), then the sink waits for the confirms. A message is
// accepted on its ack. It is refused for good when the broker nacks it (a
// queue full with overflow reject-publish, an internal error) or returns
// it: publishes
// are mandatory unless Config.AllowUnroutable, so a message no queue takes
// comes back (basic.return, which RabbitMQ sends before the message's ack)
// rather than vanishing. The refusals are reported per message in a
// [*stream.BatchError]; the stream's reject policy takes them (by default
// into the dead-letter log, from which [stream.Stream.Replay] sends them
// again once the queue has room).
//
// A nack is not retried in place: by the time it arrives the broker may
// have taken later messages of the batch (a full queue that a consumer
// drained meanwhile), and sending the nacked one again would put it after
// them.
//
// A lost connection or channel, or no confirm before the stream's write
// timeout, fails the first unconfirmed message and every later one of the
// batch (confirmed or not: so that the retry keeps the batch's order, at
// the price of duplicates with the same message id); the connection is
// closed and the next Write connects again.
package amqpsink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/internal/mask"
	"github.com/gnssgate/gnssgate/stream/internal/outcome"
)

// HeaderStream is the message header that names the stream.
const HeaderStream = "stream"

// Config configures a [Sink]. URL is required; every other field's zero
// value is documented.
type Config struct {
	// URL is the broker: amqp://user:password@host:5672/vhost, or amqps://
	// for TLS.
	URL string
	// TLS configures amqps:// (a private CA, a client certificate:
	// internal/tlsconf builds one from files); nil uses the system roots.
	TLS *tls.Config
	// Exchange receives the messages; "" is the default exchange, which
	// routes a message to the queue named by its routing key.
	Exchange string
	// RoutingKey is the routing key template, e.g. "fleet.%ident%" (see the
	// package documentation). "" sends every message with an empty key.
	RoutingKey string
	// AllowUnroutable publishes without the mandatory flag: a message that
	// no queue takes is then dropped by the broker and counted as
	// accepted. By default it is returned and refused for good.
	AllowUnroutable bool
	// Transient publishes with delivery mode 1 (not persisted by the
	// broker); by default messages are persistent (2).
	Transient bool
	// DialTimeout bounds connecting and the AMQP handshake; 0 means 10 s.
	DialTimeout time.Duration
	// Heartbeat is the AMQP heartbeat interval; 0 means 10 s.
	Heartbeat time.Duration
}

// Sink is the AMQP sink. Its methods are safe for concurrent use (a stream
// calls Write from one goroutine).
type Sink struct {
	cfg  Config
	tmpl mask.Template

	mu      sync.Mutex
	conn    *amqp.Connection
	raw     net.Conn // conn's socket, closed to abort blocked I/O at once
	ch      *amqp.Channel
	returns chan amqp.Return
	key     []byte
	pending []*amqp.DeferredConfirmation
	errs    []error
}

// New returns a sink for cfg. It does not connect: the first Write does.
func New(cfg *Config) (*Sink, error) {
	if cfg.URL == "" {
		return nil, errors.New("amqpsink: Config.URL is required")
	}
	if _, err := amqp.ParseURI(cfg.URL); err != nil {
		return nil, fmt.Errorf("amqpsink: Config.URL: %w", err)
	}
	s := &Sink{cfg: *cfg, tmpl: mask.Parse(cfg.RoutingKey)}
	if s.cfg.DialTimeout <= 0 {
		s.cfg.DialTimeout = 10 * time.Second
	}
	if s.cfg.Heartbeat <= 0 {
		s.cfg.Heartbeat = 10 * time.Second
	}
	return s, nil
}

// ErrNack is wrapped by the error of a message the broker nacked.
var ErrNack = errors.New("amqpsink: the broker nacked the message")

// ReturnedError is the error of a message the broker returned (no queue
// took it).
type ReturnedError struct {
	Code       uint16
	Text       string // "NO_ROUTE"
	Exchange   string
	RoutingKey string
}

func (e *ReturnedError) Error() string {
	return fmt.Sprintf("amqpsink: returned by the broker: %d %s (exchange %q, routing key %q)", e.Code, e.Text, e.Exchange, e.RoutingKey)
}

// Write implements [stream.Sink].
func (s *Sink) Write(ctx context.Context, b *stream.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(b.Messages)
	s.errs = append(s.errs[:0], make([]error, n)...)
	s.pending = append(s.pending[:0], make([]*amqp.DeferredConfirmation, n)...)
	errs := s.errs

	ch, err := s.channel(ctx)
	if err != nil {
		return err
	}
	// Cancellation (the stream's write timeout) must end a publish that
	// the broker's flow control blocks: close the socket.
	raw := s.raw
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	failed := -1 // the first message that failed with a retriable error
	mandatory := !s.cfg.AllowUnroutable
	for i := range b.Messages {
		m := &b.Messages[i]
		key, err := s.tmpl.Append(s.key[:0], m.Message, nil)
		s.key = key
		if err != nil {
			errs[i] = stream.Permanent(fmt.Errorf("amqpsink: routing key for message %s: %w", m.ID(), err))
			continue
		}
		if len(key) > 255 {
			errs[i] = stream.Permanent(fmt.Errorf("amqpsink: routing key for message %s is %d bytes, AMQP allows 255", m.ID(), len(key)))
			continue
		}
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, s.cfg.Exchange, string(key), mandatory, false, s.publishing(b, m))
		if err != nil {
			failed = i
			errs[i] = s.ioError(ctx, "publish", err)
			break
		}
		s.pending[i] = dc
	}

	// Wait for the confirms, in order, taking returns as they come: the
	// broker returns a message before it acks it.
	returned := map[string]*ReturnedError{}
	returns := s.returns // nil once amqp091 closed it with the channel
	take := func(r amqp.Return, ok bool) {
		if !ok {
			returns = nil
			return
		}
		returned[r.MessageId] = &ReturnedError{Code: r.ReplyCode, Text: r.ReplyText, Exchange: r.Exchange, RoutingKey: r.RoutingKey}
	}
	var waitErr error
wait:
	for i, dc := range s.pending {
		if dc == nil {
			continue
		}
		for {
			select {
			case <-dc.Done():
			case r, ok := <-returns:
				take(r, ok)
				continue
			case <-ctx.Done():
				waitErr = s.ioError(ctx, "waiting for confirms", ctx.Err())
				if failed < 0 || i < failed {
					failed = i
				}
				break wait
			}
			break
		}
		if dc.Acked() {
			continue
		}
		// A channel that closes resolves its pending confirms as nacks:
		// that is a lost connection, not the broker's refusal.
		if ch.IsClosed() {
			waitErr = fmt.Errorf("amqpsink: channel closed before confirming message %s", b.Messages[i].ID())
			if failed < 0 || i < failed {
				failed = i
			}
			break
		}
		errs[i] = stream.Permanent(fmt.Errorf("%w %s", ErrNack, b.Messages[i].ID()))
	}
	for returns != nil {
		select {
		case r, ok := <-returns:
			take(r, ok)
		default:
			returns = nil
		}
	}
	for i := range b.Messages {
		if r := returned[b.Messages[i].ID()]; r != nil && errs[i] == nil && s.pending[i] != nil {
			errs[i] = stream.Permanent(r)
		}
	}
	if failed >= 0 {
		// Everything from the first failure on is sent again, so that the
		// target sees the batch in order; refusals stay refusals.
		if waitErr == nil {
			waitErr = errs[failed]
		}
		for i := failed; i < n; i++ {
			if errs[i] == nil || !stream.IsPermanent(errs[i]) {
				errs[i] = waitErr
			}
		}
		s.closeConn()
	}
	clear(s.pending)
	return outcome.Error(errs)
}

// publishing builds the AMQP message for m.
func (s *Sink) publishing(b *stream.Batch, m *stream.Message) amqp.Publishing {
	mode := amqp.Persistent
	if s.cfg.Transient {
		mode = amqp.Transient
	}
	return amqp.Publishing{
		Headers:      amqp.Table{HeaderStream: b.Stream},
		ContentType:  "application/json",
		DeliveryMode: mode,
		MessageId:    m.ID(),
		Timestamp:    m.Time,
		AppId:        "gnssgate",
		Body:         m.JSON,
	}
}

func (s *Sink) ioError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("amqpsink: %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("amqpsink: %s: %w", op, err)
}

// channel returns the open confirm-mode channel, connecting first when
// there is none or the last one broke.
func (s *Sink) channel(ctx context.Context) (*amqp.Channel, error) {
	if s.ch != nil && !s.ch.IsClosed() && !s.conn.IsClosed() {
		return s.ch, nil
	}
	s.closeConn()
	timeout := s.cfg.DialTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("amqpsink: connect: %w", context.DeadlineExceeded)
	}
	var raw net.Conn
	conn, err := amqp.DialConfig(s.cfg.URL, amqp.Config{
		Heartbeat:       s.cfg.Heartbeat,
		TLSClientConfig: s.cfg.TLS,
		Properties:      amqp.Table{"product": "gnssgate stream/amqpsink"},
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := amqp.DefaultDial(timeout)(network, addr)
			raw = c
			return c, err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("amqpsink: connect: %w", err)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("amqpsink: open a confirm channel: %w", err)
	}
	// Returns are read during every Write; the buffer only has to hold
	// those that come while the sink is between reads. (amqp091 drops a
	// notification that waits more than 5 s for room.)
	s.returns = ch.NotifyReturn(make(chan amqp.Return, 1024))
	s.conn, s.raw, s.ch = conn, raw, ch
	return ch, nil
}

// closeConn drops the connection without the AMQP close handshake, which
// a broken or blocked connection would not answer.
func (s *Sink) closeConn() {
	if s.raw != nil {
		s.raw.Close()
	}
	if s.conn != nil {
		s.conn.CloseDeadline(time.Now())
	}
	s.conn, s.raw, s.ch = nil, nil, nil
}

// Close closes the connection.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && !s.conn.IsClosed() {
		s.conn.CloseDeadline(time.Now().Add(time.Second))
	}
	s.closeConn()
	return nil
}
