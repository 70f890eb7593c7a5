// Package embedded is an MQTT broker that runs inside a Go program: MQTT
// 3.1, 3.1.1 and 5.0 clients over TCP, TLS and WebSocket, and the same
// topics for in-process publishers and subscribers through broker.Broker.
//
// # Serving
//
// A Server is created with New and serves any number of listeners, like an
// http.Server:
//
//	srv := embedded.New(&embedded.Config{Authenticator: tokens})
//	go srv.Serve(ctx, tcpListener)                       // mqtt://
//	go srv.Serve(ctx, tls.NewListener(ln2, tlsConfig))    // mqtts://
//	http.Handle("/mqtt", srv.WebSocketHandler())          // ws:// and wss://
//	defer srv.Close()
//
// Serve returns when ctx ends or the server is closed; ServeConn serves a
// single accepted connection. Without Config.DataDir sessions live in
// memory and Close ends them; with it they survive restarts and crashes
// (below).
//
// # Data directory
//
// With Config.DataDir (open it with Open, which reports a directory it
// cannot use), the broker keeps on disk what a restart would otherwise
// lose: persistent sessions (3.1.1 clean session 0, MQTT 5 session expiry
// above 0) with their subscriptions (options, identifiers), session expiry
// and will; the QoS 1 and 2 messages queued for them and in flight to them
// (including which QoS 2 deliveries the client has received, PUBREC, and
// awaits only a PUBREL for); the QoS 2 packet IDs a client is publishing
// (PUBREC sent, PUBREL awaited), so that a publish sent again after a
// restart is not routed twice; and retained messages.
//
// The promise: a QoS 1 or 2 publish is acknowledged (PUBACK, PUBREC) only
// after the message and its deliveries to every persistent session it
// matched are synced to disk, so it reaches those sessions even if the
// process is killed right after the acknowledgement; an acknowledged
// retained message is there after a restart (but for the topics of
// Config.VolatileRetained, which its publisher restores). In-process Publish returns
// once the message is queued for the commit (its subscribers' queues get
// it with the commit, a moment later); Server.Sync returns once everything
// published before it is on disk and queued for its subscribers, so an
// in-process publisher gets the network clients' promise for a whole batch
// with one fsync (the gateway's platform topics are published so, before
// the log cursor moves on, and its REST publish answers after Sync). A stored delivery keeps its packet ID
// across restarts (the ID follows from its sequence number in the session),
// so a QoS 2 message a client already holds is not received twice. Session
// expiry, will delay and message expiry are stored as instants and keep
// counting while the broker is down; a session connected when the broker
// stopped counts as disconnected from the restart on, and its will (if
// any) is published after its will delay. Not kept: QoS 0 messages,
// non-persistent sessions, and the will of a client still connected at a
// clean Close (Close is not the client's disconnection).
//
// Changes are group-committed: whoever makes one (a connection's reader,
// a timer, an in-process publisher) snapshots it and queues it, and one
// writer goroutine writes everything queued as one Pebble batch with one
// fsync, then completes it in queue order — deliveries queued for their
// sessions, publishers acknowledged, SUBACKs sent. Many publishers' acks
// thus wait on one fsync; while it runs the next group forms. Changes that
// need no durability before they complete (a client's PUBACK of a delivery)
// ride along without a sync of their own. Pending changes are bounded
// (64 MiB); publishers wait beyond that, so a slow disk holds them back
// instead of filling memory. A write error stops acknowledgements: the
// publishers waiting are disconnected without one.
//
// The directory is a Pebble database (github.com/cockroachdb/pebble/v2, as
// store/pebble) of its own. Keys start with one tag byte; numbers are big
// endian:
//
//	's' client key                  → session: generation, expiry, offline since, will, subscriptions
//	'm' message ID (8)              → message: topic, payload, QoS, retain, properties, created, expiry
//	'q' generation (8), seq (8)     → a delivery: message ID, QoS, retain, PUBREC received, subscription IDs
//	'p' generation (8), packet (2)  → an inbound QoS 2 packet ID awaiting PUBREL
//	'r' topic                       → a retained message
//
// A session's generation names one life of the session (a client key that
// ends and starts again gets a new one), so what is stored under an ended
// session is never mistaken for its successor's. A message delivered to
// several sessions is stored once and deleted with its last delivery; the
// writer keeps the reference counts in memory and rebuilds them when the
// directory is opened, deleting what belongs to no session. Values start
// with a format byte. Opening reads the whole directory into memory (the
// working state, as without one) and fails with an error naming the
// corrupt key rather than starting without it.
//
// # Protocol
//
// QoS 0, 1 and 2 in both directions; retained messages, with MQTT 5 message
// expiry and Config.RetainedMaxAge; persistent sessions (3.1.1 clean=false,
// MQTT 5 session expiry, both capped by Config.MaxSessionIdle, 10 days by
// default) that keep QoS 1 and 2 messages for offline clients and resend
// unacknowledged ones with DUP on reconnection; wills with MQTT 5 will
// delay; topic aliases both ways; Receive Maximum; Maximum Packet Size both
// ways; keep-alive with an optional server maximum; subscription options
// (No Local, Retain As Published, Retain Handling) and identifiers; shared
// subscriptions.
//
// Beyond what the Eclipse Paho interoperability suite checks: MQTT 5
// clients may connect with an empty client identifier and Clean Start 0
// (the assigned identifier comes back in CONNACK and resumes the session);
// MQTT 3.1 clients get return code 2 for an empty one, a reserved Session
// Present byte, and may set DUP on a retried PUBREL; a will may have an
// empty payload; a DISCONNECT with Remaining Length 1 carries its reason
// (0x04 keeps the will); a CONNECT with bytes its flags do not announce, a
// username that is not UTF-8, or will fields without the will flag is
// malformed: closed without CONNACK for MQTT 3.1 and 3.1.1 [MQTT-3.1.4-1],
// after a CONNACK ≥ 0x80 for MQTT 5; a CONNACK larger than the client's
// Maximum Packet Size drops its properties, or is not sent; and an
// acknowledgement of the wrong type for an in-flight packet ID (PUBCOMP
// for QoS 1, PUBACK for QoS 2) is a protocol error. spec_raw_test.go tests
// each over a raw socket.
//
// A message matching several subscriptions of one client is sent once, at
// the highest granted QoS, with every matching subscription identifier
// (MQTT 5 §3.3.4 allows this). Each subscription keeps its own options and
// its own flespi "$filter" predicate: predicates are evaluated per
// subscription before that merge, never combined.
//
// # flespi extensions
//
// Subscription filters are parsed by broker.ParseFilter: "$share/name/…"
// (round robin, preferring connected members), flespi's sticky
// "$share/name:count/…" and "$share/name:from:count/…" (a member chosen by a
// hash of topic levels), "$filter/spec/…" (package filter), and comma lists
// in a level ("devices/1,2,3/telemetry"). Client publishes under "flespi/"
// are acknowledged and discarded, except "flespi/rest/{method}/{uri}" when
// Config.REST is set: the handler's answer is published to the request's
// MQTT 5 Response Topic with its Correlation Data and a user property
// "http_code". Config.Timestamps adds flespi's "timestamp" user property.
//
// # Security and limits
//
// Config.Authenticator checks credentials (TokenStore is a ready one: a
// token as username, or as password) and returns a Token whose Publish and
// Subscribe filters the default Authorizer (TokenAuthorizer) enforces;
// anonymous clients are refused unless Config.AllowAnonymous. A hostile
// client cannot get around the limits: packets larger than MaxPacketSize
// are refused before they are read into memory; at most MaxConnections
// connections and MaxSessions sessions exist; each session queues at most
// MaxQueuedBytes (then drops messages for that session only) and all
// sessions together at most MaxTotalQueuedBytes; each keeps at most
// MaxInflight unacknowledged messages, MaxSubscriptions subscriptions and
// 64 KiB of unsent acknowledgements (a client that publishes without
// reading stalls its own reads); retained messages are bounded by
// MaxRetained and MaxRetainedBytes; a subscription filter has at most
// MaxTopicLevels levels (128; deeper ones get 0x8F, 0x80 for 3.1.1) and
// expands its comma lists to at most 1,024 paths and 8,192 levels in all,
// and the filters of one SUBSCRIBE to 16,384 levels and 16 KiB of
// "$filter" text together (further ones get 0x97, quota exceeded, before
// they are expanded or compiled), so that no
// SUBSCRIBE costs more than a few milliseconds; a
// "$filter" predicate does at most FilterMaxSteps steps of work per message
// (filter.DefaultMaxSteps, a few milliseconds: a 1 KB wildcard pattern
// against a 1 MB payload would otherwise take seconds), and a message it
// gives up on is not delivered to that subscription, counted in
// Stats.FilterOverBudget and logged once per subscription; and a client
// that does not read for WriteTimeout is disconnected. Malformed packets, bad flags and protocol
// violations close the connection (after a DISCONNECT with the
// reason code for MQTT 5 clients, then up to 2 s and 1 MiB of input read
// and discarded, so that a client still sending gets the DISCONNECT rather
// than a connection reset); decoding never panics.
//
// # Namespaces and interceptors
//
// The Token an Authenticator returns may carry two hooks for that one
// client. Token.Namespace gives it a private topic space: with Namespace
// "$devices/42/", its publish to "v1/devices/me/telemetry" is the broker's
// "$devices/42/v1/devices/me/telemetry", its subscription to
// "v1/devices/me/rpc/request/+" is "$devices/42/v1/devices/me/rpc/request/+"
// (shares and $filter specs keep their place in front), and what it
// receives has the prefix removed. Its session, retained messages and
// shared groups are the namespace's own, and a client identifier names a
// different session in each namespace. In-process code reaches exactly
// that client — connected, or offline with a persistent session that gets
// the message when it returns — by publishing to the prefixed topic.
// Namespaces are as private as the Authorizer keeps them: start them with
// '$' (wildcards in the first level never match it, so a "#" token does
// not see them), and note that anonymous clients (AllowAnonymous) may go
// anywhere. Per-account namespaces are the same mechanism: "$accounts/7/".
//
// Token.Properties are user properties the broker puts on everything the
// client publishes, replacing the client's own of the same keys: flespi's
// "cid", which "$filter/cid=…/" and "$filter/message=…/" specs then trust.
// Token.SpaceProperty and Token.Spaces let a SUBSCRIBE carrying that user
// property ("cid"), or a filter whose "$filter" spec names it
// ("$filter/cid=123/…"), take its filters in another namespace, one that
// Spaces.Select allows: a parent account's client subscribes in a
// subaccount's space and receives its messages with the subaccount's
// topics and cid. Token.MaxSessions bounds the sessions a namespace holds,
// those kept for offline clients included: an account's session quota.
// An Authorizer that is also a FilterAuthorizer sees each subscription's
// whole filter, $filter spec included, and can count one that asks for
// another account's messages where it would only see nothing.
//
// Token.Intercept takes the client's publishes before the Authorizer and
// routing, synchronously on its read loop: the Interceptor's Verdict says
// whether the message was consumed, which acknowledgement reason code the
// client gets, whether it gets none, and whether the connection ends. An
// Interceptor that stores a message before returning thus acknowledges
// only stored messages (channel/deviceapi is built this way). REST over
// MQTT (Config.REST) is the older, server-wide form of the same idea; its
// answers go to the request's Response Topic, or back to the request's
// topic without one (MQTT 3.1.1), in the namespace the handler chooses
// (RESTResponse.Namespace: flespi's "response_cid"), in 64 KiB pieces for
// a request with "response_chunked: true".
//
// A *RefuseError from the Authenticator chooses the CONNACK reason code.
//
// # Administration
//
// An operator's calls, per namespace ("" for the broker's own space), with
// topics, filters and client identifiers as that namespace's clients see
// them: Sessions and Session (connected clients and persistent sessions
// waiting for theirs, with subscriptions and queue counts), EndSession
// (disconnects the client with reason 0x98 and drops the session),
// SubscribeSession and UnsubscribeSession (whether the client is
// connected or not; they change the session as the client's own SUBSCRIBE
// and UNSUBSCRIBE do, and save it the same way), Retained (retained
// messages matching a filter, a RetainedSource's included) and
// DeleteRetained (stored ones only). They are not subject to
// the Authorizer: the caller decides who may use them (the gateway's /mqtt
// REST API checks the token's ACL). ErrNoSession reports an unknown
// session.
//
// # Saturation and memory
//
// The broker acknowledges a QoS 1 or 2 publish once the message is queued
// for every subscriber; it never slows publishers down for slow
// subscribers (one stalled consumer must not throttle everybody). When
// subscribers drain slower than publishers publish, latency grows with the
// queues until MaxQueuedBytes drops messages for the slow sessions.
//
// An idle connection holds no goroutine and no buffer on Linux: once it has
// had nothing to read for Config.IdleParkAfter (1 s), its socket (under TLS
// too) waits in one epoll set shared by the process, and a new goroutine
// reads when bytes arrive; the writer goroutine exists only while there is
// something to write. A parked TCP connection also gives up its net.Conn
// (the descriptor is kept, and a net.Conn made again when it is needed),
// and its keep-alive deadline is an entry in the poller's shared heap.
// What is left is its state: about 1.5 KB of process memory over TCP
// (Mosquitto: 0.7 KB), 1.9–2.6 KB with a subscription (Mosquitto: 1.0 KB),
// 15–16 KB over TLS (crypto/tls's state; Mosquitto with OpenSSL: 15 KB),
// measured in BENCHMARKS.md. WebSocket connections
// park too: their frames are read by internal/wsstream, which holds
// nothing between frames (2.8–3.6 KB each idle through ServeWebSocket,
// 3.4–4.7 KB through WebSocketHandler, whose net/http handshake leaves
// more garbage; Mosquitto: 6.0 KB). Outside Linux every connection keeps
// one goroutine waiting in a read.
//
// # Statistics
//
// Server.Stats returns a snapshot: clients connected, sessions,
// subscriptions, retained messages and bytes, queued bytes, messages
// received, sent and dropped for a full queue, "$filter"s over budget,
// heap. The same figures are
// published every Config.SysInterval (10 s by default; negative: never) on
// "$SYS/broker/…" topics as Mosquitto names them ("$SYS/broker/clients/connected",
// "$SYS/broker/messages/received", "$SYS/broker/subscriptions/count",
// "$SYS/broker/retained messages/count", "$SYS/broker/heap/current", …).
// They are not stored: a new subscriber gets the current values at once
// as retained messages. Reading them is the Authorizer's decision; with
// TokenAuthorizer a token needs a Subscribe filter naming "$SYS" ("#" does
// not match it). No client may publish under "$SYS/" (0x87).
//
// # Retained state served on demand
//
// A program that keeps the latest value of many topics anyway (the
// gateway: every device's telemetry, in its store) need not copy them all
// into the broker as retained messages, nor publish changes nobody
// receives. Config.RetainedSource owns those topics: the broker stores no
// retained message for them (a retained publish there is delivered, not
// kept, not written to the data directory), and when a subscription asks
// for retained messages the source yields those matching its filter,
// which are then delivered as stored ones are (retain handling, Retain As
// Published, QoS downgrade, subscription identifiers, "$filter", namespaces,
// none to shared subscriptions; the Authorizer decided on the filter).
// Server.Subscribed tells the publisher whether any subscription (a
// client's, an offline persistent session's, a shared or in-process one)
// matches a topic, so it can skip a change nobody gets, and
// Server.SubscribedUnder whether any may match a topic below a prefix, so
// that a publisher of many topics there (a device's parameters) asks once
// in the common case where nobody subscribes. The publisher
// commits a change to its state first and asks Subscribed after; the
// broker adds a subscription before it reads the source: a change racing a
// new subscription is then delivered live, read in the snapshot, or both
// (a duplicate), never neither. As with stored retained messages, a live
// change may overtake the snapshot's older value on the way to that
// subscriber; flespi's "timestamp" property tells them apart.
//
// The "$SYS" statistics topics are served the same way, by the broker
// itself.
//
// # In-process path
//
// Server implements broker.Broker: Publish and Subscribe reach network
// clients and in-process subscribers alike, without a socket and without
// the Authorizer. An in-process subscription is a session of its own, with
// its own bounded queue and its own goroutine calling the handler in order;
// for QoS 1 and 2 a handler error redelivers the message.
//
// # Concurrency and ownership
//
// Every method of Server is safe for concurrent use. Each connection has a
// reader goroutine (decoding, routing), while it has input, and a writer
// goroutine (batching acknowledgements and messages into few writes), while
// it has output. Published payloads are
// copied once on arrival and shared read-only by all receivers; handlers
// must not modify a Message's Payload.
//
// The MQTT packet codec is github.com/mochi-mqtt/server/v2/packets (only
// that package); topic tree, sessions, delivery and limits are this
// package's own. github.com/gorilla/websocket answers WebSocket handshakes;
// internal/wsstream reads and writes the frames.
//
// # Reading the code
//
// One file per stage of a message's life: server.go (Server, listeners,
// Close), conn.go (a connection's life and read loop), packet.go (framing),
// connect.go (the CONNECT handshake and authentication, DISCONNECT),
// session.go (sessions created, resumed, detached, expired, wills),
// publish.go (inbound PUBLISH and its QoS 1/2 acknowledgements),
// deliver.go (routing to sessions, queues, in-flight messages and their
// acknowledgements), writer.go (encoding and writing), subscribe.go
// (SUBSCRIBE, UNSUBSCRIBE, retained messages on subscription), topics.go
// (filters and the subscription tree), retained.go (the retained tree),
// source.go (RetainedSource and Subscribed),
// persist.go (the persistence interface, and the in-memory one),
// durable.go, durable_load.go and durable_codec.go (the data directory),
// sink.go (in-process subscribers), hooks.go (per-client namespaces and
// interceptors), admin.go (the administrative API), stats.go (Stats and the
// "$SYS" topics), auth.go
// and websocket.go.
package embedded
