package embedded

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// This file is delivery to a session: routing a message to the sessions
// whose subscriptions match, queueing it for each, moving queued messages
// in flight toward the client (the writer, writer.go, encodes them), and
// the client's acknowledgements of what it was sent (PUBACK, PUBREC,
// PUBCOMP).

// target is one session a routed message goes to.
type target struct {
	se *session
	d  delivery
}

// routed is a message on its way to its sessions, and the acknowledgement
// the publisher gets once the broker has taken the message: what
// persistence.publish commits. It is passed by value; targets belongs to
// the caller, which reuses it after publish returns.
type routed struct {
	msg     *message // nil: nothing to route (a refused or discarded publish), only the ack
	targets []target
	retain  bool // msg set or deleted a retained message

	// The publisher's acknowledgement (ackType 0: none, e.g. in-process).
	from    *conn
	fromSe  *session
	ackType byte // packets.Puback or packets.Pubrec
	ackID   uint16
	ackCode byte

	// committed, when set, gets the outcome of the commit (an in-process
	// Publish waiting for it in durable mode).
	committed chan error
}

// deliver queues every delivery for its session.
func (r *routed) deliver() {
	for i := range r.targets {
		t := &r.targets[i]
		t.se.deliver(t.d)
	}
}

// finish sends the publisher its acknowledgement. For a QoS 2 publish the
// packet ID is recorded first: a retransmission of it is then acknowledged
// without being routed again, until the client's PUBREL.
func (r *routed) finish() {
	switch r.ackType {
	case 0:
		return
	case packets.Pubrec:
		if r.ackCode == 0 {
			se := r.fromSe
			se.mu.Lock()
			if se.inQoS2 == nil {
				se.inQoS2 = make(map[uint16]struct{})
			}
			se.inQoS2[r.ackID] = struct{}{}
			se.mu.Unlock()
		}
	}
	r.from.ack(r.fromSe, r.ackType, r.ackID, r.ackCode)
}

// finishNoWait is finish for a goroutine that must not wait for the
// publisher to read (the data directory's writer): the acknowledgement is
// queued even beyond ctrlLimit; the publisher's read loop waited for room
// before it queued the publish.
func (r *routed) finishNoWait() {
	if r.ackType == 0 {
		return
	}
	if r.ackType == packets.Pubrec && r.ackCode == 0 {
		se := r.fromSe
		se.mu.Lock()
		if se.inQoS2 == nil {
			se.inQoS2 = make(map[uint16]struct{})
		}
		se.inQoS2[r.ackID] = struct{}{}
		se.mu.Unlock()
	}
	r.from.ackNoWait(r.fromSe, r.ackType, r.ackID, r.ackCode)
}

// route finds the sessions msg goes to and appends them to mt.targets:
// once per session (with the largest granted QoS and every matching
// subscription identifier) for ordinary subscriptions whose own $filter and
// No Local accept it, and to one member of each shared group.
func (s *Server) route(msg *message, mt *matches) {
	s.tree.mu.RLock()
	s.tree.match(msg.topic, mt)
	var picked []*subscription
	for _, g := range mt.groups {
		if sub := pickShared(g, msg); sub != nil {
			picked = append(picked, sub)
		}
	}
	s.tree.mu.RUnlock()

	subs := mt.subs
	if len(subs) > 1 {
		slices.SortFunc(subs, func(a, b *subscription) int {
			switch {
			case a.sess.num < b.sess.num:
				return -1
			case a.sess.num > b.sess.num:
				return 1
			}
			return 0
		})
	}
	for i := 0; i < len(subs); {
		j := i + 1
		for j < len(subs) && subs[j].sess == subs[i].sess {
			j++
		}
		var d delivery
		ok := false
		for _, sub := range subs[i:j] {
			if !sub.accepts(msg) {
				continue
			}
			if !ok {
				d = delivery{msg: msg}
				ok = true
			}
			d.qos = max(d.qos, min(msg.qos, sub.qos))
			if sub.rap && msg.retain {
				d.retain = true
			}
			if sub.id > 0 {
				d.subIDs = append(d.subIDs, sub.id)
			}
			if sub.space != nil {
				d.space = sub.space
			}
		}
		if ok {
			if len(d.subIDs) > 1 {
				slices.Sort(d.subIDs)
			}
			mt.targets = append(mt.targets, target{se: subs[i].sess, d: d})
		}
		i = j
	}
	for _, sub := range picked {
		d := delivery{msg: msg, qos: min(msg.qos, sub.qos), space: sub.space}
		if sub.id > 0 {
			d.subIDs = []int{sub.id}
		}
		mt.targets = append(mt.targets, target{se: sub.sess, d: d})
	}
}

// pickShared chooses the member of a shared group that gets msg: by a hash
// of the chosen topic levels for flespi sticky shares, otherwise round
// robin preferring connected members. Call with the tree read-locked.
func pickShared(g *shareGroup, msg *message) *subscription {
	n := len(g.members)
	if n == 0 || !g.members[0].accepts(msg) {
		return nil
	}
	if i := g.members[0].filter.Share().Pick(msg.topic, n); i >= 0 {
		return g.members[i]
	}
	start := atomic.AddUint32(&g.next, 1)
	for k := 0; k < n; k++ {
		sub := g.members[int((start+uint32(k))%uint32(n))]
		if sub.sess.online.Load() {
			return sub
		}
	}
	return g.members[int(start%uint32(n))]
}

