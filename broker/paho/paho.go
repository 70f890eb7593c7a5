package paho

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	mqtt "github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/session/state"
	"github.com/eclipse/paho.golang/paho/store/memory"
	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/broker"
)

// Broker is a broker.Broker backed by an external MQTT 5 broker. It keeps
// one connection, reconnecting with backoff and resubscribing after every
// reconnection. See the package documentation for what it emulates.
type Broker struct {
	cfg       Config
	generated bool               // ClientID was generated: end the session on Close
	idKey     string             // user property carrying subscription identifiers (subids.go)
	session   *state.State       // kept across connections
	store     *clientStore       // the session's outgoing packets
	guard     *guardedSession    // session as paho sees it
	stop      context.CancelFunc // ends the connection manager and handler contexts
	ctx       context.Context    // handlers' context
	log       *slog.Logger
	cm        *autopaho.ConnectionManager

	// The gate in front of autopaho's connection (conn.go).
	sendMu  sync.RWMutex
	cur     *connState    // the open connection; nil until resubscribed
	readyCh chan struct{} // closed when cur is set
	latest  int64         // number of the newest connection
	lost    int64         // number of the last connection lost
	holdMu  sync.Mutex
	holding map[*mqtt.Publish]struct{} // publishes holding the gate until paho picked a connection

	lastErr atomic.Pointer[error] // of the last failed connection attempt
	gen     atomic.Uint64         // bumped whenever a connection is lost
	subIDs  atomic.Bool           // the server supports subscription identifiers
	ups     atomic.Int64          // connections made so far

	opMu sync.Mutex // serialises SUBSCRIBE/UNSUBSCRIBE traffic

	mu      sync.Mutex
	closed  bool
	servers map[string]*serverSub // by the filter sent to the server
	byID    map[int]*serverSub
	orphans []orphan     // QoS 1 messages no local subscription wanted yet
	retired map[int]bool // identifiers of server subscriptions we removed
}

// orphan is a QoS 1 message that arrived before any local subscription
// for it: a resumed session delivers queued messages right after CONNECT,
// before the application had a chance to call Subscribe.
type orphan struct {
	msg broker.Message
	ack *ack
}

// orphanGrace is how long an orphan waits for a Subscribe that wants it
// before it is acknowledged and dropped.
const orphanGrace = 10 * time.Second

// serverSub is one subscription on the external broker, shared by the local
// subscriptions whose filters widen to the same MQTT filter.
type serverSub struct {
	filter string // as sent, "$share/g/…" included
	topic  string // without the share prefix, for matching
	id     int    // subscription identifier
	plain  []*subscription
	groups map[string]*shareGroup // by broker.Filter.ShareKey
}

type shareGroup struct {
	members []*subscription
	next    int // round robin
}

func (ss *serverSub) empty() bool { return len(ss.plain) == 0 && len(ss.groups) == 0 }

// New connects to cfg.Server and returns once the first connection is up,
// or with an error when ctx ends first (the attempts then stop).
func New(ctx context.Context, cfg Config) (*Broker, error) {
	cfg = cfg.withDefaults()
	server := cfg.Server
	if server == "" {
		return nil, errors.New("broker/paho: Config.Server is empty")
	}
	if !strings.Contains(server, "://") {
		server = "mqtt://" + server
	}
	u, err := url.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("broker/paho: Config.Server: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp", "tls", "ssl", "mqtts", "ws", "wss": // autopaho dials these
	default:
		return nil, fmt.Errorf("broker/paho: Config.Server %q: scheme %q: %w (use mqtt, tcp, tls, ssl, mqtts, ws or wss)", cfg.Server, u.Scheme, broker.ErrUnsupported)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("broker/paho: Config.Server %q: no host", cfg.Server)
	}
	b := &Broker{
		cfg:     cfg,
		log:     cfg.Logger.With("broker", "paho", "server", u.Host),
		servers: map[string]*serverSub{},
		byID:    map[int]*serverSub{},
		retired: map[int]bool{},
		holding: map[*mqtt.Publish]struct{}{},
		idKey:   "gnssgate-subscription-ids-" + uuid.NewString(),
	}
	if cfg.ClientID == "" {
		b.cfg.ClientID = "gnssgate-" + uuid.NewString()
		b.generated = true
	}
	b.subIDs.Store(true)

	// Ours, not autopaho's default, so that Close can release it, and
	// with a client store that does not encode every PUBLISH (store.go).
	b.store = newClientStore()
	b.session = state.New(b.store, memory.New())
	b.guard = &guardedSession{State: b.session}
	b.readyCh = make(chan struct{})
	b.ctx, b.stop = context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(b.ctx, b.clientConfig(u))
	if err != nil {
		b.stop()
		b.session.Close()
		return nil, fmt.Errorf("broker/paho: %w", err)
	}
	b.cm = cm
	_, err = b.awaitConn(ctx, nil)
	if err == nil {
		b.sendMu.RUnlock()
		return b, nil
	}
	b.stop()
	<-cm.Done()
	b.session.Close()
	if last := b.lastErr.Load(); last != nil {
		return nil, fmt.Errorf("broker/paho: connecting to %s: %w: %w (last attempt: %v)", u.Host, broker.ErrNotConnected, ctx.Err(), *last)
	}
	return nil, fmt.Errorf("broker/paho: connecting to %s: %w: %w", u.Host, broker.ErrNotConnected, ctx.Err())
}

