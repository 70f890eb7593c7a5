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
//	go srv.Serve(ctx, tcpListener)      // a goroutine per connection
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
// connected and identified, encoded by the session's
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
