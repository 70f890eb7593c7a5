package embedded

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// This file is a session's life: created or resumed (or taken over) when a
// client connects, detached when its connection ends — the will published
// or scheduled, the session ended or kept until it expires — and ended.

// session is the state of one client ID: subscriptions, messages queued
// and in flight, and incoming QoS 2 packet IDs. It outlives connections
// when persistent. In-process subscribers have a session too, with a sink
// instead of a connection.
type session struct {
	srv *Server
	id  string
	num uint64 // orders sessions when grouping deliveries

	mu sync.Mutex
	// cond is broadcast when the writer drains conn.ctrl (broadcastLocked),
	// made by the first wait for that (waitLocked): a session whose client
	// never fills c.ctrl carries no sync.Cond (48 bytes more, and the
	// struct in the next allocation size class). Guarded by mu.
	cond *sync.Cond
	// subs is nil until the first subscription: a connection that only
	// publishes keeps none.
	subs        *subSet
	queue       deque
	queuedBytes int
	inflight    map[uint16]*outbound
	resend      []*outbound // in-flight messages to send again on this connection
	seq         uint64
	inQoS2      map[uint16]struct{}
	conn        *conn
	sink        *sink
	expireTimer *time.Timer
	willTimer   *time.Timer
	pendingWill *message
	dropped     uint64
	// The small fields share words (the struct then fits a smaller
	// allocation size class); online is read without mu.
	expiry uint32 // session expiry interval, seconds
	online atomic.Bool
	nextID uint16
	gone   bool

	// Kept by the data directory (durable.go): the generation naming the
	// session's stored state (0: not stored), since when it is offline, and
	// when its pending will is due.
	// Unix nanoseconds, 0 for none (a time.Time is three words).
	dgen      atomic.Uint64
	offlineAt int64
	willAt    int64
}

func newSession(srv *Server, id string) *session {
	return &session{srv: srv, id: id, num: srv.sessionSeq.Add(1)}
}

// waitLocked waits for broadcastLocked; call with se.mu held, as for
// sync.Cond.Wait.
func (se *session) waitLocked() {
	if se.cond == nil {
		se.cond = sync.NewCond(&se.mu)
	}
	se.cond.Wait()
}

// broadcastLocked wakes whoever waitLocked; call with se.mu held.
func (se *session) broadcastLocked() {
	if se.cond != nil {
		se.cond.Broadcast()
	}
}

// attach binds c to the session id, taking it over from another
// connection, resuming it, or creating it. A session it creates counts
// against its namespace's Token.MaxSessions; one that replaces the
// session it took over or ended (clean start) is not a new one.
func (s *Server) attach(c *conn, id string, clean bool, expiry uint32) (*session, bool, error) {
	quota := 0
	if c.client != nil && c.client.Token != nil {
		quota = c.client.Token.MaxSessions
	}
	replaces := false
	for tries := 0; tries < 10; tries++ {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, false, broker.ErrClosed
		}
		se := s.sessions[id]
		if se != nil {
			se.mu.Lock()
			old := se.conn
			se.mu.Unlock()
			replaces = true
			if old != nil {
				s.mu.Unlock()
				old.shutdown(0x8E, true)
				select {
				case <-old.done.wait():
				case <-time.After(5 * time.Second):
					return nil, false, fmt.Errorf("embedded: session %q: takeover timed out: %w", id, ErrServerBusy)
				}
				continue
			}
			if clean {
				s.mu.Unlock()
				s.endSession(se)
				continue
			}
			se.mu.Lock()
			if se.gone {
				se.mu.Unlock()
				s.mu.Unlock()
				continue
			}
			for _, t := range []*time.Timer{se.expireTimer, se.willTimer} {
				if t != nil {
					t.Stop()
				}
			}
			se.expireTimer, se.willTimer, se.pendingWill = nil, nil, nil
			se.conn, se.expiry = c, expiry
			se.online.Store(true)
			se.resend = se.resend[:0]
			for _, o := range se.inflight {
				se.resend = append(se.resend, o)
			}
			slices.SortFunc(se.resend, func(a, b *outbound) int { return int(a.seq - b.seq) })
			se.mu.Unlock()
			s.mu.Unlock()
			c.signal()
			return se, true, nil
		}
		if len(s.sessions) >= s.lim.maxSessions {
			s.mu.Unlock()
			return nil, false, fmt.Errorf("embedded: %d sessions: %w", len(s.sessions), ErrServerBusy)
		}
		ns := sessionNamespace(id)
		if n := s.nsSessions[ns]; quota > 0 && !replaces && n >= quota {
			s.mu.Unlock()
			return nil, false, fmt.Errorf("embedded: namespace %q holds %d sessions of %d: %w", ns, n, quota, ErrQuotaExceeded)
		}
		se = newSession(s, id)
		se.conn, se.expiry = c, expiry
		se.online.Store(true)
		s.addSession(se)
		s.mu.Unlock()
		return se, false, nil
	}
	return nil, false, fmt.Errorf("embedded: session %q: attach: %w", id, ErrServerBusy)
}

