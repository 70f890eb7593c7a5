package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// Defaults used when the matching [Config] field is zero.
const (
	DefaultMaxBatch     = 1000
	DefaultWriteTimeout = 30 * time.Second
	DefaultRetryMin     = 500 * time.Millisecond
	DefaultRetryMax     = time.Minute
)

// Errors.
var (
	// ErrStopped is returned by Run when a message was rejected and the
	// policy is [RejectStop]; it is wrapped in a [*RejectedError].
	ErrStopped = errors.New("stream: stopped on a rejected message")
	// ErrRunning is returned by a second concurrent call to Run.
	ErrRunning = errors.New("stream: already running")
	// ErrNoName is returned by New for a Config without a Name.
	ErrNoName = errors.New("stream: Config.Name is required")
)

// RejectedError is returned by Run with policy [RejectStop]: the message
// the target refused, and why. Run again (after fixing the target) retries
// it.
type RejectedError struct {
	ID     string
	Reason error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("stream: message %s rejected: %v", e.ID, e.Reason)
}

// Unwrap returns ErrStopped and the reason.
func (e *RejectedError) Unwrap() []error { return []error{ErrStopped, e.Reason} }

// RejectPolicy is what a stream does with a message its target rejected
// for good (a [Permanent] error).
type RejectPolicy uint8

const (
	// RejectDeadLetter appends the message to Config.DeadLetter with the
	// reason, counts it and goes on. Without a DeadLetter log it is
	// [RejectSkip]. The default.
	RejectDeadLetter RejectPolicy = iota
	// RejectSkip counts the message as rejected and goes on.
	RejectSkip
	// RejectStop stops the stream before the message: Run returns a
	// [*RejectedError] and the message is the first sent when Run is
	// called again.
	RejectStop
)

func (p RejectPolicy) String() string {
	switch p {
	case RejectSkip:
		return "skip"
	case RejectStop:
		return "stop"
	}
	return "dead-letter"
}

// StartAt is where a stream that has never delivered anything starts.
type StartAt uint8

const (
	// StartNew forwards only messages that arrive after the stream first
	// runs (flespi: "only newly received messages are forwarded"). The
	// default.
	StartNew StartAt = iota
	// StartOldest forwards everything the log still holds, too.
	StartOldest
)

// Config configures a [Stream]. The zero value, with Name set, forwards
// every message of the log; each field documents its default.
type Config struct {
	// Name identifies the stream; its durable cursor is the log consumer
	// "stream:" + Name. Required.
	Name string
	// Subscriptions selects the channels and devices forwarded; nil
	// forwards every message of the log.
	Subscriptions *Subscriptions
	// Validate is flespi's validate_message: a compiled filter expression
	// (filter.CompileFilter) a message must match to be forwarded; the
	// others are skipped and counted. Each evaluation has the expression's
	// step budget (filter.Limits.MaxSteps, by default a few milliseconds):
	// a message it gives up on is skipped, counted in Stats.OverBudget and
	// logged once per Stream. nil forwards every message.
	Validate *filter.Expr
	// Convert selects the parameters forwarded and their JSON form.
	Convert Convert
	// NoJSON leaves Message.JSON empty, for sinks that read Message only
	// (a history writer): the encoding is then not paid for.
	NoJSON bool

	// MaxBatch bounds the messages of one Write; 0 means
	// [DefaultMaxBatch] (1,000).
	MaxBatch int
	// MaxWait is how long a batch waits to fill up once it has its first
	// message. 0 sends what the log holds at once: under load batches fill
	// by themselves while the previous one is in flight, and a quiet
	// stream delivers each message without delay.
	MaxWait time.Duration
	// QueueTTL is flespi's queue_ttl: a message older than this (since the
	// log accepted it) when its turn comes is dropped and counted as
	// expired. 0 means no limit.
	QueueTTL time.Duration
	// WriteTimeout bounds one Write; a timeout is retried. 0 means
	// [DefaultWriteTimeout].
	WriteTimeout time.Duration
	// RetryMin and RetryMax bound the wait between attempts: it starts at
	// RetryMin, doubles each failed attempt up to RetryMax, with ±20 %
	// jitter; a target's Retry-After ([RetryAfter]) is honoured up to
	// RetryMax. 0 means [DefaultRetryMin] and [DefaultRetryMax].
	RetryMin, RetryMax time.Duration
	// OnReject is what happens to a message the target rejects for good.
	OnReject RejectPolicy
	// DeadLetter receives rejected messages under [RejectDeadLetter]: the
	// message as converted, plus "stream.name", "stream.message.id",
	// "stream.reject.reason" and "stream.reject.timestamp". Several streams
	// may share one dead-letter log. [Stream.Replay] sends them again.
	DeadLetter store.Log
	// StartAt is where a new stream starts.
	StartAt StartAt
	// LogID is the log's identity, the first part of every message id. ""
	// means the log's own ([store.LogID]), or "log" when it has none.
	LogID string
	// Fence, when not 0, is the fencing token of the lease under which
	// this process runs the stream (several gateway nodes sharing a log):
	// every commit goes through the log's [store.Fenced], so that a node
	// that lost the lease can no longer move the cursor; Run then returns
	// an error wrapping [store.ErrFenced]. The log must implement
	// store.Fenced.
	Fence uint64

	// OnEvent, when set, is called on state changes (connected, target
	// down, recovered, disabled, enabled, stopped). It runs on the stream's
	// goroutine and must not block.
	OnEvent func(Event)
	// OnBatch, when set, is called after each Write with what it did (for
	// latency histograms). Same rules as OnEvent.
	OnBatch func(BatchReport)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the stream's logs; nil means slog.Default().
	Logger *slog.Logger
}

