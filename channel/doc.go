// Package channel is where devices come in: a [Server] that accepts GPS
// trackers of any [protocol.Codec] over TCP and UDP, the [HTTP] channel
// (flespi's JSON over HTTP POST) and the [MQTT] channel (JSON payloads from
// subscribed topics). All three hand decoded messages to one [Handler].
//
//	srv := &channel.Server{
//		Codec:   &teltonika.Codec{},
//		Handler: channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
//			_, err := log.Append(ctx, msgs...) // nil: stored, so the device gets its ACK
//			return err
//		}),
//	}
//	go srv.Serve(ctx, tcpListener)      // a goroutine per busy connection
//	go srv.ServePacket(ctx, udpConn)    // a session per remote address
//	...
//	srv.Shutdown(shutdownCtx)           // graceful, like net/http
//
// # Acknowledgements
//
// The codec decides what the device expects back ([protocol.Result].Reply);
// the channel sends it only when the Handler returned nil. An acknowledged
// message is therefore a stored one, and a handler error needs no special
// handling: the device gets no ACK and resends from its black box. A
// handler error closes nothing. Frames with no messages (a login, a
// heartbeat) are answered at once. The HTTP channel answers 200 only after
// the handler accepted the request's messages (503 otherwise), and the MQTT
// channel acknowledges a QoS 1 message only then (the [broker.Handler]
// contract). [LogHandler] is that handler for a [store.Log]: it appends each
// batch and returns nil once the batch is durable.
//
// # No ident, no acknowledgement
//
// A message is stored only with the ident of the device that sent it.
// When a frame decodes to messages on a connection that has not logged in
// (and the messages carry no "ident" of their own), the Handler is not
// called and no ACK is sent: over TCP the device gets the protocol's
// refusal, when its session has one ([protocol.Refuser], e.g. Teltonika's
// 0x00 or Wialon IPS's "#AL#0"), and the connection is closed; over UDP the
// datagram is dropped. Either way the event is logged, reported to OnError
// as [ErrNoIdent] and counted in [Stats].Unidentified. Otherwise whoever
// can reach the port could write into the store. A TCP connection that has
// not identified itself within LoginTimeout (1 minute by default) is
// closed ([ErrLoginTimeout], [Stats].LoginTimeouts), and a UDP session
// that has not is ended. The HTTP and MQTT channels refuse a message
// without "ident" the same way (400, or a dropped payload).
//
// Every message is stamped with "server.timestamp" (Unix seconds with
// microseconds), "peer" (the device's ip:port), the connection's "ident"
// when the message has none, "timestamp" (server time) when the codec gave
// none, and "channel.id" and "protocol.id" when ChannelID and ProtocolID
// are set (see the protocol.Param* names).
//
// # Ownership and concurrency
//
// The messages given to a Handler are reused for the next frame: a handler
// that keeps one past its return clones it ([protocol.Message.Clone]). Calls
// for one connection never overlap; calls for different connections do.
// [Conn], [Server] and [Call] methods are safe for concurrent use. Server
// fields are configuration: set them before serving and leave them.
//
// # Connections, limits and failures
//
// The zero Server, with Codec and Handler set, has these defaults:
// IdleTimeout 10 minutes (flespi's), LoginTimeout 1 minute (a device must
// identify itself within it), ReadTimeout 1 minute (a started frame
// must complete within it, so a device trickling bytes cannot hold a
// connection), WriteTimeout 30 s (a device that does not read is dropped),
// MaxFrameSize 64 KiB (bytes held for one incomplete frame), MaxConns
// unlimited, CommandTTL 24 h, 100 queued commands per ident.
//
// An idle TCP connection costs no goroutine and no read buffer: after
// IdleParkAfter (5 s) without bytes, with no partial frame held, its
// socket waits in a poller the process shares (internal/idlepoll, Linux)
// and a new goroutine picks it up when bytes arrive; the poller's shared
// deadline heap enforces the idle and login timeouts meanwhile. A
// connection also parks right after its login when nothing else has
// arrived: one wake per connection, so that a fleet reconnecting at once
// does not hold a goroutine each for the park delay. A parked connection
// gives up its net.Conn too, keeping only the socket's descriptor, and
// makes a net.Conn again when it wakes or a command is sent. That brings a
// logged-in Teltonika connection from ~8.4 KB to ~1.9 KB (BENCHMARKS.md),
// at the price of some tens of microseconds of CPU per wake, which the
// 5 s default spares trackers that report every few seconds.
// Proxy channels, listeners whose connections are not plain sockets (TLS)
// and other systems keep a goroutine waiting in each connection's read.
//
// [Server.Conns] lists the connections (ident, peer, since, bytes and
// messages in and out, last activity); [Server.CloseIdent] and
// [Server.CloseAll] close them. [Server.Stats] returns counters for a
// metrics exporter. ConnState reports connect, ident known and disconnect;
// OnError reports decode and handler errors, panics and timeouts; Logger
// (log/slog) gets the same.
//
// A decode error closes a TCP connection (the stream cannot be trusted
// after it; the device reconnects and resends) and drops only the datagram
// over UDP. A panic in a codec or a handler is recovered: it closes that
// connection only and is logged with the stack and, for a codec, the frame
// in hex ([PanicError]). Fuzzing the codecs is the first defence; this is
// the last.
//
// [Server.Shutdown] closes the listeners, stops reading UDP sockets,
// closes idle connections at once, lets busy ones finish the frame in
// hand (handler and ACK), then waits; when its context ends it closes the
// rest. Queued commands complete with [ErrServerClosed].
//
// # Commands
//
// [Server.Send] queues a command for an ident with a time to live and
// returns a [Call], a future: it is sent as soon as the device is
// connected, identified and has had the answer to its login (a command
// written before it would be read as that answer), encoded by the session's
// [protocol.CommandEncoder], and the device's answer ([protocol.Result]
// .Responses) completes it, matched by ID when the protocol carries one and
// first in, first out otherwise. [Conn.Send] sends on a given connection
// and waits.
//
// # Raw traffic, and turning it into a unit test
//
// With Record set, each connection's bytes in both directions are written
// in the protocol/traffic format, per ident ([DirRecorder] makes one file
// per connection under a directory per ident; bytes before the login are
// held until the ident is known). This is how a misbehaving device becomes
// a regression test:
//
//  1. Record the device: Record: &channel.DirRecorder{Dir: "traffic",
//     Idents: []string{"356307042441013"}}. Its sessions land in
//     traffic/356307042441013/<connected-at>_<conn id>.hex, one line per
//     read, '>' from the device and '<' to it, with times.
//  2. Look at it: go run ./examples/decode -p teltonika -replies -f FILE
//     decodes the '>' lines as the server did and prints the replies.
//  3. Make it a golden case: copy the file's lines under "-- frame.hex --"
//     in protocol/teltonika/testdata/NAME.txtar, with a "Source:" header
//     line saying where it came from ('<' lines are ignored there), then
//     go test ./protocol/teltonika -run TestGolden -update writes the
//     decoded messages.json and reply.hex next to it. Review them, fix the
//     codec until they are right, and commit the case: protocoltest also
//     re-runs it split at every byte and truncated at every length.
//
// Recordings hold what devices sent, positions included: treat them as
// personal data.
//
// # Proxy channels
//
// With [Server].Proxy naming upstream servers, a channel is also a proxy:
// each device connection gets a connection of its own to every upstream,
// and the device's frames go to them as the device sent them. This is how
// an operator moves a fleet from an old platform without touching the
// devices: point the devices (or the old platform's DNS name) at gnssgate,
// and the old platform goes on receiving everything, answering the devices
// and sending them commands, until it is switched off.
//
//	srv.Proxy = channel.Proxy{Upstreams: []string{"old-platform.example:5027"}}
//
// Nothing is lost on our side, and a device is never told that a frame
// arrived that we did not store: a frame goes to the upstreams only after
// the Handler stored its messages, so an upstream cannot acknowledge what
// we do not have; a frame the Handler refused goes nowhere, nobody
// acknowledges it, and the device resends it. Forwarding whole frames
// rather than bytes as they come costs the upstream the time of one append
// to the log (a millisecond or two), and buys that guarantee.
//
// The first upstream's bytes are relayed to the device as they come. Its
// answers to our frames are told apart from the rest (commands) by
// comparing them with the answer our codec gave the same frame: for a
// Teltonika, GT06 or Wialon IPS device the protocol fixes it. With
// [AckUpstream] (the default) the device gets the upstream's answers while
// the upstream is connected — it sees its old platform as before, and a
// frame acknowledged is stored on both sides — and ours while it is down.
// With [AckOurs] it always gets ours and the upstream's acknowledgements are
// dropped (an upstream that acknowledges in other words has them relayed
// too: use AckUpstream with it). The other upstreams are mirrors: they get
// the frames, and what they answer is only recorded.
//
// An upstream that is down does not stop the device being served. A
// device's first frame waits for the first connection attempt, at most 2
// s, so that the upstream normally sees the login live; after that nothing
// waits. The connection is retried with backoff (Proxy.RetryMin doubling up
// to RetryMax, with jitter); meanwhile the frames are held for it, up to
// Proxy.MaxBacklog bytes. When it is back, the device's login (the frames
// up to the one that identified it) is replayed first, so that the upstream
// knows who is talking, then the held frames; the upstream's answers to
// what is replayed are dropped, as the device had ours.
//
// An upstream that leaves a frame unanswered for Proxy.ReplyTimeout is
// taken for down: its connection is closed first, so that no late answer
// can follow, then the device gets our answers to the frames the upstream
// left unanswered, in order, and those frames go to the next connection
// (the upstream may get one twice: better than never). When the upstream
// said something else while an answer was awaited, that answer may have
// been said in other words, and the device does not get ours for it: if it
// was not, the device resends the frame and we store it twice. That is the
// price of never acknowledging a frame twice.
//
// Commands from the upstream reach the device as relayed bytes, and our own
// ([Server.Send]) go as usual, once the device has had the answer to its
// login, whoever gave it. The device's answers go to the upstreams like
// any frame. For protocols without command ids (Teltonika), answers are
// matched first in, first out: while both we and the upstream wait for an
// answer, the upstream's may complete our command. Do not send commands
// from both sides at once.
//
// With Record set, the recording holds both sides: '>' and '<' lines for
// the device, "u1>" for what went to upstream 1 and "u1<" for what it sent
// (protocol/traffic), with the upstreams named in the header.
//
// Over UDP each session gets a UDP socket per upstream, and each datagram
// our Handler accepted goes to the upstreams. The device always gets our
// answer (UDP tells nothing of an upstream being up); the first upstream's
// datagrams that equal it are dropped, its others relayed. Nothing is held
// for an upstream that cannot be reached.
//
// The upstreams' completeness is best effort: frames held for an upstream
// live in memory and end with the device's connection. A durable copy for
// another platform is a stream's job (package stream: the
// wialon-retranslator, HTTP, MQTT and AMQP sinks). Proxy.Dial connects to
// upstreams over TLS or through a SOCKS proxy.
//
// # HTTP and MQTT channels
//
// [HTTP] is an http.Handler for flespi's HTTP channel: a POST body is a
// JSON array of messages or one object (or, with MessagesPath, an object
// holding them at a gjson path); "ident" is required (a string or
// a whole number, without '#', '+', '/' or control characters),
// "timestamp" is Unix seconds or ISO-8601 (UTC when no zone; the server
// time when absent), unknown parameters are kept. Bad input gets a 4xx with
// the reason; bodies are bounded (1 MiB by default). A device protocol
// spoken over HTTP, such as OsmAnd / Traccar Client, plugs in as an
// [RequestDecoder] (no such codec exists yet).
//
// [MQTT] subscribes to topics through any [broker.Broker] and applies the
// same JSON rules to payloads; the ident comes from a payload field or a
// topic level. Payloads that break the rules are logged and acknowledged
// (redelivery would not fix them).
package channel