// deliver queues d for the session. Offline sessions drop QoS 0 messages;
// a full queue drops the message for this session.
func (s *session) deliver(d delivery) {
	s.mu.Lock()
	if s.gone || (d.qos == 0 && s.conn == nil && s.sink == nil) {
		s.mu.Unlock()
		return
	}
	if s.queuedBytes+d.msg.size > s.srv.lim.maxQueued ||
		s.srv.queuedTotal.Load()+int64(d.msg.size) > s.srv.lim.maxTotalQueued {
		s.dropped++
		n := s.dropped
		s.mu.Unlock()
		s.srv.stats.dropped.Add(1)
		if d.dseq != 0 {
			s.srv.state.acked(s, &outbound{delivery: d})
		}
		if n == 1 || n%10000 == 0 {
			s.srv.log.Warn("embedded: session queue full, dropping messages", "client", s.id, "dropped", n)
		}
		return
	}
	s.queue.push(d)
	s.addQueued(d.msg.size)
	c, k := s.conn, s.sink
	s.mu.Unlock()
	if c != nil {
		c.signal()
	} else if k != nil {
		k.signal()
	}
}

// addQueued accounts queued bytes in the session and server-wide. Call
// with s.mu held.
func (s *session) addQueued(delta int) {
	s.queuedBytes += delta
	s.srv.queuedTotal.Add(int64(delta))
}

// allocID returns a free packet ID. Call with s.mu held; in-flight
// messages are bounded below 65535 so a free ID exists.
func (s *session) allocID() uint16 {
	for {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		if _, used := s.inflight[s.nextID]; !used {
			return s.nextID
		}
	}
}

// writeItem is what the connection writer sends: a PUBLISH or a PUBREL.
type writeItem struct {
	d   delivery
	id  uint16
	dup bool
	rel bool
}

// takeLocked moves up to max items from resend and the queue into out,
// respecting the in-flight limit. Call with s.mu held.
func (s *session) takeLocked(out []writeItem, limit, max int) []writeItem {
	for len(s.resend) > 0 && len(out) < max {
		o := s.resend[0]
		s.resend[0] = nil
		s.resend = s.resend[1:]
		if cur, ok := s.inflight[o.id]; !ok || cur != o {
			continue
		}
		out = append(out, writeItem{d: o.delivery, id: o.id, dup: true, rel: o.rel})
	}
	now := time.Time{}
	for s.queue.len() > 0 && len(out) < max {
		d := s.queue.peek()
		if !d.msg.expiry.IsZero() {
			if now.IsZero() {
				now = s.srv.now()
			}
			if d.msg.expired(now) {
				s.addQueued(-d.msg.size)
				if d := s.queue.pop(); d.dseq != 0 {
					s.srv.state.acked(s, &outbound{delivery: d})
				}
				continue
			}
		}
		if d.qos == 0 {
			s.addQueued(-d.msg.size)
			out = append(out, writeItem{d: s.queue.pop()})
			continue
		}
		if len(s.inflight) >= limit {
			break
		}
		var id uint16
		if d.dseq != 0 {
			// A stored delivery's ID follows from its sequence number; when
			// an older message still holds that ID, wait for its ack.
			if id = packetID(d.dseq); s.inflight[id] != nil {
				break
			}
		} else {
			id = s.allocID()
		}
		o := &outbound{delivery: s.queue.pop(), id: id}
		s.seq++
		o.seq = s.seq
		if s.inflight == nil {
			s.inflight = make(map[uint16]*outbound)
		}
		s.inflight[o.id] = o
		out = append(out, writeItem{d: o.delivery, id: o.id})
	}
	return out
}

// checkAck checks that a client's PUBACK, PUBREC or PUBCOMP fits the QoS
// flow of the in-flight message it names: PUBACK for QoS 1, PUBREC for
// QoS 2, PUBCOMP for QoS 2 after its PUBREL. Anything else is a protocol
// error (an unknown ID is not: the message may have been dropped).
func (s *session) checkAck(typ byte, id uint16) error {
	s.mu.Lock()
	o, ok := s.inflight[id]
	bad := false
	if ok {
		switch typ {
		case packets.Puback:
			bad = o.qos != 1
		case packets.Pubrec:
			bad = o.qos != 2
		case packets.Pubcomp:
			bad = o.qos != 2 || !o.rel
		}
	}
	s.mu.Unlock()
	if bad {
		return &ProtocolError{Code: 0x82, Packet: packetName(typ),
			Err: fmt.Errorf("packet ID %d is a QoS %d message in another stage", id, o.qos)}
	}
	return nil
}

// ack completes the in-flight message id (PUBACK, PUBCOMP, a PUBREC with
// an error code, or a message the writer could not send).
func (s *session) ack(id uint16) {
	s.mu.Lock()
	o, ok := s.inflight[id]
	if ok {
		delete(s.inflight, id)
		s.addQueued(-o.msg.size)
	}
	c := s.conn
	s.mu.Unlock()
	if ok {
		s.srv.state.acked(s, o)
		if c != nil {
			c.signal()
		}
	}
}

// handlePubrec takes the client's PUBREC for a QoS 2 message the broker
// sent: the message is received, and the broker answers with PUBREL (0x92
// for an ID not in flight) once that is recorded.
func (c *conn) handlePubrec(se *session, id uint16, code byte) {
	if code >= 0x80 {
		se.ack(id)
		return
	}
	se.mu.Lock()
	o, ok := se.inflight[id]
	if ok {
		o.rel = true
	}
	se.mu.Unlock()
	if !ok {
		c.ack(se, packets.Pubrel, id, 0x92)
		return
	}
	c.waitCtrl(se)
	c.srv.state.released(se, o, func() { c.ackNoWait(se, packets.Pubrel, id, 0) })
}