// EventType names a stream's state change.
type EventType string

// Event types.
const (
	EventConnected  EventType = "connected"   // the first batch since Run started was accepted
	EventTargetDown EventType = "target_down" // a Write failed and will be retried
	EventRecovered  EventType = "recovered"   // a Write succeeded after EventTargetDown
	EventDisabled   EventType = "disabled"
	EventEnabled    EventType = "enabled"
	EventStopped    EventType = "stopped" // policy RejectStop stopped the stream
)

// Event is a state change of a stream.
type Event struct {
	Stream string
	Type   EventType
	Time   time.Time
	Err    error // the failure, for EventTargetDown and EventStopped
}

// BatchReport is what one Write did.
type BatchReport struct {
	Stream   string
	Size     int           // messages in the Write
	Accepted int           // acknowledged by the target
	Rejected int           // refused for good
	Failed   int           // to be retried
	Latency  time.Duration // from the call to its return: flespi's ack_latency
	Err      error
}

// State is what a stream is doing.
type State string

// States.
const (
	StateIdle       State = "idle"       // caught up, waiting for messages
	StateDelivering State = "delivering" // a batch is being written
	StateRetrying   State = "retrying"   // the target is down; waiting to retry
	StateDisabled   State = "disabled"
	StateStopped    State = "stopped" // Run has returned
)

// Stats are a stream's counters since the Stream was created, in flespi's
// terms, and its queue.
type Stats struct {
	State State
	// Read counts messages of the subscriptions the stream read (flespi's
	// "read"); Skipped those validate_message dropped; Accepted those the
	// target acknowledged; Rejected those it refused for good, of which
	// DeadLettered went to the dead-letter log; Expired those dropped by
	// QueueTTL; Dropped records the log's retention removed before the
	// stream read them (subscribed or not: the log cannot tell).
	Read, Skipped, Accepted, Rejected, DeadLettered, Expired, Dropped int64
	// OverBudget counts the skipped messages validate_message gave up on:
	// its evaluation ran out of steps (filter.ErrBudget).
	OverBudget int64
	// Batches counts Writes; Retries the failed ones that were retried.
	Batches, Retries int64
	// LastAckLatency is the latency of the last accepted Write.
	LastAckLatency time.Duration
	// Next is the committed position (the next record to examine); Last
	// the log's last record when the stream last looked. Queue is the
	// number of log records at or after Next (all channels: the log
	// cannot count a stream's own without reading them).
	Next, Last uint64
	Queue      int64
	// Lag is how long ago the log accepted the oldest message waiting to
	// be delivered; 0 when caught up.
	Lag time.Duration
	// LastError is the last Write error, "" after a success.
	LastError string
}

// Stream forwards the messages of a [store.Log] to a [Sink], in order,
// losing nothing while the target is down or the process restarts. See the
// package documentation for the guarantees.
type Stream struct {
	log    store.Log
	sink   Sink
	cfg    Config
	logID  string
	now    func() time.Time
	logger *slog.Logger
	maxB   int

	running atomic.Bool
	// overBudgetLogged: validate_message's budget ran out once already.
	overBudgetLogged atomic.Bool
	enabled          atomic.Bool
	loaded           atomic.Bool // enabled state read from the log
	loadMu           sync.Mutex
	wakeMu           sync.Mutex
	wake             chan struct{} // closed and replaced by signal: wakes every waiter
	deliverMu        sync.Mutex    // one Write at a time: Run and Replay

	mu      sync.Mutex // guards the fields below
	gaps    []gap      // sequence ranges skipped because the stream was disabled
	offAt   uint64     // while disabled: the first record that arrived after
	stats   Stats
	down    bool // target down since the last success
	up      bool // connected since Run started
	oldest  time.Time
	lastErr error
}