// resubscribe renews every server subscription on connection n, then opens
// the gate for it, so that a publisher cannot overtake the resubscription.
// A session the broker kept already has them; retain handling 1 then
// avoids sending the retained messages again. It takes no opMu: a
// Subscribe may hold it while waiting for this very connection.
func (b *Broker) resubscribe(cm *autopaho.ConnectionManager, n int64) {
	b.mu.Lock()
	subs := make([]*serverSub, 0, len(b.servers))
	for _, ss := range b.servers {
		subs = append(subs, ss)
	}
	b.mu.Unlock()
	for _, ss := range subs {
		ctx, cancel := context.WithTimeout(context.WithValue(b.ctx, connKey{}, &connState{n: n}), b.cfg.ConnectTimeout)
		ack, err := cm.Subscribe(ctx, b.subscribePacket(ss, 1))
		cancel()
		if ack != nil && len(ack.Reasons) > 0 && ack.Reasons[0] >= 0x80 {
			err = reasonError("subscribe "+ss.filter, ack.Reasons[0])
		}
		if err != nil && b.ctx.Err() == nil && b.ups.Load() == n {
			b.log.Error("mqtt resubscribe failed", "filter", ss.filter, "err", err)
		}
	}
	b.open(n)
}

func (b *Broker) subscribePacket(ss *serverSub, retainHandling byte) *mqtt.Subscribe {
	s := &mqtt.Subscribe{Subscriptions: []mqtt.SubscribeOptions{{Topic: ss.filter, QoS: 1, RetainHandling: retainHandling}}}
	if b.subIDs.Load() && ss.id != 0 {
		id := ss.id
		s.Properties = &mqtt.SubscribeProperties{SubscriptionIdentifier: &id}
	}
	return s
}

func (b *Broker) sendSubscribe(ctx context.Context, ss *serverSub, retainHandling byte) error {
	s := b.subscribePacket(ss, retainHandling)
	return b.withConn(ctx, true, func(ctx context.Context) error {
		b.sendMu.RUnlock()
		ack, err := b.cm.Subscribe(ctx, s)
		if ack != nil && len(ack.Reasons) > 0 && ack.Reasons[0] >= 0x80 {
			return reasonError("subscribe "+ss.filter, ack.Reasons[0])
		}
		if err != nil {
			return connError(err)
		}
		return nil
	})
}

// Publish sends m and, for QoS 1 and 2, returns after the broker's PUBACK
// or PUBCOMP. It waits for a connection while ctx allows. An error after
// the message was written does not prove it was lost: with a persistent
// session paho resends it after reconnecting.
func (b *Broker) Publish(ctx context.Context, m broker.Message) error {
	if b.isClosed() {
		return broker.ErrClosed
	}
	if err := broker.ValidateTopic(m.Topic); err != nil {
		return err
	}
	if m.QoS > 2 {
		return fmt.Errorf("broker/paho: QoS %d: %w", m.QoS, broker.ErrUnsupported)
	}
	p := toPaho(m)
	return b.withConn(ctx, !b.persistent(), func(ctx context.Context) error {
		// PublishHook releases the gate once paho picked the connection.
		b.hold(p)
		resp, err := b.cm.Publish(ctx, p)
		b.unhold(p)
		if resp != nil && resp.ReasonCode >= 0x80 {
			return reasonError("publish "+m.Topic, resp.ReasonCode)
		}
		if err != nil {
			return connError(err)
		}
		return nil
	})
}

