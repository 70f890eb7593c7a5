package embedded

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// This file is the broker's administrative API: what an operator (flespi's
// /mqtt REST API, examples/gateway/rest) does to sessions and retained
// messages without being one of the clients. Every call works inside one
// namespace (Token.Namespace; "" is the broker's own space) and sees
// topics, filters and client identifiers as that namespace's clients do.
// Changes take the paths a client's own SUBSCRIBE, UNSUBSCRIBE and PUBLISH
// take, through the persistence layer.

// ErrNoSession: no session has that client identifier in that namespace.
var ErrNoSession = errors.New("embedded: no such session")

// SessionInfo is a snapshot of one network client's session.
type SessionInfo struct {
	ClientID string
	// Namespace is the client's Token.Namespace ("" for the broker's own
	// space).
	Namespace string
	Connected bool
	// Clean reports a session that ends with its connection (session
	// expiry 0: MQTT 3.1.1 clean session, MQTT 5 without a session expiry
	// interval); the others persist for Expiry after a disconnection.
	Clean  bool
	Expiry time.Duration
	// Subscriptions, sorted by filter, as the client wrote them.
	Subscriptions []Subscription
	// Queued counts the messages waiting to be sent to the client,
	// QueuedBytes their size as counted against MaxQueuedBytes; Inflight
	// the QoS 1 and 2 messages sent and not yet acknowledged; Dropped the
	// messages dropped because the queue was full.
	Queued      int
	QueuedBytes int
	Inflight    int
	Dropped     uint64
	// Client is the connected client (nil when offline).
	Client *Client
}

// Subscription is one subscription of a session, with its MQTT 5 options.
type Subscription struct {
	// Filter is the topic filter as the client sees it: "$share/…/" and
	// "$filter/…/" prefixes and comma lists allowed.
	Filter            string
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte // 0: send retained messages, 1: only for a new subscription, 2: never
	ID                int  // subscription identifier, 0 = none
}

// RetainedMessage is a retained message and when the broker received it.
type RetainedMessage struct {
	broker.Message
	Created time.Time
}

// sessionKeyIn is the key of client id's session in namespace ns (the
// same as conn.sessionKey).
func sessionKeyIn(ns, id string) string {
	if ns != "" {
		return ns + "\x00" + id
	}
	return id
}

func checkNamespace(ns string) error {
	return (&Token{Namespace: ns}).validate()
}

// Sessions lists the sessions of namespace ns — connected clients and
// persistent sessions waiting for theirs — sorted by client identifier.
// In-process subscriptions are not sessions of any namespace.
func (s *Server) Sessions(ns string) ([]SessionInfo, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var list []*session
	for key, se := range s.sessions {
		if ns == "" && !strings.Contains(key, "\x00") || ns != "" && strings.HasPrefix(key, ns+"\x00") {
			list = append(list, se)
		}
	}
	s.mu.Unlock()
	out := make([]SessionInfo, 0, len(list))
	for _, se := range list {
		if info, ok := se.info(ns); ok {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out, nil
}

// SessionCount returns how many sessions namespace ns holds — connected
// clients and persistent sessions waiting for theirs, what
// Token.MaxSessions bounds — without listing them.
func (s *Server) SessionCount(ns string) (int, error) {
	if err := checkNamespace(ns); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nsSessions[ns], nil
}

// Session returns the session of client id in namespace ns, or
// ErrNoSession.
func (s *Server) Session(ns, id string) (SessionInfo, error) {
	se, err := s.lookup(ns, id)
	if err != nil {
		return SessionInfo{}, err
	}
	if info, ok := se.info(ns); ok {
		return info, nil
	}
	return SessionInfo{}, fmt.Errorf("%w: %q", ErrNoSession, id)
}

func (s *Server) lookup(ns, id string) (*session, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	if s.ctx.Err() != nil {
		return nil, broker.ErrClosed
	}
	s.mu.Lock()
	se := s.sessions[sessionKeyIn(ns, id)]
	s.mu.Unlock()
	if se == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSession, id)
	}
	return se, nil
}

