package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Store bundles the three parts an engine provides. Engines that provide
// only some return nil for the others (storetest skips them).
//
// All methods of Store and of the parts it returns may be called
// concurrently. Close waits for calls in progress, then makes every later
// call return [ErrClosed]; closing twice returns [ErrClosed].
type Store interface {
	Log() Log
	Messages() Messages
	Telemetry() Telemetry
	Close() error
}

// Config is what every engine understands. The zero Config is ready to use:
// each field documents its default.
type Config struct {
	Log       LogConfig
	History   HistoryConfig
	Telemetry TelemetryConfig
	// Now is the clock used for record times and age retention; nil means
	// time.Now. Tests set it to move time forward.
	Now func() time.Time
	// Logger receives background errors (retention sweeps); nil means
	// slog.Default().
	Logger *slog.Logger
}

// Clock returns c.Now, or time.Now when it is nil.
func (c *Config) Clock() func() time.Time {
	if c.Now != nil {
		return c.Now
	}
	return time.Now
}

// --- Log ---------------------------------------------------------------

// Overflow is what a [Log] does when an append would exceed its size cap.
type Overflow uint8

const (
	// Block fails the append with [ErrFull] once records that every
	// consumer has committed have been released. It is the default: a
	// channel that cannot store stops acknowledging and trackers keep their
	// data in their black boxes.
	Block Overflow = iota
	// DropOldest deletes the oldest records, read or not, to make room.
	// Consumers behind the new start resume at the oldest record kept.
	DropOldest
)

func (o Overflow) String() string {
	if o == DropOldest {
		return "drop-oldest"
	}
	return "block"
}

// DefaultLogMaxAge is the log's age limit when [LogConfig.MaxAge] is 0: the
// 30 days flespi keeps a channel's buffer.
const DefaultLogMaxAge = 30 * 24 * time.Hour

// LogConfig sets a log's retention.
type LogConfig struct {
	// MaxAge drops records older than this (by the time they were
	// appended). 0 means [DefaultLogMaxAge]; negative keeps records forever.
	MaxAge time.Duration
	// MaxBytes caps the total encoded size of the records kept (keys,
	// values and per-record headers; the files on disk lag behind it until
	// compaction). 0 means no cap.
	MaxBytes int64
	// Overflow chooses what happens at the cap; the zero value is [Block].
	Overflow Overflow
	// TrimInterval is how often age retention runs in the background. 0
	// means one minute; negative disables the background sweep (call
	// [Log.Trim]).
	TrimInterval time.Duration
}

// MaxAgeOrDefault resolves MaxAge's documented default; 0 means forever.
func (c LogConfig) MaxAgeOrDefault() time.Duration {
	switch {
	case c.MaxAge == 0:
		return DefaultLogMaxAge
	case c.MaxAge < 0:
		return 0
	}
	return c.MaxAge
}

// TrimIntervalOrDefault resolves TrimInterval's documented default; 0 means
// no background sweep.
func (c LogConfig) TrimIntervalOrDefault() time.Duration {
	switch {
	case c.TrimInterval == 0:
		return time.Minute
	case c.TrimInterval < 0:
		return 0
	}
	return c.TrimInterval
}

// Record is one message of a [Log].
type Record struct {
	// Seq is the record's position: from 1, increasing by one per record,
	// never reused, even across restarts and retention.
	Seq uint64
	// Time is when the log accepted the record (not the device's time);
	// age retention uses it.
	Time    time.Time
	Message protocol.Message
}