// Subscribe subscribes on the external broker (sharing one server
// subscription between local subscriptions with the same widened filter)
// and delivers matching messages to h. Sticky shared groups are refused
// with broker.ErrUnsupported.
func (b *Broker) Subscribe(ctx context.Context, filter string, h broker.Handler) (broker.Subscription, error) {
	if b.isClosed() {
		return nil, broker.ErrClosed
	}
	f, err := broker.ParseFilter(filter)
	if err != nil {
		return nil, err
	}
	if sh := f.Share(); sh != nil && sh.Sticky() {
		return nil, fmt.Errorf("broker/paho: %q: sticky shared groups are a flespi extension an external broker cannot honour: %w", filter, broker.ErrUnsupported)
	}
	serverFilter := f.MQTTTopic()
	if sh := f.Share(); sh != nil {
		serverFilter = "$share/" + sh.Group + "/" + serverFilter
	}
	s := &subscription{
		b: b, filter: f, h: h,
		queue: make(chan delivery, b.cfg.QueueLen),
		done:  make(chan struct{}),
	}

	b.opMu.Lock()
	defer b.opMu.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, broker.ErrClosed
	}
	ss := b.servers[serverFilter]
	if ss == nil {
		ss = &serverSub{filter: serverFilter, topic: f.MQTTTopic(), id: subscriptionID(serverFilter), groups: map[string]*shareGroup{}}
		if b.byID[ss.id] != nil {
			ss.id = 0 // a hash collision: route this one by topic
		}
		b.servers[serverFilter] = ss
		if ss.id != 0 {
			b.byID[ss.id] = ss
			delete(b.retired, ss.id)
		}
	}
	s.server = ss
	ss.add(s)
	// Messages that came before this subscription (a resumed session).
	var adopted []orphan
	kept := b.orphans[:0]
	for _, o := range b.orphans {
		if s.filter.MatchMessage(o.msg, broker.Origin{Time: o.ack.at}) {
			adopted = append(adopted, o)
		} else {
			kept = append(kept, o)
		}
	}
	clear(b.orphans[len(kept):])
	b.orphans = kept
	b.mu.Unlock()

	// SUBSCRIBE even when the server subscription exists: the broker then
	// sends the retained messages the new subscription is owed.
	if err := b.sendSubscribe(ctx, ss, 0); err != nil {
		b.mu.Lock()
		ss.remove(s)
		if ss.empty() {
			delete(b.servers, ss.filter)
			if b.byID[ss.id] == ss {
				delete(b.byID, ss.id)
			}
		}
		b.mu.Unlock()
		if b.isClosed() {
			return nil, broker.ErrClosed
		}
		return nil, err
	}
	go s.run()
	for _, o := range adopted {
		s.enqueue(delivery{msg: o.msg, ack: o.ack})
	}
	return s, nil
}

// subscriptionID derives the MQTT 5 subscription identifier from the filter
// (1 to 268,435,455), so that a restarted process with a resumed session
// routes redelivered messages to the same filters.
func subscriptionID(filter string) int {
	h := fnv.New32a()
	h.Write([]byte(filter))
	return int(h.Sum32()%268435455) + 1
}

func (ss *serverSub) add(s *subscription) {
	if key := s.filter.ShareKey(); key != "" {
		g := ss.groups[key]
		if g == nil {
			g = &shareGroup{}
			ss.groups[key] = g
		}
		g.members = append(g.members, s)
		return
	}
	ss.plain = append(ss.plain, s)
}

func (ss *serverSub) remove(s *subscription) {
	del := func(list []*subscription) []*subscription {
		for i, x := range list {
			if x == s {
				return append(list[:i:i], list[i+1:]...)
			}
		}
		return list
	}
	if key := s.filter.ShareKey(); key != "" {
		if g := ss.groups[key]; g != nil {
			g.members = del(g.members)
			if len(g.members) == 0 {
				delete(ss.groups, key)
			}
		}
		return
	}
	ss.plain = del(ss.plain)
}