// gap is a range [from, to) of records that arrived while the stream was
// disabled: flespi's disabled stream "appends nothing".
type gap struct{ from, to uint64 }

// New returns a stream of log to sink. It reads nothing until Run.
func New(log store.Log, sink Sink, cfg *Config) (*Stream, error) {
	if cfg == nil || cfg.Name == "" {
		return nil, ErrNoName
	}
	s := &Stream{log: log, sink: sink, cfg: *cfg, wake: make(chan struct{})}
	s.logID = s.cfg.LogID
	if s.logID == "" {
		s.logID = store.LogID(log)
	}
	if s.logID == "" {
		s.logID = "log"
	}
	if strings.ContainsRune(s.logID, ':') {
		return nil, fmt.Errorf("stream: log id %q contains ':'", s.logID)
	}
	if _, ok := log.(store.Fenced); s.cfg.Fence != 0 && !ok {
		return nil, errors.New("stream: Config.Fence is set but the log cannot fence commits (store.Fenced)")
	}
	s.now = s.cfg.Now
	if s.now == nil {
		s.now = time.Now
	}
	s.logger = s.cfg.Logger
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.logger = s.logger.With("stream", s.cfg.Name)
	s.maxB = s.cfg.MaxBatch
	if s.maxB <= 0 {
		s.maxB = DefaultMaxBatch
	}
	s.enabled.Store(true)
	s.stats.State = StateIdle
	return s, nil
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.cfg.Name }

// Consumer returns the name of the stream's cursor in the log.
func (s *Stream) Consumer() string { return "stream:" + s.cfg.Name }

func (s *Stream) disabledMarker() string { return s.Consumer() + "#disabled" }
func (s *Stream) gapPrefix() string      { return s.Consumer() + "#gap:" }

// Subscriptions returns the stream's subscriptions (nil: every message).
func (s *Stream) Subscriptions() *Subscriptions { return s.cfg.Subscriptions }

// Stats returns the stream's counters.
func (s *Stream) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	if !s.oldest.IsZero() {
		st.Lag = s.now().Sub(s.oldest)
	}
	if st.Last+1 > st.Next {
		st.Queue = int64(st.Last + 1 - st.Next)
	}
	if s.lastErr != nil {
		st.LastError = s.lastErr.Error()
	}
	return st
}

// Enabled reports whether the stream delivers. The state is kept in the
// log, so it survives restarts.
func (s *Stream) Enabled(ctx context.Context) (bool, error) {
	if err := s.loadEnabled(ctx); err != nil {
		return false, err
	}
	return s.enabled.Load(), nil
}

func (s *Stream) loadEnabled(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.loaded.Load() {
		return nil
	}
	// The enabled state and the gaps of earlier disabled periods are kept
	// as consumers of the log, named after the stream.
	st, err := s.log.Stats(ctx)
	if err != nil {
		return err
	}
	var gaps []gap
	on, offAt := true, uint64(0)
	prefix := s.gapPrefix()
	for _, c := range st.Consumers {
		if from, ok := strings.CutPrefix(c.Name, prefix); ok {
			if f, err := strconv.ParseUint(from, 10, 64); err == nil {
				gaps = append(gaps, gap{f, c.Next})
			}
		}
		if c.Name == s.disabledMarker() {
			on, offAt = false, c.Next
		}
	}
	s.mu.Lock()
	s.gaps, s.offAt = gaps, offAt
	s.enabled.Store(on)
	if !on {
		s.stats.State = StateDisabled
	}
	s.mu.Unlock()
	s.loaded.Store(true)
	return nil
}

