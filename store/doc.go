// Package store defines where a gateway keeps what trackers sent: a durable
// [Log] that every consumer reads at its own pace, per-device message
// history ([Messages]) and the latest value of every parameter
// ([Telemetry]). Engines implement the contracts: store/memory (the
// reference, for tests), store/pebble (the embedded durable default) and,
// later, a distributed one. store/storetest checks any engine against them.
//
// # Durability
//
// A tracker resends from its black box until it is acknowledged, so a
// gateway may acknowledge only what is durable. [Log.Append] returns nil
// only once the whole batch is on stable storage (fsynced); after a crash or
// power loss an appended batch is either entirely there or, if Append had
// not returned nil, possibly absent, never half there and never corrupt.
// Concurrent appends share fsyncs (group commit), which is what makes
// per-connection synced appends affordable. Consumer positions, history and
// telemetry are written the same way.
//
// # Ordering
//
// Every log record has a sequence number: from 1, one more for each record,
// never reused, not even after a crash or after retention emptied the log. A
// batch gets consecutive numbers; batches from concurrent callers are
// ordered as the log accepted them, and the log never has holes. Readers see
// only durable records, so a consumer never forwards something a crash
// could take back.
//
// History is ordered by the device's time ("timestamp", or
// "server.timestamp" when a message has none), not by arrival: a black box
// that uploads last week's track files it under last week. Telemetry keeps
// per parameter the value with the newest device time, so such an upload
// never overwrites today's position.
//
// # Consumers
//
// A consumer (a stream, MQTT publishing, the history writer) is a name with
// a committed position: [Log.Read] from it, process, [Log.Commit] the next
// position, [Log.Wait] when caught up. Delivery is at least once: a consumer
// that crashes between processing and committing processes those records
// again.
//
// A consumer that reads a lot reads pages with [Log.ReadInto] into one slice
// of records it keeps: each record's message is refilled in its own storage,
// so reading allocates nothing for parameters and at most one string per
// message (none when its string values equal the previous record's, as the
// same device's ident does). The messages are overwritten by the next page:
// Clone one to keep it; its strings may be kept as they are.
//
// # Retention
//
// The log drops records older than [LogConfig.MaxAge] (30 days by default)
// and keeps its size under [LogConfig.MaxBytes]. At the cap the owner's
// [Overflow] policy applies: [Block] (the default) first releases records
// every consumer has committed and otherwise fails appends with [ErrFull]:
// the channel stops acknowledging and trackers keep their data until
// consumers catch up. [DropOldest] deletes the oldest records instead, read
// or not; consumers behind resume at the oldest kept. Retention only removes
// a prefix of the log and never rewrites records. Device history has its
// own age and size limits per device ([HistoryConfig]); telemetry keeps at
// most [TelemetryConfig.MaxParams] parameters per device.
//
// # Concurrency and lifetime
//
// Every method of every contract may be called concurrently. Blocking calls
// take a context. Records and messages returned belong to the caller
// ([Log.ReadInto] fills the caller's); messages passed in are not retained. Close waits for calls in progress;
// afterwards every call returns [ErrClosed], and a blocked [Log.Wait]
// returns it at once.
//
// # Errors
//
// [ErrFull] and [ErrTooLarge] steer a channel (stop acknowledging);
// [ErrNotFound] reports an unknown consumer or device; [ErrInvalid] a bad
// argument; [ErrClosed] a closed store; [*CorruptError] stored data that
// does not decode, which is never expected.
package store