// onPublish routes one PUBLISH from the broker to the local subscriptions.
// It runs on paho's single receiving goroutine, so deliveries keep the
// broker's order; a full subscription queue blocks it (back-pressure).
func (b *Broker) onPublish(pr mqtt.PublishReceived) (bool, error) {
	ids := subscriptionIDs(pr.Packet, b.idKey) // before fromPaho: it strips ours
	m := fromPaho(pr.Packet)
	gen := b.gen.Load()
	origin := broker.Origin{Time: time.Now()}
	var targets []*subscription

	b.mu.Lock()
	route := func(ss *serverSub) {
		for _, s := range ss.plain {
			if s.filter.MatchMessage(m, origin) {
				targets = append(targets, s)
			}
		}
		for _, g := range ss.groups {
			// Members of a group share one filter: check it once.
			if g.members[0].filter.MatchMessage(m, origin) {
				targets = append(targets, g.members[g.next%len(g.members)])
				g.next++
			}
		}
	}
	orphaned := false
	if len(ids) > 0 {
		// One copy per subscription (one identifier each) or one copy for
		// all of them (every identifier): either way each server
		// subscription named gets the message once.
		var routed []*serverSub
		for _, id := range ids {
			ss := b.byID[id]
			switch {
			case ss == nil:
				// A subscription of a resumed session, not yet made again
				// in this process (or one we just removed).
				orphaned = orphaned || !b.retired[id]
			case !slices.Contains(routed, ss): // a server repeating an identifier
				routed = append(routed, ss)
				route(ss)
			}
		}
	} else {
		// No identifier: every server subscription that has none (all of
		// them if the server does not support identifiers).
		for _, ss := range b.servers {
			if (ss.id == 0 || !b.subIDs.Load()) && broker.MatchTopic(ss.topic, m.Topic) {
				route(ss)
			}
		}
	}
	var a *ack
	if m.QoS > 0 {
		a = &ack{b: b, pub: pr.Packet, client: pr.Client, gen: gen, at: origin.Time}
		a.pending.Store(int32(len(targets)))
		switch {
		case orphaned:
			// Also wanted by a subscription not made again yet.
			a.pending.Add(1)
			b.adopt(orphan{msg: m, ack: a})
		case len(targets) > 0:
		default:
			// Its subscription's filters do not want it (a widened comma
			// list or a $filter spec) or it is gone.
			defer a.send()
		}
	}
	b.mu.Unlock()
	for _, s := range targets {
		s.enqueue(delivery{msg: m, ack: a})
	}
	return true, nil
}

// adopt keeps an orphan for orphanGrace (b.mu held). The PUBACK waits, and
// with it the acknowledgements after it: MQTT acknowledges in order.
func (b *Broker) adopt(o orphan) {
	if len(b.orphans) >= b.cfg.QueueLen {
		old := b.orphans[0]
		b.orphans = b.orphans[1:]
		b.log.Warn("no subscription for a message; acknowledged and dropped", "topic", old.msg.Topic)
		old.ack.done()
	}
	b.orphans = append(b.orphans, o)
	time.AfterFunc(orphanGrace, func() {
		b.mu.Lock()
		found := false
		for i, x := range b.orphans {
			if x.ack == o.ack {
				b.orphans = append(b.orphans[:i], b.orphans[i+1:]...)
				found = true
				break
			}
		}
		b.mu.Unlock()
		if found {
			b.log.Warn("no subscription for a message; acknowledged and dropped", "topic", o.msg.Topic, "waited", orphanGrace)
			o.ack.done()
		}
	})
}

// redeliver drops the connection the refused message came on, so that the
// broker sends every unacknowledged message of the session again.
//
// paho has no other way to drop a connection without ending the session:
// Client.Disconnect stops the client before its reader sees the socket
// close, and then autopaho may never learn that the connection ended.
// Closing the socket is what a network failure does, which autopaho
// handles; paho names the call "ForTest" because that is its usual use.
func (b *Broker) redeliver(gen uint64, cli *mqtt.Client) {
	if !b.gen.CompareAndSwap(gen, gen+1) {
		return // that connection is already gone
	}
	b.log.Info("mqtt reconnecting so that the broker redelivers a refused message")
	cli.TerminateConnectionForTest()
}

// persistent reports whether the broker keeps the session across a
// reconnection, so unacknowledged messages come back.
func (b *Broker) persistent() bool { return b.cfg.SessionExpiry > 0 }

// Supports reports the optional features: sticky shares are refused,
// "$filter" works when package broker can compile specs, redelivery needs a
// persistent session.
func (b *Broker) Supports(f broker.Feature) bool {
	switch f {
	case broker.FeatureStickyShare:
		return false
	case broker.FeatureFilterSpec:
		_, err := broker.ParseFilter("$filter/cid=1/a")
		return err == nil
	case broker.FeatureRedelivery:
		return b.persistent()
	}
	return true
}

// ClientID returns the MQTT client id in use (generated when Config had none).
func (b *Broker) ClientID() string { return b.cfg.ClientID }