// SetEnabled enables or disables the stream, durably. A disabled stream
// keeps its cursor and its queue but delivers nothing, and the messages
// that arrive while it is disabled are never forwarded: flespi's disabled
// stream "appends nothing" to its buffer. Enabling resumes delivery from
// the cursor, skipping what arrived in between. It may be called whether or
// not Run is running.
func (s *Stream) SetEnabled(ctx context.Context, on bool) error {
	if err := s.loadEnabled(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if on == s.enabled.Load() {
		return nil
	}
	st, err := s.log.Stats(ctx)
	if err != nil {
		return err
	}
	end := st.Last + 1
	if !on {
		if err := s.log.Commit(ctx, s.disabledMarker(), end); err != nil {
			return err
		}
		s.offAt = end
		s.enabled.Store(false)
		s.stats.State = StateDisabled
		s.eventLocked(Event{Type: EventDisabled})
		s.signal()
		return nil
	}
	from, err := s.log.Cursor(ctx, s.disabledMarker())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && end > from {
		if err := s.log.Commit(ctx, s.gapPrefix()+fmt.Sprintf("%020d", from), end); err != nil {
			return err
		}
		s.gaps = append(s.gaps, gap{from, end})
	}
	if err := s.log.DeleteConsumer(ctx, s.disabledMarker()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.enabled.Store(true)
	s.stats.State = StateIdle
	s.eventLocked(Event{Type: EventEnabled})
	s.signal()
	return nil
}

// signal wakes every goroutine of Run from its wait.
func (s *Stream) signal() {
	s.wakeMu.Lock()
	close(s.wake)
	s.wake = make(chan struct{})
	s.wakeMu.Unlock()
}

// woken returns the channel the next signal closes. Take it before
// checking the condition waited for, so that no signal is missed.
func (s *Stream) woken() <-chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	return s.wake
}

func (s *Stream) event(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventLocked(e)
}

func (s *Stream) eventLocked(e Event) {
	e.Stream, e.Time = s.cfg.Name, s.now()
	switch e.Type {
	case EventTargetDown, EventStopped:
		s.logger.Warn("stream "+string(e.Type), "err", e.Err)
	default:
		s.logger.Info("stream " + string(e.Type))
	}
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(e)
	}
}

func (s *Stream) setState(st State) {
	s.mu.Lock()
	s.stats.State = st
	s.mu.Unlock()
}

// start returns the stream's position, creating its cursor on first run,
// and loads the gaps of earlier disabled periods.
func (s *Stream) start(ctx context.Context) (uint64, error) {
	if err := s.loadEnabled(ctx); err != nil {
		return 0, err
	}
	return s.open(ctx)
}

// Open creates the stream's cursor if it has none (at the position StartAt
// says) and returns it. Run does it too; a program that starts Run later,
// on another goroutine, calls Open first so that a new stream does not
// miss what is appended in between (flespi's stream forwards what arrives
// after it was created, not after it first ran).
func (s *Stream) Open(ctx context.Context) (next uint64, err error) {
	return s.open(ctx)
}

func (s *Stream) open(ctx context.Context) (uint64, error) {
	st, err := s.log.Stats(ctx)
	if err != nil {
		return 0, err
	}
	pos, err := s.log.Cursor(ctx, s.Consumer())
	if errors.Is(err, store.ErrNotFound) {
		pos = st.Last + 1
		if s.cfg.StartAt == StartOldest {
			pos = st.First
		}
		err = s.commitCursor(ctx, pos)
	} else if err == nil && s.cfg.Fence != 0 {
		// A new lease holder: commit the position with its token first,
		// so that the previous holder can no longer move it.
		err = s.commitCursor(ctx, pos)
	}
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.stats.Next, s.stats.Last = pos, st.Last
	s.mu.Unlock()
	return pos, nil
}

// Run forwards messages until ctx ends (it then returns ctx's error), the
// log fails or closes, or a rejected message stops the stream (policy
// [RejectStop]: a [*RejectedError]). A batch in flight when ctx ends is not
// committed: it is delivered again by the next Run, with the same ids.
func (s *Stream) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	defer s.setState(StateStopped)
	pos, err := s.start(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.up = false
	s.mu.Unlock()

	// A reader reads and converts the next batch while the one before is
	// in flight; this goroutine delivers and commits, one batch at a time,
	// in order. Two batch buffers alternate between them.
	rctx, cancel := context.WithCancel(ctx)
	free, ready := make(chan *slot, 2), make(chan *slot, 1)
	free <- &slot{}
	free <- &slot{}
	readDone := make(chan error, 1)
	go func() { readDone <- s.read(rctx, pos, free, ready) }()
	defer func() {
		cancel()
		<-readDone
	}()
	committed := pos
	for {
		var sl *slot
		select {
		case sl = <-ready:
		case err := <-readDone:
			readDone <- err // for the deferred wait
			return err
		}
		if len(sl.batch.Messages) > 0 {
			if err := s.deliverPending(ctx, sl); err != nil {
				var rej *RejectedError
				if errors.As(err, &rej) {
					// Everything before the refused message is done.
					s.commit(ctx, rejectedSeq(&sl.batch, rej.ID), &committed)
					s.event(Event{Type: EventStopped, Err: rej})
				}
				return err
			}
		}
		if err := s.commit(ctx, sl.next, &committed); err != nil {
			return err
		}
		free <- sl
	}
}