// info snapshots se; false when it ended meanwhile.
func (se *session) info(ns string) (SessionInfo, bool) {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.gone {
		return SessionInfo{}, false
	}
	info := SessionInfo{ClientID: strings.TrimPrefix(se.id, sessionKeyIn(ns, "")), Namespace: ns,
		Connected: se.conn != nil, Clean: se.expiry == 0, Expiry: time.Duration(se.expiry) * time.Second,
		Queued: se.queue.len(), QueuedBytes: se.queuedBytes, Inflight: len(se.inflight), Dropped: se.dropped}
	if se.conn != nil {
		info.Client = se.conn.client
	}
	for _, sub := range se.subs.all() {
		raw, topic := sub.filter.String(), sub.filter.Topic()
		info.Subscriptions = append(info.Subscriptions, Subscription{
			Filter: raw[:len(raw)-len(topic)] + strings.TrimPrefix(topic, ns), QoS: sub.qos, NoLocal: sub.noLocal,
			RetainAsPublished: sub.rap, RetainHandling: sub.rh, ID: sub.id})
	}
	slices.SortFunc(info.Subscriptions, func(a, b Subscription) int { return strings.Compare(a.Filter, b.Filter) })
	return info, true
}

// EndSession ends the session of client id in namespace ns, as if it had
// expired: a connected client is disconnected first (MQTT 5 clients get
// DISCONNECT 0x98, administrative action, and its will is published as
// for any connection the server closes), then its subscriptions and
// queued messages are dropped. It returns ErrNoSession when there is no
// such session, and waits for the client's connection to end at most
// until ctx does.
func (s *Server) EndSession(ctx context.Context, ns, id string) error {
	se, err := s.lookup(ns, id)
	if err != nil {
		return err
	}
	for tries := 0; tries < 10; tries++ {
		se.mu.Lock()
		c, gone := se.conn, se.gone
		se.mu.Unlock()
		if gone {
			return nil // ended meanwhile (a clean session ends with its connection)
		}
		if c != nil {
			c.shutdown(0x98, true)
			select {
			case <-c.done.wait():
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		s.endSessionIf(se, true)
		// Still there: the client came back at that instant; end it again.
	}
	return fmt.Errorf("embedded: session %q: its client keeps reconnecting: %w", id, ErrServerBusy)
}

// SubscribeSession adds subscriptions to the session of client id in
// namespace ns, whether the client is connected or not, as if the client
// had sent them in a SUBSCRIBE: a subscription with the same filter is
// replaced, the retained messages its RetainHandling asks for are queued
// (an offline session keeps those of QoS 1 and 2), and the session is
// saved like after a SUBSCRIBE. Filters are taken inside the namespace.
// The Authorizer is not asked: the caller is the administrator. It fails,
// adding nothing, on a bad filter (broker.ErrBadTopic, or
// broker.ErrUnsupported for a $filter spec that cannot be evaluated) or
// bad options; it may fail part-way with ErrServerBusy when the session
// reaches MaxSubscriptions.
func (s *Server) SubscribeSession(ctx context.Context, ns, id string, subs ...Subscription) error {
	se, err := s.lookup(ns, id)
	if err != nil {
		return err
	}
	parsed := make([]*subscription, 0, len(subs))
	for _, sub := range subs {
		if sub.QoS > 2 || sub.RetainHandling > 2 || sub.ID < 0 || sub.ID > 268435455 {
			return fmt.Errorf("embedded: subscription %q: bad options", sub.Filter)
		}
		pf, err := parseFilter(sub.Filter)
		if err != nil {
			return err
		}
		if pf.shared() && sub.NoLocal {
			return fmt.Errorf("embedded: subscription %q: no local on a shared subscription", sub.Filter)
		}
		if ns != "" {
			if pf, err = parseFilter(namespaceFilter(ns, &pf.Filter)); err != nil {
				return err
			}
		}
		parsed = append(parsed, &subscription{sess: se, filter: pf, qos: sub.QoS, noLocal: sub.NoLocal,
			rap: sub.RetainAsPublished, rh: sub.RetainHandling, id: sub.ID})
	}
	var retained []*subscription
	for _, sub := range parsed {
		isNew, err := s.addSubscription(se, sub)
		if errors.Is(err, broker.ErrClosed) {
			err = fmt.Errorf("%w: %q", ErrNoSession, id) // ended meanwhile
		}
		if err != nil {
			s.saveAndWait(ctx, se, nil) // what was added stays, and is saved
			return err
		}
		if sub.rh == 0 || (sub.rh == 1 && isNew) {
			retained = append(retained, sub)
		}
	}
	return s.saveAndWait(ctx, se, func() {
		for _, sub := range retained {
			s.sendRetained(sub)
		}
	})
}

// UnsubscribeSession removes the subscriptions with these filters (as the
// client wrote them) from the session of client id in namespace ns,
// whether the client is connected or not, and saves the session like
// after an UNSUBSCRIBE. It returns the filters that were subscribed.
func (s *Server) UnsubscribeSession(ctx context.Context, ns, id string, filters ...string) ([]string, error) {
	se, err := s.lookup(ns, id)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, f := range filters {
		key := f
		if ns != "" {
			pf, err := broker.ParseFilter(f)
			if err != nil {
				continue // no subscription has this key
			}
			key = namespaceFilter(ns, &pf)
		}
		if s.removeSubscription(se, key) {
			removed = append(removed, f)
		}
	}
	return removed, s.saveAndWait(ctx, se, nil)
}

// saveAndWait saves se through the persistence layer, runs then once it is
// committed, and waits for that at most until ctx ends.
func (s *Server) saveAndWait(ctx context.Context, se *session, then func()) error {
	done := make(chan struct{})
	s.state.saveSession(se, func() {
		if then != nil {
			then()
		}
		close(done)
	})
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retainedFilter parses a filter of retained messages (no "$share/" or
// "$filter/" prefix) and puts it inside ns.
func retainedFilter(ns, filter string) (parsedFilter, error) {
	if err := checkNamespace(ns); err != nil {
		return parsedFilter{}, err
	}
	f, err := broker.ParseFilter(filter)
	if err != nil {
		return parsedFilter{}, err
	}
	if f.Topic() != filter {
		return parsedFilter{}, &broker.TopicError{Topic: filter, Reason: "retained messages are selected by a plain topic filter"}
	}
	return parseFilter(ns + filter)
}

// Retained lists the live retained messages of namespace ns matching
// filter (an MQTT filter: '+', '#' and comma lists; "#" does not reach
// topics starting with '$'), sorted by topic, with topics as the
// namespace's clients see them; a RetainedSource's are included.
func (s *Server) Retained(ns, filter string) ([]RetainedMessage, error) {
	pf, err := retainedFilter(ns, filter)
	if err != nil {
		return nil, err
	}
	now := s.now()
	msgs := s.retainedFor(&pf, now)
	out := make([]RetainedMessage, len(msgs))
	for i, m := range msgs {
		bm := m.toBroker(m.qos, true, now)
		bm.Topic = strings.TrimPrefix(bm.Topic, ns)
		out[i] = RetainedMessage{Message: bm, Created: m.created}
	}
	return out, nil
}

// DeleteRetained deletes the retained messages of these topics (topic
// names of namespace ns, no wildcards: list them with Retained) and returns
// the topics that had one. A deletion is recorded like a client's empty
// retained publish, but nothing is delivered to subscribers.
func (s *Server) DeleteRetained(ctx context.Context, ns string, topics ...string) ([]string, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	for _, t := range topics {
		if !validTopicName(ns + t) {
			return nil, &broker.TopicError{Topic: t, Reason: "not a topic name"}
		}
	}
	var deleted []string
	for _, t := range topics {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		if !s.retained.delete(ns + t) {
			continue
		}
		// The persistence layer sees what a client's empty retained
		// publish makes it see, without targets to deliver to.
		del := &message{topic: ns + t, retain: true, created: s.now()}
		del.setSize()
		s.state.publish(routed{msg: del, retain: true})
		deleted = append(deleted, t)
	}
	return deleted, nil
}

// delete removes topic's retained message and reports whether it had one.
func (r *retainedStore) delete(topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.has(topic) {
		return false
	}
	r.remove(&r.root, topic)
	return true
}