// Close disconnects and stops every subscription. With a configured
// ClientID the session stays on the broker for SessionExpiry, so a new
// Broker with the same ClientID resumes it; a generated id's session ends.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return broker.ErrClosed
	}
	b.closed = true
	var subs []*subscription
	for _, ss := range b.servers {
		subs = append(subs, ss.plain...)
		for _, g := range ss.groups {
			subs = append(subs, g.members...)
		}
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.stop()
	}
	b.stop() // autopaho sends DISCONNECT and stops
	<-b.cm.Done()
	b.session.Close()
	return nil
}

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// ack acknowledges one QoS 1/2 PUBLISH once every local recipient handled it.
type ack struct {
	b       *Broker
	pub     *mqtt.Publish
	client  *mqtt.Client
	gen     uint64
	at      time.Time // receipt
	pending atomic.Int32
	failed  atomic.Bool
}

func (a *ack) done() {
	if a.pending.Add(-1) == 0 && !a.failed.Load() {
		a.send()
	}
}

func (a *ack) send() {
	if a.gen != a.b.gen.Load() {
		return // the connection is gone; the broker redelivers
	}
	if err := a.client.Ack(a.pub); err != nil {
		a.b.log.Debug("mqtt ack failed", "topic", a.pub.Topic, "err", err)
	}
}

func connError(err error) error {
	if isConnLoss(err) {
		return fmt.Errorf("%w: %w", broker.ErrNotConnected, err)
	}
	return fmt.Errorf("broker/paho: %w", err)
}

// reasonError turns an MQTT 5 failure reason code into an error.
func reasonError(op string, code byte) error {
	var sentinel error
	switch code {
	case 0x87: // not authorized
		sentinel = broker.ErrNotAuthorized
	case 0x8F, 0x90: // topic filter / topic name invalid
		sentinel = broker.ErrBadTopic
	case 0x9E, 0xA1, 0xA2: // shared subscriptions, subscription ids, wildcards not supported
		sentinel = broker.ErrUnsupported
	}
	if sentinel == nil {
		return fmt.Errorf("broker/paho: %s: reason code 0x%02x", op, code)
	}
	return fmt.Errorf("broker/paho: %s: reason code 0x%02x: %w", op, code, sentinel)
}

// outgoing is everything toPaho makes for one PUBLISH, in one allocation.
type outgoing struct {
	pub    mqtt.Publish
	props  mqtt.PublishProperties
	user   [2]mqtt.UserProperty // room for the stream sinks' two properties
	format byte
	expiry uint32
}

func toPaho(m broker.Message) *mqtt.Publish {
	o := &outgoing{
		pub: mqtt.Publish{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain},
	}
	pr := m.Properties
	o.props = mqtt.PublishProperties{
		ContentType:     pr.ContentType,
		ResponseTopic:   pr.ResponseTopic,
		CorrelationData: pr.CorrelationData,
	}
	if pr.PayloadFormat != 0 {
		o.format = pr.PayloadFormat
		o.props.PayloadFormat = &o.format
	}
	if pr.Expiry > 0 {
		o.expiry = uint32(min((pr.Expiry+time.Second-1)/time.Second, 0xFFFFFFFF))
		o.props.MessageExpiry = &o.expiry
	}
	if n := len(pr.UserProperties); n > 0 {
		user := o.user[:0]
		if n > len(o.user) {
			user = make([]mqtt.UserProperty, 0, n)
		}
		for _, u := range pr.UserProperties {
			user = append(user, mqtt.UserProperty{Key: u.Key, Value: u.Value})
		}
		o.props.User = user
	}
	o.pub.Properties = &o.props
	return &o.pub
}

func fromPaho(p *mqtt.Publish) broker.Message {
	m := broker.Message{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
	if pr := p.Properties; pr != nil {
		m.Properties.ContentType = pr.ContentType
		m.Properties.ResponseTopic = pr.ResponseTopic
		m.Properties.CorrelationData = pr.CorrelationData
		if pr.PayloadFormat != nil {
			m.Properties.PayloadFormat = *pr.PayloadFormat
		}
		if pr.MessageExpiry != nil {
			m.Properties.Expiry = time.Duration(*pr.MessageExpiry) * time.Second
		}
		for _, u := range pr.User {
			m.Properties.UserProperties = append(m.Properties.UserProperties, broker.UserProperty{Key: u.Key, Value: u.Value})
		}
	}
	return m
}