// slot holds one batch: its records, its messages and their JSON.
type slot struct {
	recs    []store.Record
	batch   Batch
	buf     []byte
	ends    []int
	scratch []bool
	// next is the position after the last record examined: what the
	// stream commits once the batch is delivered. A slot with no messages
	// only moves the position.
	next uint64
}

// read fills free slots with the next batches, from pos, and hands them
// over in order until ctx ends or the log fails.
func (s *Stream) read(ctx context.Context, pos uint64, free <-chan *slot, ready chan<- *slot) error {
	sent := pos // the position handed over last
	var sl *slot
	for {
		if err := s.waitEnabled(ctx); err != nil {
			return err
		}
		if sl == nil {
			select {
			case sl = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		next, err := s.fill(ctx, sl, pos, sent)
		if err != nil {
			return err
		}
		pos, sl.next = next, next
		if len(sl.batch.Messages) == 0 && next == sent {
			continue // nothing to send, nothing to commit: keep the slot
		}
		sent = next
		select {
		case ready <- sl:
			sl = nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func rejectedSeq(b *Batch, id string) uint64 {
	for i := range b.Messages {
		if b.Messages[i].ID() == id {
			return b.Messages[i].Seq
		}
	}
	return b.Messages[0].Seq
}

// deliverPending delivers a slot's batch, waiting while the stream is
// disabled: a batch read before the stream was disabled belongs to its
// queue.
func (s *Stream) deliverPending(ctx context.Context, sl *slot) error {
	s.mu.Lock()
	s.oldest = sl.recs[0].Time
	s.mu.Unlock()
	for {
		s.deliverMu.Lock()
		err := s.deliver(ctx, sl.batch.Messages, 0)
		s.deliverMu.Unlock()
		if !errors.Is(err, errPaused) {
			s.mu.Lock()
			s.oldest = time.Time{}
			s.mu.Unlock()
			return err
		}
		if err := s.waitEnabled(ctx); err != nil {
			return err
		}
	}
}

var errPaused = errors.New("stream: disabled")

// commit durably moves the cursor to pos and forgets the gaps it passed.
func (s *Stream) commit(ctx context.Context, pos uint64, committed *uint64) error {
	if pos <= *committed {
		return nil
	}
	if err := s.commitCursor(ctx, pos); err != nil {
		return err
	}
	*committed = pos
	s.mu.Lock()
	s.stats.Next = pos
	var passed []gap
	kept := s.gaps[:0]
	for _, g := range s.gaps {
		if g.to <= pos {
			passed = append(passed, g)
		} else {
			kept = append(kept, g)
		}
	}
	s.gaps = kept
	s.mu.Unlock()
	// The cursor has passed them: delete their markers even when the
	// stream is stopping now, or they would wait for its next commit.
	dctx := context.WithoutCancel(ctx)
	for _, g := range passed {
		name := s.gapPrefix() + fmt.Sprintf("%020d", g.from)
		if err := s.log.DeleteConsumer(dctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// commitCursor commits the stream's cursor, fenced when the stream runs
// under a lease.
func (s *Stream) commitCursor(ctx context.Context, pos uint64) error {
	if s.cfg.Fence != 0 {
		return s.log.(store.Fenced).CommitFenced(ctx, s.Consumer(), pos, s.cfg.Fence)
	}
	return s.log.Commit(ctx, s.Consumer(), pos)
}

// waitEnabled returns when the stream is enabled, or ctx's error.
func (s *Stream) waitEnabled(ctx context.Context) error {
	for {
		woken := s.woken()
		if s.enabled.Load() {
			return nil
		}
		s.setState(StateDisabled)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-woken:
		}
	}
}

// inGapLocked reports whether seq lies in a gap (under mu).
func (s *Stream) inGapLocked(seq uint64) bool {
	for _, g := range s.gaps {
		if seq >= g.from && seq < g.to {
			return true
		}
	}
	return false
}

// skipGap returns pos moved past a gap it falls in, and the first gap start
// after pos (0 when none).
func (s *Stream) skipGap(pos uint64) (uint64, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next uint64
	for _, g := range s.gaps {
		if pos >= g.from && pos < g.to {
			pos = g.to
		}
	}
	for _, g := range s.gaps {
		if g.from > pos && (next == 0 || g.from < next) {
			next = g.from
		}
	}
	return pos, next
}

// progressEvery is how many records a stream examines without forwarding
// any before it commits its position anyway, so that a restart does not
// read them again.
const progressEvery = 4096

// fill reads the next batch into sl, from pos, and returns the position
// after the last record examined. sent is the position handed to the
// deliverer last: when nothing is to be sent, fill returns an empty batch
// with the position so far before it waits (or every progressEvery
// records), so that the deliverer commits it.
func (s *Stream) fill(ctx context.Context, sl *slot, pos, sent uint64) (uint64, error) {
	if cap(sl.recs) < s.maxB {
		sl.recs = make([]store.Record, s.maxB)
	}
	recs := sl.recs[:s.maxB]
	sl.batch.Messages = sl.batch.Messages[:0]
	k := 0 // recs[:k] hold the batch
	var deadline time.Time
	var read, skipped, expired, dropped, overBudget int64
	defer func() {
		s.mu.Lock()
		s.stats.Read += read
		s.stats.Skipped += skipped
		s.stats.OverBudget += overBudget
		s.stats.Expired += expired
		s.stats.Dropped += dropped
		s.mu.Unlock()
	}()
	for k < len(recs) {
		var gapAt uint64
		pos, gapAt = s.skipGap(pos)
		limit := len(recs) - k
		if gapAt > 0 && gapAt-pos < uint64(limit) {
			limit = int(gapAt - pos)
		}
		n, err := s.log.ReadInto(ctx, pos, recs[k:k+limit])
		if err != nil {
			return pos, err
		}
		if n == 0 {
			if k > 0 && (s.cfg.MaxWait <= 0 || !s.now().Before(deadline)) {
				break
			}
			if k == 0 && (pos > sent || !s.enabled.Load()) {
				// Nothing to send: have the position so far committed
				// before waiting.
				return pos, nil
			}
			if err := s.wait(ctx, pos, k, deadline); err != nil {
				return pos, err
			}
			continue
		}
		if first := recs[k].Seq; first > pos {
			dropped += int64(first - pos)
		}
		now := s.now()
		for i, end := k, k+n; i < end; i++ {
			r := &recs[i]
			pos = r.Seq + 1
			if s.cfg.Subscriptions != nil && !s.cfg.Subscriptions.Match(&r.Message) {
				continue
			}
			read++
			if s.cfg.Validate != nil {
				ok, err := s.cfg.Validate.Check(filter.MessageSource{M: &r.Message}, nil, nil)
				if err != nil {
					overBudget++
					if !s.overBudgetLogged.Swap(true) {
						s.logger.Warn("stream: validate_message over its step budget: message skipped (logged once)",
							"stream", s.cfg.Name, "seq", r.Seq, "err", err)
					}
				}
				if !ok {
					skipped++
					continue
				}
			}
			if s.cfg.QueueTTL > 0 && now.Sub(r.Time) > s.cfg.QueueTTL {
				expired++
				continue
			}
			if i != k {
				recs[i], recs[k] = recs[k], recs[i]
			}
			if k == 0 && s.cfg.MaxWait > 0 {
				deadline = now.Add(s.cfg.MaxWait)
			}
			k++
		}
		if k == 0 && pos-sent >= progressEvery {
			return pos, nil
		}
		if !s.enabled.Load() {
			break
		}
	}
	// Disabled while reading: what arrived after belongs to the gap that
	// enabling will skip, not to the queue. Disabled and enabled again
	// while reading: that gap is known now, and its records are dropped
	// too.
	s.mu.Lock()
	disabled, off := !s.enabled.Load(), s.offAt
	n := 0
	for i := range recs[:k] {
		seq := recs[i].Seq
		if disabled && seq >= off || s.inGapLocked(seq) {
			continue
		}
		recs[i], recs[n] = recs[n], recs[i]
		n++
	}
	s.mu.Unlock()
	k = n
	s.build(sl, recs[:k])
	s.mu.Lock()
	s.stats.Last = max(s.stats.Last, pos-1)
	s.mu.Unlock()
	return pos, nil
}

// wait blocks until the log has records at pos, the batch deadline passes
// (when the batch is not empty), the stream is woken, or ctx ends.
func (s *Stream) wait(ctx context.Context, pos uint64, k int, deadline time.Time) error {
	if k == 0 {
		s.setState(StateIdle)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if k > 0 {
		var c2 context.CancelFunc
		wctx, c2 = context.WithDeadline(wctx, deadline)
		defer c2()
	}
	wake, done := s.woken(), make(chan struct{})
	go func() {
		select {
		case <-wake:
			cancel()
		case <-wctx.Done():
		}
		close(done)
	}()
	last, err := s.log.Wait(wctx, pos-1)
	cancel()
	<-done
	if err == nil {
		s.mu.Lock()
		s.stats.Last = max(s.stats.Last, last)
		s.mu.Unlock()
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // woken, or the batch deadline passed
	}
	return err
}

// build turns the batch's records into sl.batch: converted messages and
// their JSON in one buffer.
func (s *Stream) build(sl *slot, recs []store.Record) {
	sl.batch.Stream = s.cfg.Name
	msgs := sl.batch.Messages[:0]
	buf := sl.buf[:0]
	ends := sl.ends[:0] // offsets first: buf may move while it grows
	for i := range recs {
		if s.cfg.NoJSON {
			s.cfg.Convert.retain(&recs[i].Message)
		} else {
			buf = s.cfg.Convert.apply(&recs[i].Message, buf, &sl.scratch)
		}
		ends = append(ends, len(buf))
	}
	sl.ends = ends
	start := 0
	for i := range recs {
		msgs = append(msgs, Message{Seq: recs[i].Seq, Time: recs[i].Time, Message: &recs[i].Message,
			JSON: buf[start:ends[i]:ends[i]], log: s.logID})
		start = ends[i]
	}
	sl.batch.Messages, sl.buf = msgs, buf
}

// deliver writes msgs until each is accepted or rejected. It returns nil,
// errPaused when the stream was disabled meanwhile, ctx's error, or a
// *RejectedError under RejectStop.
func (s *Stream) deliver(ctx context.Context, msgs []Message, attempt int) error {
	for len(msgs) > 0 {
		if !s.enabled.Load() {
			return errPaused
		}
		s.setState(StateDelivering)
		b := Batch{Stream: s.cfg.Name, Messages: msgs}
		timeout := s.cfg.WriteTimeout
		if timeout <= 0 {
			timeout = DefaultWriteTimeout
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		start := s.now()
		err := s.sink.Write(wctx, &b)
		cancel()
		lat := s.now().Sub(start)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rep := BatchReport{Stream: s.cfg.Name, Size: len(msgs), Latency: lat, Err: err}
		var be *BatchError
		switch {
		case err == nil:
			rep.Accepted = len(msgs)
			s.report(rep, true)
			return nil
		case errors.As(err, &be):
			var retry []Message
			for i := range msgs {
				switch e := be.Err(i); {
				case e == nil:
					rep.Accepted++
				case IsPermanent(e):
					rep.Rejected++
					if err := s.reject(ctx, &msgs[i], e); err != nil {
						s.report(rep, false)
						return err
					}
				default:
					rep.Failed++
					retry = append(retry, msgs[i])
				}
			}
			s.report(rep, rep.Failed == 0)
			if len(retry) == 0 {
				return nil
			}
			msgs = retry
		case IsPermanent(err):
			if len(msgs) > 1 {
				// Which message? Halve the batch until the culprits are
				// alone; the others get through. log2(n) extra writes.
				rep.Failed = len(msgs)
				s.report(rep, false)
				h := len(msgs) / 2
				if err := s.deliver(ctx, msgs[:h], 0); err != nil {
					return err
				}
				return s.deliver(ctx, msgs[h:], 0)
			}
			rep.Rejected = 1
			s.report(rep, false)
			return s.reject(ctx, &msgs[0], err)
		default:
			rep.Failed = len(msgs)
			s.report(rep, false)
		}
		// Retry what failed after a backoff.
		if err := s.backoff(ctx, attempt, err); err != nil {
			return err
		}
		attempt++
	}
	return nil
}

// report counts one Write and tracks the target's health.
func (s *Stream) report(r BatchReport, ok bool) {
	var ev *Event
	s.mu.Lock()
	s.stats.Batches++
	s.stats.Accepted += int64(r.Accepted)
	if r.Accepted > 0 {
		s.stats.LastAckLatency = r.Latency
	}
	switch {
	case ok:
		s.lastErr = nil
		if s.down {
			ev = &Event{Type: EventRecovered}
		} else if !s.up {
			ev = &Event{Type: EventConnected}
		}
		s.down, s.up = false, true
	case r.Failed > 0 && !IsPermanent(r.Err):
		s.stats.Retries++
		s.lastErr = r.Err
		if !s.down {
			ev = &Event{Type: EventTargetDown, Err: r.Err}
		}
		s.down = true
	default:
		s.lastErr = r.Err
	}
	if ev != nil {
		s.eventLocked(*ev)
	}
	s.mu.Unlock()
	if s.cfg.OnBatch != nil {
		s.cfg.OnBatch(r)
	}
}

// backoff waits before the next attempt: exponential from RetryMin to
// RetryMax with jitter, at least the target's Retry-After (up to RetryMax).
func (s *Stream) backoff(ctx context.Context, attempt int, err error) error {
	lo, hi := s.cfg.RetryMin, s.cfg.RetryMax
	if lo <= 0 {
		lo = DefaultRetryMin
	}
	if hi <= 0 {
		hi = DefaultRetryMax
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	var ra *RetryError
	if errors.As(err, &ra) && ra.After > d {
		d = min(ra.After, hi)
	}
	s.setState(StateRetrying)
	wake := s.woken()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	case <-wake:
		// Disabled meanwhile, or a nudge: try again now (deliver checks).
		return nil
	}
}

// Event-free bookkeeping of a rejected message, by policy.
func (s *Stream) reject(ctx context.Context, m *Message, reason error) error {
	s.mu.Lock()
	s.stats.Rejected++
	s.mu.Unlock()
	policy := s.cfg.OnReject
	if policy == RejectDeadLetter && s.cfg.DeadLetter == nil {
		policy = RejectSkip
	}
	switch policy {
	case RejectStop:
		return &RejectedError{ID: m.ID(), Reason: reason}
	case RejectSkip:
		s.logger.Warn("stream: message rejected, skipped", "id", m.ID(), "err", reason)
		return nil
	}
	dl := m.Message.Clone()
	dl.Set(ParamStreamName, protocol.String(s.cfg.Name))
	dl.Set(ParamMessageID, protocol.String(m.ID()))
	dl.Set(ParamRejectReason, protocol.String(cut(reason.Error(), 1000)))
	dl.Set(ParamRejectTimestamp, protocol.Float(float64(s.now().UnixMicro())/1e6))
	for attempt := 0; ; attempt++ {
		_, err := s.cfg.DeadLetter.Append(ctx, []protocol.Message{dl})
		if err == nil {
			break
		}
		// The dead-letter log is full or failing: keep the message (and
		// the stream) where they are until it takes it.
		s.logger.Error("stream: dead-letter append failed", "id", m.ID(), "err", err)
		if err := s.backoff(ctx, attempt, err); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.stats.DeadLettered++
	s.mu.Unlock()
	return nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Parameters added to a dead-lettered message.
const (
	ParamStreamName      = "stream.name"
	ParamMessageID       = "stream.message.id"
	ParamRejectReason    = "stream.reject.reason"
	ParamRejectTimestamp = "stream.reject.timestamp"
)

// Replay sends this stream's dead-lettered messages again, from position
// from of Config.DeadLetter up to its end, through the stream's sink, with
// their original ids, in order; it does not run concurrently with Run's
// writes. A message rejected again is handled by the policy again (so it
// may be dead-lettered twice). It returns the position after the last
// record examined, to continue from later, and how many messages it sent.
func (s *Stream) Replay(ctx context.Context, from uint64) (next uint64, sent int, err error) {
	dl := s.cfg.DeadLetter
	if dl == nil {
		return from, 0, errors.New("stream: no dead-letter log")
	}
	recs := make([]store.Record, min(s.maxB, 1000))
	var scratch []bool
	for {
		page := from
		n, err := dl.ReadInto(ctx, from, recs)
		if err != nil || n == 0 {
			return from, sent, err
		}
		var msgs []Message
		var buf []byte
		var ends []int
		for i := range recs[:n] {
			r := &recs[i]
			from = r.Seq + 1
			if name, _ := r.Message.Str(ParamStreamName); name != s.cfg.Name {
				continue
			}
			id, _ := r.Message.Str(ParamMessageID)
			colon := strings.LastIndexByte(id, ':')
			if colon < 0 {
				continue
			}
			seq, perr := strconv.ParseUint(id[colon+1:], 10, 64)
			if perr != nil {
				continue
			}
			logID := id[:colon]
			for _, p := range []string{ParamStreamName, ParamMessageID, ParamRejectReason, ParamRejectTimestamp} {
				r.Message.Delete(p)
			}
			buf = s.cfg.Convert.apply(&r.Message, buf, &scratch)
			ends = append(ends, len(buf))
			msgs = append(msgs, Message{Seq: seq, Time: r.Time, Message: &r.Message, log: logID})
		}
		start := 0
		for i := range msgs {
			msgs[i].JSON = buf[start:ends[i]:ends[i]]
			start = ends[i]
		}
		if len(msgs) > 0 {
			s.deliverMu.Lock()
			err = s.deliver(ctx, msgs, 0)
			s.deliverMu.Unlock()
			if err != nil {
				return page, sent, err
			}
			sent += len(msgs)
		}
	}
}