// detach unbinds c from se after the connection ended: publishes or
// schedules the will, and ends or schedules the end of the session.
func (c *conn) detach(se *session, cause error) {
	s := c.srv
	c.endHooks()
	closing := s.ctx.Err() != nil
	se.mu.Lock()
	mine := se.conn == c
	if mine {
		se.conn = nil
		se.online.Store(false)
		se.resend = nil
	}
	expiry, gone := se.expiry, se.gone
	var will *message
	if c.will != nil && !c.normalClose && !gone && !closing {
		delay := min(c.willDelay, expiry)
		if delay == 0 {
			will = c.will
		} else {
			se.pendingWill = c.will
			se.willAt = time.Now().Add(time.Duration(delay) * time.Second).UnixNano()
			se.willTimer = time.AfterFunc(time.Duration(delay)*time.Second, func() { s.firePendingWill(se) })
		}
	}
	if mine && !gone && expiry > 0 && !closing {
		se.expireTimer = time.AfterFunc(time.Duration(expiry)*time.Second, func() {
			s.endSessionIf(se, true)
		})
	}
	se.mu.Unlock()
	if will != nil {
		will.created = time.Now()
		s.publish(will, routed{})
	}
	if mine && expiry == 0 && !gone {
		s.endSession(se)
	} else if mine && !gone {
		s.state.saveSession(se, nil) // offline since now, maybe with a pending will
	}
	c.done.fire()
	if cb := s.cfg.ConnState; cb != nil && c.client != nil {
		if errors.Is(cause, errNormalDisconnect) {
			cause = nil
		}
		cb(c.client, StateDisconnected, cause)
	}
}

// firePendingWill publishes se's pending will, if it still has one, and
// records that it has none.
func (s *Server) firePendingWill(se *session) {
	se.mu.Lock()
	w := se.pendingWill
	se.pendingWill = nil
	gone := se.gone
	se.mu.Unlock()
	if w != nil {
		s.publish(w, routed{})
		if !gone {
			s.state.saveSession(se, nil)
		}
	}
}

// endSession removes se: its subscriptions, queue and pending will (which
// is published now).
func (s *Server) endSession(se *session) { s.endSessionIf(se, false) }

// endSessionIf ends se; with onlyOffline, only if no connection is attached
// at that moment (checked under the same locks attach takes, so a client
// resuming the session at the instant it expires keeps it).
func (s *Server) endSessionIf(se *session, onlyOffline bool) {
	s.mu.Lock()
	se.mu.Lock()
	if se.gone || (onlyOffline && se.conn != nil) {
		se.mu.Unlock()
		s.mu.Unlock()
		return
	}
	if s.sessions[se.id] == se {
		s.removeSession(se)
	}
	s.mu.Unlock()
	se.gone = true
	subs := se.subs.all()
	se.subs = nil
	se.queue.reset()
	se.addQueued(-se.queuedBytes)
	se.inflight, se.resend = nil, nil
	if se.expireTimer != nil {
		se.expireTimer.Stop()
	}
	will := se.pendingWill
	se.pendingWill = nil
	if se.willTimer != nil {
		se.willTimer.Stop()
	}
	se.mu.Unlock()
	for _, sub := range subs {
		s.tree.remove(sub)
	}
	s.state.dropSession(se)
	if will != nil {
		s.publish(will, routed{})
	}
}

// addSession puts se in the session table and counts it in its
// namespace. Call with s.mu held.
func (s *Server) addSession(se *session) {
	s.sessions[se.id] = se
	s.nsSessions[sessionNamespace(se.id)]++
}

// removeSession takes se out of the session table and its namespace's
// count. Call with s.mu held, se being the table's.
func (s *Server) removeSession(se *session) {
	delete(s.sessions, se.id)
	ns := sessionNamespace(se.id)
	if s.nsSessions[ns]--; s.nsSessions[ns] <= 0 {
		delete(s.nsSessions, ns)
	}
}

// sessionNamespace is the namespace of a session key (sessionKeyIn).
func sessionNamespace(key string) string {
	if i := strings.IndexByte(key, 0); i >= 0 {
		return key[:i]
	}
	return ""
}
