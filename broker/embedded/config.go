package embedded

import (
	"context"
	"log/slog"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// Config configures a Server. The zero value is usable: every field
// documents what its zero value means.
type Config struct {
	// Authenticator checks credentials. Nil: clients presenting a username
	// or password are refused, and anonymous ones are admitted only when
	// AllowAnonymous is set. See TokenStore for the default token store.
	Authenticator Authenticator
	// AllowAnonymous admits clients that present neither a username nor a
	// password, with a nil Token.
	AllowAnonymous bool
	// Authorizer checks every PUBLISH and SUBSCRIBE of network clients.
	// Nil means TokenAuthorizer.
	Authorizer Authorizer

	// MaxConnections bounds concurrent network connections; 0 means 100,000.
	MaxConnections int
	// MaxSessions bounds sessions, connected or kept for offline clients;
	// 0 means 2 × MaxConnections.
	MaxSessions int
	// MaxPacketSize bounds the size of an MQTT packet a client may send
	// (announced to MQTT 5 clients); 0 means 1 MiB.
	MaxPacketSize int
	// MaxInflight bounds the QoS 1 and 2 messages sent to a client and not
	// yet acknowledged (MQTT 5 clients may ask for fewer with Receive
	// Maximum); it is also the Receive Maximum announced to clients for
	// their QoS 2 publishes. 0 means 1024; at most 65535. In-flight messages
	// count against MaxQueuedBytes; a small window caps a subscriber's
	// throughput at window / round-trip time (64 messages held fan-in to a
	// few shared subscribers back to seconds of queueing in benchmarks).
	MaxInflight int
	// IdleParkAfter is how long a TCP or TLS connection waits for its next
	// packet with a goroutine before its socket is parked in the shared
	// poller, where it costs no goroutine and no buffer until bytes
	// arrive (Linux; elsewhere connections are never parked). A CONNECT,
	// SUBSCRIBE or UNSUBSCRIBE does not count as a packet here (a client
	// usually goes quiet after them): a connection that has had only those
	// parks without waiting. 0 means one second; negative means never park. Parking and waking a connection
	// costs tens of microseconds more than a wait in Go's poller (a parked
	// TCP connection gives up its net.Conn and makes one again: ~40 µs
	// more on a loaded 2-core machine, unless it talks again within ten
	// park delays, at most 10 s, when it keeps it), which a busy connection
	// should not pay after every burst.
	IdleParkAfter time.Duration
	// MaxQueuedBytes bounds the payload and topic bytes waiting for one
	// session (offline, or online but reading slower than messages arrive).
	// Messages beyond it are dropped for that session, so a slow consumer
	// cannot grow memory without bound. 0 means 16 MiB.
	MaxQueuedBytes int
	// MaxTotalQueuedBytes bounds the queued bytes of all sessions together,
	// so many persistent sessions cannot add up to more; beyond it messages
	// are dropped for the sessions they would be queued for. 0 means 1 GiB.
	MaxTotalQueuedBytes int64
	// MaxSubscriptions bounds the subscriptions of one session; 0 means 1000.
	MaxSubscriptions int
	// MaxTopicLevels bounds the levels of a subscription's topic filter; a
	// SUBSCRIBE to a deeper filter is refused (0x8F, 0x80 for MQTT 3.1.1),
	// so no single filter costs the tree more than a few milliseconds.
	// 0 means 128.
	MaxTopicLevels int
	// FilterMaxSteps is the work one "$filter" predicate may do per message
	// (filter.Limits.MaxSteps; 0 means filter.DefaultMaxSteps, a few
	// milliseconds). A message that would cost more is not delivered to that
	// subscription; it is counted (Stats.FilterOverBudget) and logged once
	// per subscription.
	FilterMaxSteps int
	// MaxTopicAliases is the Topic Alias Maximum announced to MQTT 5 clients
	// for their publishes; 0 means 64, negative means none.
	MaxTopicAliases int
	// ServerKeepAlive is the largest keep-alive a client may use; an MQTT 5
	// client asking for more (or for none) is told this value in CONNACK.
	// 0 means no maximum.
	ServerKeepAlive time.Duration
	// MaxSessionIdle is how long a persistent session (MQTT 3.1.1
	// clean=false, MQTT 5 session expiry) outlives its connection at most,
	// keeping subscriptions and queued messages; 0 means 10 days.
	MaxSessionIdle time.Duration
	// RetainedMaxAge drops retained messages older than this, counted as
	// flespi does from the message's "timestamp" user property when it has
	// one, else from its publication. 0 means retained messages live until
	// replaced, deleted or expired by their own Message Expiry Interval.
	RetainedMaxAge time.Duration
	// MaxRetained and MaxRetainedBytes bound the retained messages kept
	// (count, and topic plus payload bytes); a retained publish to a new
	// topic beyond them is delivered but not retained (replacing an existing
	// retained message is always allowed). 0 means 1,000,000 messages and
	// 512 MiB.
	MaxRetained      int
	MaxRetainedBytes int64
	// DataDir keeps the broker's state in this directory (created if
	// needed), so that it survives restarts and crashes: persistent
	// sessions with their subscriptions, expiry and will, the QoS 1 and 2
	// messages queued and in flight for them, the QoS 2 packet IDs being
	// received, and retained messages. A QoS 1 or 2 publish is acknowledged
	// only once it is on disk with every delivery to a persistent session
	// (doc.go, "Data directory"). Empty: everything is in memory and ends
	// with the process. Use Open to learn whether the directory could be
	// used.
	DataDir string
	// VolatileRetained, when set, names retained topics kept in memory only,
	// even with a DataDir: their publisher restores them after a restart
	// (the gateway republishes its telemetry from its own store), so a
	// retained publish there costs no write to disk. Copies such topics
	// have in the data directory (from before the option) are dropped at
	// Open. Deliveries to persistent sessions stay durable.
	VolatileRetained func(topic string) bool
	// RetainedSource, when set, serves the retained messages of the topics
	// it owns on demand, from its program's own state: the broker keeps
	// none of them (see RetainedSource). nil: every retained message is
	// stored.
	RetainedSource RetainedSource
	// Timestamps adds a "timestamp" user property (Unix seconds with
	// fraction) to every message that does not carry one, as flespi does.
	Timestamps bool
	// ConnectTimeout bounds the wait for a CONNECT after a connection is
	// accepted; 0 means 10 s.
	ConnectTimeout time.Duration
	// WriteTimeout bounds one write to a client; a client that does not
	// read for this long is disconnected. 0 means 30 s.
	WriteTimeout time.Duration

	// SysInterval is how often the "$SYS/broker/…" statistics topics
	// (Server.Stats: clients connected, sessions, subscriptions, retained
	// messages, messages received and sent, queued bytes, "$filter"s over
	// budget, heap) are published to their subscribers; a new subscriber
	// gets the current values at once, as retained messages. 0 means every
	// 10 s (Mosquitto's default), negative means no "$SYS" topics. Who may
	// read them is the Authorizer's business: with TokenAuthorizer a token
	// needs a Subscribe filter naming "$SYS" ("#" does not cover it, as in
	// MQTT matching). Clients may not publish under "$SYS/".
	SysInterval time.Duration

	// REST answers flespi's REST-over-MQTT requests, PUBLISHes to
	// "flespi/rest/{method}/{uri}". Nil: such publishes are acknowledged
	// and discarded like every other client publish under "flespi/".
	REST RESTHandler
	// ConnState, when set, is called when a network client has connected
	// (after CONNACK) and when it has disconnected. It must not block.
	ConnState func(c *Client, state ConnState, err error)
	// Logger receives connection errors and dropped messages; nil means
	// slog.Default().
	Logger *slog.Logger
}

// ConnState is the state reported to Config.ConnState.
type ConnState int

// Connection states.
const (
	StateConnected ConnState = iota + 1
	StateDisconnected
)

func (s ConnState) String() string {
	switch s {
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	}
	return "unknown"
}

// RESTRequest is one flespi REST-over-MQTT request: a PUBLISH to
// "flespi/rest/{method}/{uri}" whose payload is the request body.
type RESTRequest struct {
	Client *Client
	Method string // lower case, as in the topic: "get", "post", "put", "delete", "patch"
	URI    string // the rest of the topic, e.g. "gw/devices/123/settings/x"
	Body   []byte
	// Properties are the request's MQTT 5 user properties (flespi's
	// "response_cid", for one).
	Properties []broker.UserProperty
}

// RESTResponse is the answer published to the request's MQTT 5 Response
// Topic, or to the request's own topic when it has none (MQTT 3.1.1),
// with its Correlation Data and a user property "http_code". A request
// with the user property "response_chunked: true" gets its answer in
// messages of at most 64 KiB of payload, the last one carrying
// "http_code".
type RESTResponse struct {
	Status int // HTTP status code
	Body   []byte
	// Namespace, when set, publishes the answer in this namespace instead
	// of the client's own (flespi's "response_cid"): the handler decides
	// whether the client may reach it.
	Namespace string
	// Properties are user properties added to the answer's messages.
	Properties []broker.UserProperty
}

// RESTHandler serves REST-over-MQTT requests. ServeREST runs on its own
// goroutine, concurrently for different clients; ctx ends when the client
// disconnects or the server closes.
type RESTHandler interface {
	ServeREST(ctx context.Context, r RESTRequest) RESTResponse
}

// RESTHandlerFunc adapts a function to a RESTHandler.
type RESTHandlerFunc func(ctx context.Context, r RESTRequest) RESTResponse

// ServeREST calls f.
func (f RESTHandlerFunc) ServeREST(ctx context.Context, r RESTRequest) RESTResponse {
	return f(ctx, r)
}

// limits is Config with defaults applied.
type limits struct {
	maxConns, maxSessions, maxPacket, maxInflight, maxQueued, maxSubs int
	maxTotalQueued, maxRetainedBytes                                  int64
	maxRetained                                                       int
	maxTopicLevels, filterSteps                                       int
	topicAliasMax                                                     uint16
	serverKeepAlive                                                   uint16 // seconds, 0 = none
	maxSessionIdle                                                    uint32 // seconds
	connectTimeout, writeTimeout                                      time.Duration
	parkAfter                                                         time.Duration // < 0: never park
}

func (c *Config) limits() limits {
	l := limits{
		maxConns: c.MaxConnections, maxSessions: c.MaxSessions, maxPacket: c.MaxPacketSize,
		maxInflight: c.MaxInflight, maxQueued: c.MaxQueuedBytes, maxSubs: c.MaxSubscriptions,
		connectTimeout: c.ConnectTimeout, writeTimeout: c.WriteTimeout, parkAfter: c.IdleParkAfter,
	}
	if l.parkAfter == 0 {
		l.parkAfter = time.Second
	}
	if l.maxConns <= 0 {
		l.maxConns = 100_000
	}
	if l.maxSessions <= 0 {
		l.maxSessions = 2 * l.maxConns
	}
	if l.maxPacket <= 0 {
		l.maxPacket = 1 << 20
	}
	if l.maxPacket > 268435455+5 {
		l.maxPacket = 268435455 + 5
	}
	if l.maxInflight <= 0 {
		l.maxInflight = 1024
	}
	if l.maxInflight > 65535 {
		l.maxInflight = 65535
	}
	if l.maxQueued <= 0 {
		l.maxQueued = 16 << 20
	}
	l.maxRetained, l.maxRetainedBytes = c.MaxRetained, c.MaxRetainedBytes
	if l.maxRetained <= 0 {
		l.maxRetained = 1_000_000
	}
	if l.maxRetainedBytes <= 0 {
		l.maxRetainedBytes = 512 << 20
	}
	l.maxTotalQueued = c.MaxTotalQueuedBytes
	if l.maxTotalQueued <= 0 {
		l.maxTotalQueued = 1 << 30
	}
	if l.maxSubs <= 0 {
		l.maxSubs = 1000
	}
	l.maxTopicLevels, l.filterSteps = c.MaxTopicLevels, c.FilterMaxSteps
	if l.maxTopicLevels <= 0 {
		l.maxTopicLevels = 128
	}
	switch {
	case c.MaxTopicAliases == 0:
		l.topicAliasMax = 64
	case c.MaxTopicAliases > 65535:
		l.topicAliasMax = 65535
	case c.MaxTopicAliases > 0:
		l.topicAliasMax = uint16(c.MaxTopicAliases)
	}
	if c.ServerKeepAlive > 0 {
		s := c.ServerKeepAlive / time.Second
		if s < 1 {
			s = 1
		}
		if s > 65535 {
			s = 65535
		}
		l.serverKeepAlive = uint16(s)
	}
	idle := c.MaxSessionIdle
	if idle <= 0 {
		idle = 10 * 24 * time.Hour
	}
	if idle/time.Second > 0xFFFFFFFE {
		idle = 0xFFFFFFFE * time.Second
	}
	l.maxSessionIdle = uint32(idle / time.Second)
	if l.connectTimeout <= 0 {
		l.connectTimeout = 10 * time.Second
	}
	if l.writeTimeout <= 0 {
		l.writeTimeout = 30 * time.Second
	}
	return l
}
