package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Server is the embedded MQTT broker. It serves network clients on the
// listeners given to Serve and is itself a broker.Broker for in-process
// publishers and subscribers. Create it with New; it is safe for
// concurrent use.
type Server struct {
	cfg  Config
	lim  limits
	log  *slog.Logger
	auth Authorizer

	tree     tree
	retained retainedStore

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	mu        sync.Mutex
	sessions  map[string]*session
	conns     map[*conn]struct{}
	listeners map[net.Listener]struct{}
	closed    bool

	clock  atomic.Int64 // Unix ns, refreshed every clockTick: time.Now is costly on the hot path
	nconns atomic.Int64
	// queuedTotal is the sum of every session's queuedBytes.
	queuedTotal atomic.Int64
	sessionSeq  atomic.Uint64
	wg          sync.WaitGroup
}

var _ broker.Broker = (*Server)(nil)

// New returns a Server configured by cfg; nil means the zero Config.
func New(cfg *Config) *Server {
	s := &Server{sessions: make(map[string]*session), conns: make(map[*conn]struct{}),
		listeners: make(map[net.Listener]struct{})}
	if cfg != nil {
		s.cfg = *cfg
	}
	s.lim = s.cfg.limits()
	s.log = s.cfg.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	s.auth = s.cfg.Authorizer
	if s.auth == nil {
		s.auth = TokenAuthorizer{}
	}
	s.retained.maxN, s.retained.maxBytes = s.lim.maxRetained, s.lim.maxRetainedBytes
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.clock.Store(time.Now().UnixNano())
	s.wg.Add(2)
	go s.janitor()
	go s.tick()
	return s
}

// Serve accepts MQTT connections on ln until ctx ends or the server is
// closed, and then closes ln. Pass a tls.NewListener for MQTT over TLS; see
// WebSocketHandler for WebSocket. Serve may be called for several
// listeners at once. It returns broker.ErrClosed after Close, ctx.Err()
// when ctx ended, or the listener's error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return broker.ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return broker.ErrClosed
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("embedded: accept", "err", err, "retry", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return ctx.Err()
				case <-s.ctx.Done():
					return broker.ErrClosed
				}
			}
			return err
		}
		backoff = 0
		s.ServeConn(nc)
	}
}

// ServeConn serves one already accepted connection (a net.Pipe in tests,
// a WebSocket). It returns at once; the connection is served on its own
// goroutines and closed when done.
func (s *Server) ServeConn(nc net.Conn) {
	if s.nconns.Add(1) > int64(s.lim.maxConns) || s.ctx.Err() != nil {
		s.nconns.Add(-1)
		nc.Close()
		return
	}
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.nconns.Add(-1)
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.nconns.Add(-1)
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Close disconnects every client (MQTT 5 clients get DISCONNECT "server
// shutting down"), stops in-process subscriptions and releases the
// server. Sessions are in memory and do not survive Close. Later calls
// return broker.ErrClosed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return broker.ErrClosed
	}
	s.closed = true
	s.cancel()
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	sessions := make([]*session, 0, len(s.sessions))
	for _, se := range s.sessions {
		sessions = append(sessions, se)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown(0x8B, true)
	}
	s.wg.Wait()
	for _, se := range sessions {
		se.mu.Lock()
		for _, t := range []*time.Timer{se.expireTimer, se.willTimer} {
			if t != nil {
				t.Stop()
			}
		}
		se.gone = true
		se.queue.reset()
		se.mu.Unlock()
	}
	return nil
}

