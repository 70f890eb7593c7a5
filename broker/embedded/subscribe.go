package embedded

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// This file is SUBSCRIBE and UNSUBSCRIBE: checking and parsing each filter,
// authorizing it, storing the subscription in its session and in the topic
// tree (topics.go), answering with SUBACK or UNSUBACK, and sending the
// retained messages (retained.go) a new subscription asks for.

func (c *conn) handleSubscribe(se *session, pk *packets.Packet) error {
	s := c.srv
	if pk.PacketID == 0 {
		return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("no packet ID")}
	}
	if len(pk.Filters) == 0 {
		return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("no topic filters")}
	}
	subID := 0
	if len(pk.Properties.SubscriptionIdentifier) > 0 {
		subID = pk.Properties.SubscriptionIdentifier[0]
		if subID <= 0 || subID > 268435455 {
			return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("bad subscription identifier")}
		}
	}
	codes := make([]byte, 0, len(pk.Filters))
	var retained []*subscription
	pkSpace, pkCode, pkGiven := c.space(pk.Properties.User)
	left, specLeft := maxSubscribeEntries, maxSubscribeSpecBytes
	for _, f := range pk.Filters {
		if f.Qos > 2 || (c.version == 5 && f.RetainHandling > 2) {
			return &ProtocolError{Code: 0x81, Packet: "SUBSCRIBE", Err: errors.New("bad subscription options")}
		}
		cost := specCost(f.Filter)
		if cost > specLeft {
			codes = append(codes, c.subCode(0x97)) // refused before it costs anything
			continue
		}
		specLeft -= cost
		// The decoded filter is a view of the packet: a subscription made
		// from it would keep the whole SUBSCRIBE (up to MaxPacketSize,
		// user properties and the other filters included) for as long as
		// it lasts.
		pf, err := s.parseFilterLeft(strings.Clone(f.Filter), left)
		if err != nil {
			code := byte(0x8F)
			switch {
			case errors.Is(err, broker.ErrUnsupported):
				code = 0x83 // implementation specific: a $filter spec we cannot evaluate
			case errors.Is(err, errFilterQuota):
				code = 0x97
			}
			codes = append(codes, c.subCode(code))
			continue
		}
		left -= pf.entries()
		if pf.shared() && f.NoLocal {
			return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("no local on a shared subscription")}
		}
		if err := s.authorizeSubscribe(s.ctx, c.client, &pf.Filter); err != nil {
			code := byte(0x80)
			if errors.Is(err, broker.ErrNotAuthorized) {
				code = 0x87
			}
			codes = append(codes, c.subCode(code))
			continue
		}
		space, spaceCode := pkSpace, pkCode
		if !pkGiven {
			space, spaceCode, _ = c.filterSpace(&pf.Filter)
		}
		if spaceCode != 0 {
			codes = append(codes, c.subCode(spaceCode))
			continue
		}
		if pf, err = c.inFilter(pf, space); err != nil {
			codes = append(codes, c.subCode(0x8F))
			continue
		}
		sub := &subscription{sess: se, filter: pf, qos: f.Qos, noLocal: f.NoLocal, rap: f.RetainAsPublished,
			rh: f.RetainHandling, id: subID, space: space}
		isNew, err := s.addSubscription(se, sub)
		if err != nil {
			codes = append(codes, c.subCode(0x97))
			continue
		}
		codes = append(codes, sub.qos)
		if sub.rh == 0 || (sub.rh == 1 && isNew) {
			retained = append(retained, sub)
		}
	}
	suback := c.appendAck(nil, packets.Suback, pk.PacketID, codes)
	s.state.saveSession(se, func() {
		c.queueCtrl(se, suback...)
		for _, sub := range retained {
			s.sendRetained(sub)
		}
	})
	return nil
}

// subCode maps a SUBACK failure to 0x80 for MQTT 3.1.1, which has no other.
func (c *conn) subCode(code byte) byte {
	if c.version != 5 {
		return 0x80
	}
	return code
}

