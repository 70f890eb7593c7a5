package embedded

import (
	"sync"
	"sync/atomic"
	"time"
)

// session is the state of one client ID: subscriptions, messages queued
// and in flight, and incoming QoS 2 packet IDs. It outlives connections
// when persistent. In-process subscribers have a session too, with a sink
// instead of a connection.
type session struct {
	srv    *Server
	id     string
	num    uint64 // orders sessions when grouping deliveries
	online atomic.Bool

	mu          sync.Mutex
	cond        sync.Cond // signalled when the writer drains conn.ctrl
	subs        map[string]*subscription
	queue       deque
	queuedBytes int
	inflight    map[uint16]*outbound
	resend      []*outbound // in-flight messages to send again on this connection
	seq         uint64
	nextID      uint16
	inQoS2      map[uint16]struct{}
	conn        *conn
	sink        *sink
	expiry      uint32 // session expiry interval, seconds
	expireTimer *time.Timer
	willTimer   *time.Timer
	pendingWill *message
	dropped     uint64
	gone        bool
}

func newSession(srv *Server, id string) *session {
	s := &session{srv: srv, id: id, num: srv.sessionSeq.Add(1), subs: make(map[string]*subscription)}
	s.cond.L = &s.mu
	return s
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
		if d.msg.expiry.IsZero() == false {
			if now.IsZero() {
				now = s.srv.now()
			}
			if d.msg.expired(now) {
				s.addQueued(-d.msg.size)
				s.queue.pop()
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
		o := &outbound{delivery: s.queue.pop(), id: s.allocID()}
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

// ack completes the in-flight message id (PUBACK, PUBCOMP, or a PUBREC
// with an error code).
func (s *session) ack(id uint16) {
	s.mu.Lock()
	o, ok := s.inflight[id]
	if ok {
		delete(s.inflight, id)
		s.addQueued(-o.msg.size)
	}
	c := s.conn
	s.mu.Unlock()
	if ok && c != nil {
		c.signal()
	}
}