// Publish routes m to every matching subscription, network or in-process,
// and stores it when retained (an empty retained payload deletes the
// retained message). It returns after m is queued for every subscriber;
// in-process publishes are not subject to the Authorizer nor to the
// reserved "flespi/" prefix.
func (s *Server) Publish(ctx context.Context, m broker.Message) error {
	if s.ctx.Err() != nil {
		return broker.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validTopicName(m.Topic) {
		return fmt.Errorf("%w: %q", broker.ErrBadTopic, m.Topic)
	}
	if m.QoS > 2 {
		return fmt.Errorf("embedded: QoS %d out of range", m.QoS)
	}
	msg := fromBroker(m, s.now())
	s.publish(msg)
	return nil
}

// publish adds the configured properties and routes msg.
func (s *Server) publish(msg *message) {
	if s.cfg.Timestamps && !hasUserProperty(msg.props.user, "timestamp") {
		ts := float64(msg.created.UnixNano()) / 1e9
		user := make([]packets.UserProperty, len(msg.props.user), len(msg.props.user)+1)
		copy(user, msg.props.user)
		msg.props.user = append(user, packets.UserProperty{Key: "timestamp",
			Val: strconv.FormatFloat(ts, 'f', -1, 64)})
	}
	msg.setSize()
	if msg.retain && !s.retained.set(msg) {
		s.log.Warn("embedded: retained message limit reached, not retaining", "topic", msg.topic)
	}
	s.route(msg)
}

// route delivers msg to every matching subscription: once per session
// (with the largest granted QoS and every matching subscription
// identifier) for ordinary subscriptions whose own $filter and No Local
// accept it, and to one member of each shared group.
func (s *Server) route(msg *message) {
	mt := matchPool.Get().(*matches)
	defer func() {
		mt.reset()
		matchPool.Put(mt)
	}()
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
		}
		if ok {
			if len(d.subIDs) > 1 {
				slices.Sort(d.subIDs)
			}
			subs[i].sess.deliver(d)
		}
		i = j
	}
	for _, sub := range picked {
		d := delivery{msg: msg, qos: min(msg.qos, sub.qos)}
		if sub.id > 0 {
			d.subIDs = []int{sub.id}
		}
		sub.sess.deliver(d)
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

// clockTick is the resolution of Server.now: message timestamps, expiry
// and deadlines are accurate to it.
const clockTick = 5 * time.Millisecond

// now is a coarse clock for per-packet timestamps.
func (s *Server) now() time.Time { return time.Unix(0, s.clock.Load()) }

func (s *Server) tick() {
	defer s.wg.Done()
	t := time.NewTicker(clockTick)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.clock.Store(now.UnixNano())
		}
	}
}

// janitor drops expired retained messages.
func (s *Server) janitor() {
	defer s.wg.Done()
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.retained.sweep(now, s.cfg.RetainedMaxAge)
		}
	}
}

// addSubscription stores sub in the session and the tree, replacing the
// session's subscription with the same filter. It reports whether the
// subscription is new. Call without locks.
func (s *Server) addSubscription(se *session, sub *subscription) (isNew bool, err error) {
	se.mu.Lock()
	old := se.subs[sub.filter.String()]
	if old == nil && len(se.subs) >= s.lim.maxSubs {
		se.mu.Unlock()
		return false, fmt.Errorf("embedded: client %q: more than %d subscriptions: %w", se.id, s.lim.maxSubs, ErrServerBusy)
	}
	if se.gone {
		se.mu.Unlock()
		return false, broker.ErrClosed
	}
	se.subs[sub.filter.String()] = sub
	se.mu.Unlock()
	if old != nil {
		s.tree.remove(old)
	}
	s.tree.add(sub)
	return old == nil, nil
}

func (s *Server) removeSubscription(se *session, filter string) bool {
	se.mu.Lock()
	old := se.subs[filter]
	delete(se.subs, filter)
	se.mu.Unlock()
	if old != nil {
		s.tree.remove(old)
	}
	return old != nil
}

// sendRetained queues the retained messages matching sub for its session.
func (s *Server) sendRetained(sub *subscription) {
	if sub.filter.shared() {
		return // retained messages are not sent to shared subscriptions
	}
	for _, m := range s.retained.collect(&sub.filter, time.Now(), s.cfg.RetainedMaxAge) {
		if !sub.accepts(m) {
			continue
		}
		d := delivery{msg: m, qos: min(m.qos, sub.qos), retain: true}
		if sub.id > 0 {
			d.subIDs = []int{sub.id}
		}
		sub.sess.deliver(d)
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
		delete(s.sessions, se.id)
	}
	s.mu.Unlock()
	se.gone = true
	subs := se.subs
	se.subs = map[string]*subscription{}
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
	if will != nil {
		s.publish(will)
	}
}

// Supports implements broker.FeatureReporter. "$filter" specs are
// available exactly when package broker can compile them.
func (s *Server) Supports(f broker.Feature) bool {
	if f == broker.FeatureFilterSpec {
		_, err := broker.ParseFilter("$filter/cid=1/a")
		return err == nil
	}
	return true
}
