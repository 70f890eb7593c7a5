package paho

import (
	"context"
	"fmt"
	"sync"

	mqtt "github.com/eclipse/paho.golang/paho"

	"github.com/gnssgate/gnssgate/broker"
)

// subscription is one local subscription with its own queue and goroutine,
// so a slow handler delays only itself (until its queue is full).
type subscription struct {
	b      *Broker
	filter broker.Filter
	h      broker.Handler
	server *serverSub

	queue    chan delivery
	done     chan struct{}
	stopOnce sync.Once
}

type delivery struct {
	msg broker.Message
	ack *ack // nil for QoS 0
}

// Filter returns the filter as given to Subscribe.
func (s *subscription) Filter() string { return s.filter.String() }

// Unsubscribe stops delivery and, when it was the last local subscription
// on its server subscription, unsubscribes on the broker. Messages already
// queued are dropped (their acknowledgement is not withheld); a handler
// call in progress finishes. Safe to call more than once and from the
// handler itself.
func (s *subscription) Unsubscribe(ctx context.Context) error {
	first := false
	s.stopOnce.Do(func() { first = true })
	if !first {
		return nil
	}
	b := s.b
	b.opMu.Lock()
	defer b.opMu.Unlock()
	b.mu.Lock()
	ss := s.server
	ss.remove(s)
	last := ss.empty() && b.servers[ss.filter] == ss
	if last {
		delete(b.servers, ss.filter)
		if b.byID[ss.id] == ss {
			delete(b.byID, ss.id)
			b.retired[ss.id] = true
		}
	}
	closed := b.closed
	b.mu.Unlock()
	close(s.done)
	if !last || closed {
		return nil
	}
	err := b.withConn(ctx, true, func(ctx context.Context) error {
		b.sendMu.RUnlock()
		_, err := b.cm.Unsubscribe(ctx, &mqtt.Unsubscribe{Topics: []string{ss.filter}})
		return err
	})
	if err != nil {
		// Delivery to this subscription has stopped anyway; the server
		// subscription may stay on the session, and messages it brings
		// find no local subscription and are acknowledged and dropped.
		return fmt.Errorf("broker/paho: unsubscribe %s: %w", ss.filter, connError(err))
	}
	return nil
}

// stop ends delivery at Close, without network traffic.
func (s *subscription) stop() {
	s.stopOnce.Do(func() { close(s.done) })
}

// enqueue hands d to the subscription's goroutine, waiting while the queue
// is full; after Unsubscribe or Close the delivery counts as handled.
func (s *subscription) enqueue(d delivery) {
	select {
	case <-s.done:
		d.finish()
		return
	default:
	}
	select {
	case s.queue <- d:
	case <-s.done:
		d.finish()
	}
}

func (d delivery) finish() {
	if d.ack != nil {
		d.ack.done()
	}
}

func (s *subscription) run() {
	for {
		select {
		case <-s.done:
			for {
				select {
				case d := <-s.queue:
					d.finish()
				default:
					return
				}
			}
		case d := <-s.queue:
			s.handle(d)
		}
	}
}

func (s *subscription) handle(d delivery) {
	select {
	case <-s.done:
		d.finish()
		return
	default:
	}
	b := s.b
	if d.ack != nil && b.persistent() && d.ack.gen != b.gen.Load() {
		// Its connection is gone and the session keeps the message: the
		// broker sends it again, so handling it now would only duplicate.
		return
	}
	err := s.h.HandleMessage(b.ctx, d.msg)
	if d.ack == nil {
		if err != nil {
			b.log.Warn("handler failed on a QoS 0 message; it is dropped", "filter", s.filter.String(), "topic", d.msg.Topic, "err", err)
		}
		return
	}
	if err != nil {
		d.ack.failed.Store(true)
		if b.persistent() {
			b.log.Warn("handler failed; withholding PUBACK and reconnecting for redelivery", "filter", s.filter.String(), "topic", d.msg.Topic, "err", err)
			b.redeliver(d.ack.gen, d.ack.client)
		} else {
			b.log.Warn("handler failed; without a persistent session the message is lost", "filter", s.filter.String(), "topic", d.msg.Topic, "err", err)
			d.ack.failed.Store(false)
			d.ack.done()
		}
		return
	}
	d.ack.done()
}
