// Package paho implements broker.Broker over an external MQTT 5 broker
// (Mosquitto, EMQX, flespi, ThingsBoard…) with the Eclipse paho.golang client.
//
// # Connection
//
// The connection is managed by paho's autopaho: [New] starts an
// autopaho.ConnectionManager and returns once the first connection is up.
// The adapter dials (mqtt://, tcp://, TLS with tls://, ssl:// or mqtts://,
// and MQTT over WebSocket with ws:// or wss://, through gorilla/websocket
// with the "mqtt" subprotocol) in autopaho's AttemptConnection hook, so
// that it reads the byte stream before paho does (see Subscription
// identifiers below); autopaho's all_proxy support is therefore not
// available. autopaho reconnects at once when the
// connection drops, then with its exponential backoff (Config.ReconnectMin
// … ReconnectMax, with jitter), and keeps one in-memory session state across
// connections, so paho resends unacknowledged QoS 1 publishes.
//
// The session is persistent by default: clean start only if Config.CleanStart,
// Session Expiry Interval from Config.SessionExpiry (10 days by default). With
// a configured ClientID a restarted process resumes its session, getting the
// QoS 1 messages published while it was away; with a generated ClientID the
// session ends on Close.
//
// What this package adds in front of autopaho:
//
//   - Every server subscription is made again on each new connection
//     (autopaho's OnConnectionUp), and a gate keeps Publish, Subscribe and
//     Unsubscribe off a connection until that is done. autopaho offers a
//     new connection to its own Publish before OnConnectionUp runs, so
//     without the gate a publisher could overtake the resubscription and,
//     where the server kept no session, publish to nobody. A publisher
//     holds the gate until paho has picked the connection (PublishHook);
//     connection changes wait for that, so a publisher that saw the old
//     connection cannot land on a new one unsubscribed.
//   - Publish and Subscribe wait for a connection while their context allows
//     and return an error wrapping broker.ErrNotConnected when it does not
//     (autopaho's Publish fails at once while disconnected). Publish does not
//     use autopaho's publish queue: the contract returns only after PUBACK,
//     which a fire-and-forget queue cannot tell.
//   - Forcing a reconnection for redelivery (below): autopaho has no call
//     for that, so the adapter closes the socket of the paho client the
//     refused message came on (paho.Client.TerminateConnectionForTest,
//     the only way to drop a connection that autopaho then notices;
//     Client.Disconnect can stop the client without autopaho learning of it).
//   - A guard around paho's in-memory session state, which all connections
//     share: a request that started on a connection just lost is refused
//     by the session (and made again on the next connection) instead of
//     being stored in the next connection's session after its resend pass,
//     where a QoS 1 publish would wait for a PUBACK that never comes; and
//     paho's unlocked read of its send quota cannot race the next CONNACK.
//   - A session store of its own for outgoing packets: paho's memory store
//     encodes every PUBLISH into a growing buffer as it enters the session;
//     this one keeps the packet, with its own copy of the payload, and
//     encodes it only to resend it after a reconnection.
//   - Each packet goes out in one write. paho writes a packet as several
//     pieces, which on any wrapped connection (its own NewThreadSafeConn
//     too) means one Write each: several syscalls and TCP segments, TLS
//     records or WebSocket messages per PUBLISH. The connection the adapter
//     dials gathers the pieces under paho's write lock.
//
// Together with a lean Publish (one allocation for the packet and its
// properties, no per-publish context to cancel), a QoS 1 publish through
// the adapter costs no more CPU than one through a plain paho.Client
// (BENCHMARKS.md, "stream/mqttsink: beside a plain paho.golang client");
// autopaho's own share of a publish is a mutex and a call.
//
// The conformance suite (broker/brokertest) runs against Mosquitto over TCP
// and against broker/embedded over TCP and over WebSocket; tls://, mqtts://
// and wss:// round trips are tested against broker/embedded.
//
// # Acknowledgements and handler errors
//
// QoS 1 messages are acknowledged manually: PUBACK goes out only after every
// local subscription the message was routed to has handled it without error.
// MQTT requires acknowledgements in order, so one withheld PUBACK holds back
// all later ones; a handler error therefore makes the Broker drop the
// connection, which makes the external broker redeliver every unacknowledged
// message of the session (to the same handler, marked duplicate by MQTT). This
// costs a reconnection per refusal, and messages that were in flight are
// delivered again (at least once). With SessionExpiry < 0 there is no session
// to redeliver from: a refused message is acknowledged and lost (logged), and
// Supports(broker.FeatureRedelivery) reports false.
//
// # Local routing and flespi extensions
//
// Each distinct MQTT filter is one server subscription with its own MQTT 5
// subscription identifier, derived from the filter text so that it is the
// same in a restarted process; local subscriptions with the same filter share
// it and messages are routed by identifier (by topic matching if the server
// has no identifiers; see Subscription identifiers). A resumed session delivers its queued messages right
// after CONNECT, before the application subscribed again: such a QoS 1
// message is held (its PUBACK, and so every later one, waits) for up to 10 s
// for a Subscribe that wants it, then acknowledged and dropped with a
// warning. Subscribe right after New. Every local subscription has a queue (Config.QueueLen) and
// a goroutine, so handlers of different subscriptions run concurrently and
// each sees its messages in order; a full queue stops reading from the
// broker. That back-pressure also holds up the PUBACKs of this connection's
// own publishes, so a handler that publishes QoS 1 into a subscription whose
// queue is full waits until its context ends: give such handlers a deadline
// or a larger Config.QueueLen.
//
// flespi's extensions are emulated on the client where that is sound:
//
//   - comma lists ("devices/1,2,3/telemetry/+") subscribe to the widened
//     filter ("devices/+/telemetry/+") and are narrowed locally;
//   - "$filter/<spec>/" subscribes without the prefix and evaluates the spec
//     locally (broker.Filter.MatchMessage), so the network still carries the
//     messages the spec drops; cid and timestamp come from the message's user
//     properties, and the time of receipt stands for the publication time;
//   - "$share/<group>/" is passed to the server; several local members of one
//     group share its deliveries round robin;
//   - sticky shares ("$share/name:count/…") are refused with
//     broker.ErrUnsupported: the server spreads a group's messages at random
//     over connections, which no client can make sticky.
//
// A subscription added to an existing server subscription sends SUBSCRIBE
// again so the server delivers the retained messages it is owed; the other
// local subscriptions on that filter receive those retained messages again.
//
// # Subscription identifiers
//
// A message matching several server subscriptions of one client reaches it
// either as one PUBLISH per subscription, each with that subscription's
// identifier (Mosquitto), or as one PUBLISH carrying every matching
// identifier (broker/embedded and other servers; MQTT 5 §3.3.4 allows
// both). paho's packet codec keeps only the last identifier of a PUBLISH,
// which with a merging server would deliver the message to one of the
// overlapping subscriptions only. The adapter therefore reads the
// connection through a small filter of its own: a PUBLISH with two or
// more identifiers has them replaced by one user property, under a key
// random to the Broker (a publisher cannot forge it), listing them all;
// onPublish takes that property off again and delivers the message once to
// every server subscription named, whichever way the server sent it.
// Shared subscriptions are routed the same way (a group's copy names the
// group's identifier; one local member gets it), and "$filter" specs and
// comma lists are applied per local subscription after that. Every other
// packet, and a PUBLISH with at most one identifier, passes through the
// filter unchanged; the cost is one extra copy of a PUBLISH as it is read.
//
// Two alternatives were rejected: paho.golang exposes no raw packet bytes
// (its Publish keeps a single *int identifier and nothing else of the
// properties), and probing each connection for merging behaviour (two
// overlapping subscriptions on a private topic, one message, count the
// copies) needs publish and subscribe rights on an arbitrary topic, which
// ThingsBoard and token-restricted flespi connections do not grant, adds a
// round trip to every connection, and still could not tell which
// subscriptions a merged copy matched when a server merges a shared
// subscription's identifier into the same copy.
package paho