func (c *conn) handleUnsubscribe(se *session, pk *packets.Packet) error {
	if pk.PacketID == 0 || len(pk.Filters) == 0 {
		return &ProtocolError{Code: 0x82, Packet: "UNSUBSCRIBE", Err: errors.New("no packet ID or filters")}
	}
	codes := make([]byte, 0, len(pk.Filters))
	pkSpace, _, pkGiven := c.space(pk.Properties.User) // a refused space names no subscription
	for _, f := range pk.Filters {
		space := pkSpace
		if pf, err := broker.ParseFilter(f.Filter); err == nil && !pkGiven {
			space, _, _ = c.filterSpace(&pf)
		}
		if c.srv.removeSubscription(se, c.inFilterString(f.Filter, space)) {
			codes = append(codes, 0)
		} else {
			codes = append(codes, 0x11)
		}
	}
	if c.version != 5 {
		codes = nil
	}
	unsuback := c.appendAck(nil, packets.Unsuback, pk.PacketID, codes)
	c.srv.state.saveSession(se, func() { c.queueCtrl(se, unsuback...) })
	return nil
}

// addSubscription stores sub in the session and the tree, replacing the
// session's subscription with the same filter. It reports whether the
// subscription is new. Call without locks.
func (s *Server) addSubscription(se *session, sub *subscription) (isNew bool, err error) {
	se.mu.Lock()
	old := se.subs.get(sub.filter.String())
	if old == nil && se.subs.len() >= s.lim.maxSubs {
		se.mu.Unlock()
		return false, fmt.Errorf("embedded: client %q: more than %d subscriptions: %w", se.id, s.lim.maxSubs, ErrServerBusy)
	}
	if se.gone {
		se.mu.Unlock()
		return false, broker.ErrClosed
	}
	if se.subs == nil {
		se.subs = new(subSet)
	}
	se.subs.put(sub)
	se.mu.Unlock()
	if old != nil {
		s.tree.remove(old)
	}
	s.tree.add(sub)
	return old == nil, nil
}

func (s *Server) removeSubscription(se *session, filter string) bool {
	se.mu.Lock()
	old := se.subs.remove(filter)
	se.mu.Unlock()
	if old != nil {
		s.tree.remove(old)
	}
	return old != nil
}

// subSet is a session's subscriptions by filter (their String). Most
// sessions hold one or a few: a list of them is 40 bytes where a map of one
// entry is 256, and finding one among a few is a few string comparisons. A
// map indexes the list once it holds more than subSetIndexAt.
type subSet struct {
	list  []*subscription
	index map[string]*subscription
}

const subSetIndexAt = 8

// get returns the subscription to filter, nil if none (or ss is nil).
func (ss *subSet) get(filter string) *subscription {
	if ss == nil {
		return nil
	}
	if ss.index != nil {
		return ss.index[filter]
	}
	for _, sub := range ss.list {
		if sub.filter.String() == filter {
			return sub
		}
	}
	return nil
}

func (ss *subSet) len() int {
	if ss == nil {
		return 0
	}
	return len(ss.list)
}

// all returns the subscriptions, in the order they were first made: the
// caller must not change the slice.
func (ss *subSet) all() []*subscription {
	if ss == nil {
		return nil
	}
	return ss.list
}

// put adds sub, in place of the subscription to the same filter if there
// is one.
func (ss *subSet) put(sub *subscription) {
	f := sub.filter.String()
	if ss.index != nil {
		ss.index[f] = sub
	}
	for i, old := range ss.list {
		if old.filter.String() == f {
			ss.list[i] = sub
			return
		}
	}
	ss.list = append(ss.list, sub)
	if ss.index == nil && len(ss.list) > subSetIndexAt {
		ss.index = make(map[string]*subscription, len(ss.list))
		for _, s := range ss.list {
			ss.index[s.filter.String()] = s
		}
	}
}

// remove takes the subscription to filter out and returns it, nil if
// there is none.
func (ss *subSet) remove(filter string) *subscription {
	old := ss.get(filter)
	if old == nil {
		return nil
	}
	if ss.index != nil {
		delete(ss.index, filter)
	}
	i := slices.Index(ss.list, old)
	ss.list = slices.Delete(ss.list, i, i+1)
	return old
}

// sendRetained queues the retained messages matching sub for its session.
func (s *Server) sendRetained(sub *subscription) {
	if sub.filter.shared() {
		return // retained messages are not sent to shared subscriptions
	}
	for _, m := range append(s.retainedFor(&sub.filter, time.Now()), s.sysRetained(sub)...) {
		if !sub.accepts(m) {
			continue
		}
		d := delivery{msg: m, qos: min(m.qos, sub.qos), retain: true, space: sub.space}
		if sub.id > 0 {
			d.subIDs = []int{sub.id}
		}
		t := [1]target{{se: sub.sess, d: d}}
		s.state.publish(routed{msg: m, targets: t[:]})
	}
}
