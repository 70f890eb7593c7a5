// Package stream forwards the messages of a durable [store.Log] to other
// platforms — an HTTP endpoint, an MQTT or AMQP broker, a Wialon server — in
// order, losing nothing while the target is down or while the process
// restarts: flespi's streams, as a library.
//
//	s, err := stream.New(db.Log(), httpsink.New(&httpsink.Config{URL: "https://crm.example/in"}),
//		&stream.Config{Name: "crm", Subscriptions: subs, Validate: x, QueueTTL: 24 * time.Hour})
//	go s.Run(ctx)
//
// A [Stream] is a named consumer of the log (its durable cursor is the
// consumer "stream:"+Name); a [Sink] turns a [Batch] into the target's wire
// form and says what the target answered. Everything hard is here, once:
// batching, order, retries with backoff, isolating a poison message,
// dead-lettering, counters and events. The sinks are in sub-packages
// (stream/httpsink, …); stream/streamtest checks any sink against a real
// target.
//
// # What is forwarded
//
// The messages of the channels and devices the stream subscribes to
// ([Subscriptions]: "channel.id", "device.id" or "ident"); a message that
// matches both its channel and its device is one record of the log and is
// forwarded once. Config.Validate (flespi's validate_message) drops the
// messages that do not match it (counted as skipped); Config.Convert keeps
// only some parameters and chooses flat or nested JSON. A new stream
// forwards only what arrives after it first runs ([StartNew], as flespi),
// or everything the log still holds ([StartOldest]).
//
// # Delivery
//
// Batches of up to MaxBatch messages, one in flight at a time, so order
// holds. A batch is committed (the cursor moves past it) only when every
// message in it was accepted by the target or dealt with by the reject
// policy. A failed Write is retried with capped exponential backoff and
// jitter (RetryMin to RetryMax, honouring a target's Retry-After), for as
// long as it takes: a target that is down for a day gets a day's messages
// when it is back, as long as the log keeps them (its retention) and they
// are younger than QueueTTL (older ones are dropped and counted as
// expired).
//
// A message the target refuses for good ([Permanent]: HTTP 400, an AMQP
// nack) does not block the stream. When the sink can tell which messages
// were refused it returns a [*BatchError]; when it cannot (an HTTP 400 for
// a whole array), the stream halves the batch and tries each half, so the
// culprits are isolated in log2(batch) extra writes and everything else
// gets through. A refused message is then dead-lettered (appended to
// Config.DeadLetter with the reason: a store.Log anyone can read, and that
// [Stream.Replay] sends again), skipped and counted, or it stops the stream
// (Config.OnReject). This is the head-of-line blocking that Redpanda
// Connect and Vector users report, avoided.
//
// # The guarantee
//
// No loss: a message leaves the stream's queue only when the target
// acknowledged it (or the reject policy took it, or QueueTTL or the log's
// retention dropped it — both counted). At least once: if the process
// dies while a batch is in flight, that batch is sent again when the
// stream runs again. Duplicates are possible only within the one batch that
// was in flight at the crash, and every message carries the same stable id
// each time it is sent ([Message.ID]: the log's identity and the record's
// sequence number), in the sink's natural place — an HTTP header, an MQTT
// user property, an AMQP message id — so that a receiver can drop them.
//
// # Disabled streams
//
// [Stream.SetEnabled](false) keeps the stream's cursor and queue but
// delivers nothing, and the messages that arrive while it is disabled are
// never forwarded, as flespi's disabled stream "appends nothing" to its
// buffer. The state is kept in the log (consumers named after the stream),
// so it holds across restarts.
//
// # Counters and events
//
// [Stream.Stats] reports flespi's counters (read, skipped, accepted,
// rejected) and ours (dead-lettered, expired, dropped, batches, retries),
// the last ack latency, the queue and the lag. Config.OnBatch reports each
// Write (for latency histograms) and Config.OnEvent each state change
// (connected, target down, recovered, disabled, enabled, stopped); both are
// also logged with log/slog.
//
// # Cost
//
// A stream reads every record of the log and keeps those its subscriptions
// select, so its cost grows with the log's traffic, not its own. Reading
// reuses one page of records and one encoding buffer: a steady stream
// allocates nothing per message beyond what its sink does.
package stream