// Log is an append-only, durable, ordered sequence of messages read by named
// consumers at their own pace: the channel buffer that streams, MQTT
// publishing and history all read.
//
// Records occupy the contiguous sequence range [First, Last]; retention only
// ever removes a prefix. Every method may be called concurrently.
type Log interface {
	// Append stores msgs as one atomic batch with consecutive sequence
	// numbers first..first+len(msgs)-1. A nil error means the batch is on
	// stable storage and survives a crash: only then may a tracker be
	// acknowledged. Batches from concurrent callers are ordered as the log
	// accepted them and share fsyncs. It fails with [ErrFull] (policy
	// [Block]) or [ErrTooLarge] and then stores nothing. Append of no
	// messages returns (0, nil). The log does not keep msgs. ctx is
	// honoured until the batch is handed to storage; after that Append
	// waits for the fsync (short) so that its result is never ambiguous.
	Append(ctx context.Context, msgs []protocol.Message) (first uint64, err error)

	// Read returns up to max records with Seq >= from, in order, without
	// waiting; none when from is past the end. A from below the first
	// record kept (dropped by retention) starts at the first kept: compare
	// the first record's Seq with from to detect a loss. Only durable
	// records are returned. The records belong to the caller.
	Read(ctx context.Context, from uint64, max int) ([]Record, error)

	// ReadInto is Read into records the caller owns and reuses: it
	// overwrites dst[:n] with up to len(dst) records and returns n (0 when
	// from is past the end), leaving dst[n:] as it was. Each record's
	// Message is reset and refilled in its own storage, so a consumer that
	// reads page after page into the same dst allocates nothing for
	// parameters, and at most one string per message for its string
	// values. Those strings may be kept; the messages themselves are
	// overwritten by the next ReadInto into the same records: Clone one to
	// keep it longer (the pattern of protocol.Result).
	ReadInto(ctx context.Context, from uint64, dst []Record) (n int, err error)

	// Wait blocks until the log holds a durable record with Seq > after and
	// returns the last sequence number, or returns ctx's error or
	// [ErrClosed]. Consumers call it instead of polling.
	Wait(ctx context.Context, after uint64) (last uint64, err error)

	// Cursor returns a consumer's committed position: the sequence number of
	// the next record it wants. [ErrNotFound] if the consumer never
	// committed.
	Cursor(ctx context.Context, consumer string) (next uint64, err error)

	// Commit durably sets a consumer's position (creating the consumer):
	// records below next are done with. next may move backwards (to replay)
	// but not beyond Last+1 ([ErrInvalid]). With policy [Block], records
	// below every consumer's position may be released to make room.
	Commit(ctx context.Context, consumer string, next uint64) error

	// DeleteConsumer forgets a consumer; [ErrNotFound] if unknown.
	DeleteConsumer(ctx context.Context, consumer string) error

	// Stats reports size, bounds and every consumer's lag.
	Stats(ctx context.Context) (LogStats, error)

	// Trim applies age retention now (it also runs in the background every
	// [LogConfig.TrimInterval]).
	Trim(ctx context.Context) error
}

// Identifier is implemented by logs that have a stable identity: a string,
// unique among logs, that a log keeps for its whole life (a durable engine
// keeps it across restarts). Together with a record's Seq it names one
// record everywhere, which is how streams give every delivered message an
// id that a receiver can deduplicate on. Both engines of this module
// implement it.
type Identifier interface {
	ID() string
}

// LogID returns l's identity when l implements [Identifier], and "" when
// it does not.
func LogID(l Log) string {
	if i, ok := l.(Identifier); ok {
		return i.ID()
	}
	return ""
}

// Fenced is implemented by logs whose consumers' positions a lease can
// guard (several gateway nodes sharing one log, one of them running each
// consumer): CommitFenced is Commit with the lease's fencing token, and
// fails with an error wrapping [ErrFenced] once a holder with a newer
// token has committed the consumer, so that a node that lost its lease
// cannot move the position any more. store/jetstream implements it.
type Fenced interface {
	CommitFenced(ctx context.Context, consumer string, next, fence uint64) error
}

// LogStats describes a [Log] at one moment.
type LogStats struct {
	Count  int64     // records kept: Last-First+1, or 0
	Bytes  int64     // encoded size of the records kept, as MaxBytes counts it
	First  uint64    // first record kept; Last+1 when empty
	Last   uint64    // last durable record; 0 before the first append
	Oldest time.Time // Time of record First; zero when empty
	// Dropped counts records removed by [DropOldest] or age retention
	// since the log was opened (not those released under [Block] after
	// every consumer committed them).
	Dropped   int64
	Consumers []ConsumerStats // sorted by name
}

// ConsumerStats is one consumer's position.
type ConsumerStats struct {
	Name string
	Next uint64 // committed position
	Lag  int64  // records kept at or after Next
}

// --- Messages (device history) -----------------------------------------

// DefaultHistoryMaxAge is a device's history age limit when not configured:
// flespi's default messages_ttl of 365 days.
const DefaultHistoryMaxAge = 365 * 24 * time.Hour

// Retention limits one device's history.
type Retention struct {
	// MaxAge drops messages whose timestamp is older than this. 0 means
	// [DefaultHistoryMaxAge]; negative keeps them forever.
	MaxAge time.Duration
	// MaxBytes caps the device's encoded history size; the oldest
	// messages (by timestamp) are deleted, down to 90% of the cap so that
	// rotation is not paid on every write. 0 means no cap.
	MaxBytes int64
}

// MaxAgeOrDefault resolves MaxAge's documented default; 0 means forever.
func (r Retention) MaxAgeOrDefault() time.Duration {
	switch {
	case r.MaxAge == 0:
		return DefaultHistoryMaxAge
	case r.MaxAge < 0:
		return 0
	}
	return r.MaxAge
}

// HistoryConfig sets device history retention.
type HistoryConfig struct {
	Retention // the default for every device
	// ForDevice, when set, returns one device's retention instead of the
	// default (flespi's per-device messages_ttl and messages_rotate).
	ForDevice func(ident string) Retention
	// TrimInterval is how often age retention runs in the background: 0
	// means one hour; negative disables the sweep (call [Messages.Trim]).
	TrimInterval time.Duration
}

// RetentionFor returns the retention that applies to ident.
func (c *HistoryConfig) RetentionFor(ident string) Retention {
	if c.ForDevice != nil {
		return c.ForDevice(ident)
	}
	return c.Retention
}

