package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// sink delivers a session's messages to an in-process Handler.
type sink struct {
	h      broker.Handler
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func (k *sink) signal() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// inprocSub is a Subscription of the in-process path.
type inprocSub struct {
	srv  *Server
	se   *session
	sub  *subscription
	once sync.Once
}

func (u *inprocSub) Filter() string { return u.sub.filter.String() }

func (u *inprocSub) Unsubscribe(ctx context.Context) error {
	u.once.Do(func() {
		u.srv.endSession(u.se)
		u.se.sink.cancel()
	})
	select {
	case <-u.se.sink.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Subscribe delivers messages matching filter to h, starting with the
// retained ones, until the subscription is removed or the server closed.
// filter is an MQTT filter, optionally with "$share/group/" (in-process
// subscribers compete with network clients in the group) and
// "$filter/spec/" prefixes and comma lists. Messages arrive at the QoS they
// were published with; for QoS 1 and 2 a handler error redelivers the
// message after a pause (growing to 5 s), so a handler that never succeeds
// holds back its subscription — and only its own. In-process subscriptions
// are not subject to the Authorizer; each has its own queue bounded by
// MaxQueuedBytes.
func (s *Server) Subscribe(ctx context.Context, filter string, h broker.Handler) (broker.Subscription, error) {
	if s.ctx.Err() != nil {
		return nil, broker.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("embedded: nil handler")
	}
	pf, err := s.parseFilter(filter)
	if err != nil {
		return nil, err
	}
	se := newSession(s, fmt.Sprintf("$inproc/%d", s.sessionSeq.Load()))
	k := &sink{h: h, wake: make(chan struct{}, 1), done: make(chan struct{})}
	k.ctx, k.cancel = context.WithCancel(s.ctx)
	se.sink = k
	se.online.Store(true)
	sub := &subscription{sess: se, filter: pf, qos: 2}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runSink(se, k)
	}()
	if _, err := s.addSubscription(se, sub); err != nil {
		k.cancel()
		return nil, err
	}
	s.sendRetained(sub)
	return &inprocSub{srv: s, se: se, sub: sub}, nil
}

func (s *Server) runSink(se *session, k *sink) {
	defer close(k.done)
	defer s.endSession(se)
	for {
		select {
		case <-k.ctx.Done():
			return
		case <-k.wake:
		}
		for {
			se.mu.Lock()
			if se.queue.len() == 0 || se.gone {
				se.mu.Unlock()
				break
			}
			d := se.queue.pop()
			se.mu.Unlock()
			now := s.now()
			if !d.msg.expired(now) {
				m := d.msg.toBroker(d.qos, d.retain, now)
				s.stats.msgsOut.Add(1)
				pause := 10 * time.Millisecond
				for {
					err := s.handle(k, m)
					if err == nil || d.qos == 0 {
						break
					}
					select {
					case <-k.ctx.Done():
						return
					case <-time.After(pause):
					}
					pause = min(2*pause, 5*time.Second)
				}
			}
			se.mu.Lock()
			se.addQueued(-d.msg.size)
			se.mu.Unlock()
		}
	}
}

// handle calls the handler, turning a panic into an error so one bad
// handler cannot take the broker down.
func (s *Server) handle(k *sink, m broker.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("embedded: handler panic: %v", r)
			s.log.Error("embedded: subscription handler panicked", "topic", m.Topic, "panic", r)
		}
	}()
	return k.h.HandleMessage(k.ctx, m)
}
