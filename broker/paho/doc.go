// Package paho implements broker.Broker over an external MQTT 5 broker
// (Mosquitto, EMQX, flespi, ThingsBoard…) with the Eclipse paho.golang client.
//
// # Connection
//
// [New] connects and returns once the first connection is up. The Broker then
// keeps one connection: when it drops it reconnects at once, then with
// exponential backoff (Config.ReconnectMin … ReconnectMax, with jitter), and
// renews every subscription after each reconnection. Publish and Subscribe
// wait for a connection while their context allows and return an error
// wrapping broker.ErrNotConnected when it does not.
//
// The session is persistent by default: clean start only if Config.CleanStart,
// Session Expiry Interval from Config.SessionExpiry (10 days by default). With
// a configured ClientID a restarted process resumes its session, getting the
// QoS 1 messages published while it was away; with a generated ClientID the
// session ends on Close. The session state for outgoing QoS 1 messages is kept
// in memory across reconnections, so paho resends unacknowledged publishes.
//
// The package manages the connection itself rather than with paho's autopaho:
// autopaho needs golang.org/x/net, which this module does not depend on.
// Only mqtt://, tcp:// and TLS (tls://, ssl://, mqtts://) are supported;
// WebSocket URLs are refused with broker.ErrUnsupported.
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
// has no identifiers). A resumed session delivers its queued messages right
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
package paho