// TrimIntervalOrDefault resolves TrimInterval's default; 0 means no sweep.
func (c *HistoryConfig) TrimIntervalOrDefault() time.Duration {
	switch {
	case c.TrimInterval == 0:
		return time.Hour
	case c.TrimInterval < 0:
		return 0
	}
	return c.TrimInterval
}

// Filter selects messages. Match must be safe for concurrent use. A compiled
// filter expression plugs in through [FilterFunc]:
//
//	x, err := filter.Compile(`position.speed > 0`)
//	q.Filter = store.FilterFunc(func(m *protocol.Message) bool { return x.MatchMessage(m, nil) })
type Filter interface {
	Match(m *protocol.Message) bool
}

// FilterFunc adapts a function to [Filter].
type FilterFunc func(m *protocol.Message) bool

// Match calls f(m).
func (f FilterFunc) Match(m *protocol.Message) bool { return f(m) }

// Query selects a device's messages, in flespi's shape.
type Query struct {
	// From and To bound the message timestamp (Unix seconds), both
	// inclusive. To 0 means no upper bound.
	From, To float64
	// Count limits the number of messages returned; 0 means all. With
	// Reverse the newest Count are returned.
	Count int
	// Reverse returns the newest first.
	Reverse bool
	// Fields, when not empty, keeps only these parameters (names or
	// patterns such as "position.*"), in the message's own order.
	Fields []string
	// Filter, when set, keeps only matching messages; Count counts matches.
	Filter Filter
}

// Messages is per-device message history ordered by device timestamp (the
// "timestamp" parameter, or "server.timestamp" when absent). Messages with
// equal timestamps are all kept, in the order stored. Every method may be
// called concurrently.
type Messages interface {
	// Store adds messages to their devices' histories, durably when it
	// returns nil. Every message needs an ident and a timestamp
	// ([ErrInvalid]; nothing is stored then).
	Store(ctx context.Context, msgs []protocol.Message) error
	// Query returns one device's messages; none (and no error) for an
	// unknown device.
	Query(ctx context.Context, ident string, q Query) ([]protocol.Message, error)
	// Delete removes a device's messages with from <= timestamp <= to (to 0
	// means no upper bound) and reports how many.
	Delete(ctx context.Context, ident string, from, to float64) (int64, error)
	// Device reports one device's history size; [ErrNotFound] if it has
	// none.
	Device(ctx context.Context, ident string) (DeviceStats, error)
	// Trim applies age retention to every device now.
	Trim(ctx context.Context) error
}

// DeviceStats describes one device's history.
type DeviceStats struct {
	Ident  string
	Count  int64
	Bytes  int64
	Oldest float64 // timestamp of the oldest message
	Newest float64 // timestamp of the newest message
}

// --- Telemetry -----------------------------------------------------------

// DefaultTelemetryMaxParams is how many parameters a device's telemetry
// keeps when not configured: flespi keeps the 1024 most recently updated.
const DefaultTelemetryMaxParams = 1024

// TelemetryConfig bounds telemetry.
type TelemetryConfig struct {
	// MaxParams bounds the parameters kept per device; those with the
	// oldest timestamps are forgotten first. 0 means
	// [DefaultTelemetryMaxParams].
	MaxParams int
}

// MaxParamsOrDefault resolves MaxParams's default.
func (c TelemetryConfig) MaxParamsOrDefault() int {
	if c.MaxParams <= 0 {
		return DefaultTelemetryMaxParams
	}
	return c.MaxParams
}

// TelemetryValue is the latest value of one parameter.
type TelemetryValue struct {
	Name  string
	Value protocol.Value
	Time  float64 // timestamp of the message that carried it (Unix seconds)
}

// TelemetryChange lists the parameters of one device that one update
// changed, with their new values.
type TelemetryChange struct {
	Ident  string
	Values []TelemetryValue // sorted by name
}

// Telemetry keeps the latest value and timestamp of every parameter of every
// device. A value replaces the stored one only if its timestamp is not older:
// a black-box message from last week never overwrites today's position.
// Every method may be called concurrently.
type Telemetry interface {
	// Update merges messages (each needs an ident and a timestamp:
	// [ErrInvalid], nothing applied) and, once durable, reports what changed
	// to watchers.
	Update(ctx context.Context, msgs []protocol.Message) error
	// Get returns a device's values sorted by name: all of them, or those
	// matching any of names (exact names or patterns such as
	// "position.*"). [ErrNotFound] if the device has no telemetry.
	Get(ctx context.Context, ident string, names ...string) ([]TelemetryValue, error)
	// Watch calls fn after every Update that changed something, in the
	// order updates were applied, from the updating goroutine, before
	// Update returns, never concurrently with itself: fn must be quick and
	// must not call Update. fn may keep the change's Values: they are
	// never modified afterwards. The returned func stops the calls.
	Watch(fn func(TelemetryChange)) (stop func())
}
