package embedded

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// This file is retained state served on demand (RetainedSource) and the
// question a publisher asks before building a message (Server.Subscribed).

// A RetainedSource serves the retained messages of the topics it owns from
// state its program keeps anyway (the gateway: the latest telemetry of
// every device, in its store), so the broker stores nothing for them: a
// retained publish on an owned topic is delivered to the subscribers it
// matches (retain flag per Retain As Published, as any retained publish)
// but not kept, not written to the data directory, and not counted in
// Stats.Retained. When a subscription asks for retained messages (retain
// handling 0, or 1 and new), the broker asks the source for those matching
// its filter and delivers them exactly as stored ones: retain flag set,
// QoS at most the subscription's, its subscription identifier, its
// "$filter" and namespace, none to shared subscriptions.
//
// Set it in Config.RetainedSource. Its methods are called concurrently,
// from connections' goroutines and in-process Subscribe; they must not
// subscribe or unsubscribe on the broker.
type RetainedSource interface {
	// Owns reports whether topic (a topic name, in the broker's own space:
	// "$accounts/5/…" for a namespace's) belongs to the source. It is
	// asked on every retained publish: it must be quick, and its answer
	// for a topic must not change while the server runs.
	Owns(topic string) bool
	// Retained calls yield with the current retained message of every
	// owned topic matching filter (a plain MQTT topic filter, with '+' and
	// '#' only: the broker expands comma lists and strips "$share",
	// "$filter" and the like; a leading wildcard does not reach topics
	// starting with '$'), and stops when yield returns false. Topic and
	// Payload are required; QoS is the message's (the broker delivers at
	// most the subscription's); Retain is implied. Messages on topics the
	// source does not own or the filter does not match are ignored.
	// yield copies what it keeps. An error is logged; the messages yielded
	// before it are delivered.
	Retained(ctx context.Context, filter string, yield func(broker.Message) bool) error
}

// Subscribed reports whether some subscription matches topic (a topic
// name in the broker's own space, as Publish takes it): a client's, an
// offline persistent session's, a shared subscription's or an in-process
// one's. It ignores "$filter" predicates and No Local, so true means a
// message there may be delivered and false that Publish would deliver it
// to nobody. A publisher of retained state served by a RetainedSource can
// thus skip building a change nobody receives: the source gives later
// subscribers the current value. A subscription is in place before its
// retained messages are read, so a change committed after that read is
// seen by Subscribed: a concurrent subscriber may get a value twice, never
// miss the last one. A closed server answers true, so that the publisher
// goes on to Publish and learns broker.ErrClosed instead of taking the
// message as delivered. It does not allocate.
func (s *Server) Subscribed(topic string) bool {
	if s.ctx.Err() != nil {
		return true
	}
	if topic == "" {
		return false
	}
	t := &s.tree
	t.mu.RLock()
	defer t.mu.RUnlock()
	return anySub(&t.root, topic, false, topic[0] != '$')
}

// anySub reports whether a subscription below n matches rest, the levels
// of the topic left (end: none); wild is false only for a first level
// starting with '$', which wildcards do not match.
func anySub(n *node, rest string, end, wild bool) bool {
	if end {
		if n.hasSubs() {
			return true
		}
		c := n.children["#"] // "a/#" matches "a"
		return c != nil && c.hasSubs()
	}
	if wild {
		if c := n.children["#"]; c != nil && c.hasSubs() {
			return true
		}
	}
	l, after, more := strings.Cut(rest, "/")
	if wild {
		if c := n.children["+"]; c != nil && anySub(c, after, !more, true) {
			return true
		}
	}
	c := n.children[l]
	return c != nil && anySub(c, after, !more, true)
}

func (n *node) hasSubs() bool { return len(n.subs) > 0 || len(n.shared) > 0 }

// SubscribedUnder reports whether some subscription may match a topic
// below prefix: a topic name of more levels than prefix's that starts
// with them ("a/b/" or "a/b": the topics "a/b/…"). It counts what
// Subscribed counts, the same way: false means Subscribed is false for
// every topic below prefix, so a publisher of many topics under one
// prefix (a device's telemetry parameters) asks once instead of once per
// topic, under the same rule (commit the change, then ask). True may come
// from a subscription to one topic below prefix only: then ask Subscribed
// per topic. A closed server answers true, as Subscribed does. It does not
// allocate.
func (s *Server) SubscribedUnder(prefix string) bool {
	if s.ctx.Err() != nil {
		return true
	}
	t := &s.tree
	t.mu.RLock()
	defer t.mu.RUnlock()
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return anyBelow(&t.root)
	}
	return anySubUnder(&t.root, prefix, prefix[0] != '$')
}

// anySubUnder reports whether a subscription below n matches a topic of
// more levels than rest (the prefix's levels left, at least one); wild as
// in anySub.
func anySubUnder(n *node, rest string, wild bool) bool {
	if wild {
		if c := n.children["#"]; c != nil && c.hasSubs() {
			return true
		}
	}
	l, after, more := strings.Cut(rest, "/")
	next := func(c *node) bool {
		if c == nil {
			return false
		}
		if more {
			return anySubUnder(c, after, true)
		}
		return anyBelow(c)
	}
	if wild && next(n.children["+"]) {
		return true
	}
	return next(n.children[l])
}

// anyBelow reports whether n's children or their descendants hold a
// subscription (every filter matches some topic). The tree drops nodes
// left empty, so it returns at the first leaf it reaches.
func anyBelow(n *node) bool {
	for _, c := range n.children {
		if c.hasSubs() || anyBelow(c) {
			return true
		}
	}
	return false
}

// owned reports whether topic's retained messages are the source's.
func (s *Server) owned(topic string) bool {
	return s.cfg.RetainedSource != nil && s.cfg.RetainedSource.Owns(topic)
}

// retainedFor returns the live retained messages matching pf, stored ones
// and the source's, sorted by topic.
func (s *Server) retainedFor(pf *parsedFilter, now time.Time) []*message {
	out := s.retained.collect(pf, now, s.cfg.RetainedMaxAge)
	src := s.cfg.RetainedSource
	if src == nil {
		return out
	}
	stored := len(out)
	var levels [16]string
	for _, p := range pf.levelPaths(levels[:0]) {
		f := strings.Join(p, "/")
		err := src.Retained(s.ctx, f, func(bm broker.Message) bool {
			if len(bm.Payload) == 0 || !pf.Match(bm.Topic) || !validTopicName(bm.Topic) || !src.Owns(bm.Topic) {
				return true
			}
			bm.Retain = true
			if bm.QoS > 2 {
				bm.QoS = 2
			}
			m := fromBroker(bm, now)
			s.addTimestamp(m)
			m.setSize()
			out = append(out, m)
			return true
		})
		if err != nil && s.ctx.Err() == nil {
			s.log.Warn("embedded: retained source failed", "filter", f, "err", err)
		}
	}
	if len(out) == stored {
		return out
	}
	slices.SortStableFunc(out, func(a, b *message) int { return strings.Compare(a.topic, b.topic) })
	// Comma lists expand to paths that can reach a topic twice; an owned
	// topic has nothing stored, so equal topics are the same message.
	return slices.CompactFunc(out, func(a, b *message) bool { return a.topic == b.topic })
}
