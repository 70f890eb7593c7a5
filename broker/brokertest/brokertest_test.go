package brokertest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/brokertest"
)

// memBroker is a small in-process Broker used to test the suite itself, so
// that the suite's own checks (sticky groups, $filter, redelivery) run
// without any service. It is not part of the SDK: broker/embedded is.
type memBroker struct {
	mu       sync.Mutex
	closed   bool
	subs     []*memSub
	groups   map[string][]*memSub // share key → members in subscription order
	rr       map[string]int
	retained map[string]broker.Message
}

type memSub struct {
	b      *memBroker
	f      broker.Filter
	h      broker.Handler
	queue  chan broker.Message
	done   chan struct{}
	once   sync.Once
	origin broker.Origin
}

func newMemBroker() *memBroker {
	return &memBroker{groups: map[string][]*memSub{}, rr: map[string]int{}, retained: map[string]broker.Message{}}
}

func (b *memBroker) Publish(ctx context.Context, m broker.Message) error {
	if err := broker.ValidateTopic(m.Topic); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return broker.ErrClosed
	}
	if m.Retain {
		if len(m.Payload) == 0 {
			delete(b.retained, m.Topic)
		} else {
			b.retained[m.Topic] = m
		}
	}
	live := m
	live.Retain = false
	origin := broker.Origin{Time: time.Now()}
	for _, s := range b.subs {
		if s.f.Share() == nil && s.f.MatchMessage(live, origin) {
			s.queue <- live
		}
	}
	for key, members := range b.groups {
		f := &members[0].f
		if !f.MatchMessage(live, origin) {
			continue
		}
		i := f.Share().Pick(m.Topic, len(members))
		if i < 0 {
			i = b.rr[key] % len(members)
			b.rr[key]++
		}
		members[i].queue <- live
	}
	return nil
}

func (b *memBroker) Subscribe(ctx context.Context, filter string, h broker.Handler) (broker.Subscription, error) {
	f, err := broker.ParseFilter(filter)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, broker.ErrClosed
	}
	s := &memSub{b: b, f: f, h: h, queue: make(chan broker.Message, 10000), done: make(chan struct{})}
	if key := f.ShareKey(); key != "" {
		b.groups[key] = append(b.groups[key], s)
	} else {
		b.subs = append(b.subs, s)
		for _, m := range b.retained {
			if f.MatchMessage(m, broker.Origin{Time: time.Now()}) {
				s.queue <- m
			}
		}
	}
	go s.run()
	return s, nil
}

func (s *memSub) run() {
	for {
		select {
		case <-s.done:
			return
		case m := <-s.queue:
			// A refused QoS 1 message is delivered again.
			for s.h.HandleMessage(context.Background(), m) != nil && m.QoS > 0 {
				select {
				case <-s.done:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}
	}
}

func (s *memSub) Filter() string { return s.f.String() }

func (s *memSub) Unsubscribe(ctx context.Context) error {
	s.once.Do(func() {
		b := s.b
		b.mu.Lock()
		defer b.mu.Unlock()
		del := func(list []*memSub) []*memSub {
			for i, x := range list {
				if x == s {
					return append(list[:i:i], list[i+1:]...)
				}
			}
			return list
		}
		if key := s.f.ShareKey(); key != "" {
			b.groups[key] = del(b.groups[key])
			if len(b.groups[key]) == 0 {
				delete(b.groups, key)
			}
		} else {
			b.subs = del(b.subs)
		}
		close(s.done)
	})
	return nil
}

func (b *memBroker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return broker.ErrClosed
	}
	b.closed = true
	subs := append([]*memSub(nil), b.subs...)
	for _, g := range b.groups {
		subs = append(subs, g...)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.once.Do(func() { close(s.done) })
	}
	return nil
}

func TestSuiteOnMemoryBroker(t *testing.T) {
	t.Parallel()
	brokertest.Run(t, func(t *testing.T) broker.Broker { return newMemBroker() })
}

// limited reports that it lacks the optional features; the suite must skip
// them rather than fail.
type limited struct{ *memBroker }

func (limited) Supports(f broker.Feature) bool { return f == broker.FeatureProperties }

func TestSuiteSkipsMissingFeatures(t *testing.T) {
	t.Parallel()
	var skipped []string
	t.Run("suite", func(t *testing.T) {
		brokertest.Run(t, func(t *testing.T) broker.Broker {
			t.Cleanup(func() {
				if t.Skipped() {
					skipped = append(skipped, t.Name())
				}
			})
			return limited{newMemBroker()}
		})
	})
	want := map[string]bool{"StickyShare": true, "FilterSpec": true, "HandlerError": true}
	for _, name := range skipped {
		for w := range want {
			if len(name) >= len(w) && name[len(name)-len(w):] == w {
				delete(want, w)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("not skipped: %v (skipped %v)", want, skipped)
	}
}
