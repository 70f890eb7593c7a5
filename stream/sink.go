package stream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Sink delivers batches of messages to a target platform: an HTTP endpoint,
// an MQTT or AMQP broker, a Wialon server. The [Stream] owns everything else
// (the durable buffer, batching, order, retries, counters), so a sink only
// turns a batch into the target's wire form and reports what the target
// said.
//
// Write returns nil when the target accepted every message of b. Otherwise:
//
//   - a [*BatchError] names the messages that failed, each with its own
//     error; the others were accepted;
//   - an error marked [Permanent] (a 4xx that retrying cannot fix, a message
//     the target refuses) rejects the messages it covers: the whole batch, or
//     one message inside a BatchError. The stream isolates the culprits of a
//     whole-batch rejection by halving the batch, then applies its
//     [RejectPolicy];
//   - any other error (a 5xx, a timeout, a reset) is retried with backoff;
//     [RetryAfter] sets the wait the target asked for (HTTP 429's
//     Retry-After).
//
// The stream calls Write from one goroutine, one batch at a time, and never
// concurrently. b and everything it refers to belong to the stream and are
// valid only until Write returns. ctx carries the stream's write timeout.
type Sink interface {
	Write(ctx context.Context, b *Batch) error
}

// SinkFunc adapts a function to a [Sink].
type SinkFunc func(ctx context.Context, b *Batch) error

// Write calls f.
func (f SinkFunc) Write(ctx context.Context, b *Batch) error { return f(ctx, b) }

// Batch is what a stream hands its [Sink] in one Write: messages in log
// order.
type Batch struct {
	// Stream is the stream's name.
	Stream   string
	Messages []Message
}

// Message is one message of a [Batch].
type Message struct {
	// Seq is the record's position in the log.
	Seq uint64
	// Time is when the log accepted the record.
	Time time.Time
	// Message holds the parameters after the stream's conversion (Fields).
	Message *protocol.Message
	// JSON is Message encoded as the stream is configured to encode it
	// (flat flespi names, or nested objects): the payload most sinks send.
	JSON []byte

	log string // the log's identity, the first part of the ID
}

// ID returns the message's stable id, "<log id>:<seq>": the same for every
// delivery of this record, whatever batch carries it, so a receiver can drop
// the duplicates that at-least-once delivery allows after a crash.
func (m *Message) ID() string {
	var b [64]byte // the usual id fits: one allocation, the string's
	return string(m.AppendID(b[:0]))
}

// AppendID appends [Message.ID] to dst.
func (m *Message) AppendID(dst []byte) []byte {
	dst = append(dst, m.log...)
	dst = append(dst, ':')
	return strconv.AppendUint(dst, m.Seq, 10)
}

// AppendJSONArray appends the batch's messages as one JSON array to dst.
func (b *Batch) AppendJSONArray(dst []byte) []byte {
	dst = append(dst, '[')
	for i := range b.Messages {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, b.Messages[i].JSON...)
	}
	return append(dst, ']')
}

// AppendIDs appends the ids of the batch's messages to dst in a compact
// form: "<log id>:" followed by the sequence numbers as comma-separated
// ranges ("7-9" for 7,8,9), in batch order, e.g.
// "3f1c…:1001-1500,1502-2000". [ParseIDs] reads it back.
func (b *Batch) AppendIDs(dst []byte) []byte {
	if len(b.Messages) == 0 {
		return dst
	}
	dst = append(dst, b.Messages[0].log...)
	dst = append(dst, ':')
	for i := 0; i < len(b.Messages); {
		j := i
		for j+1 < len(b.Messages) && b.Messages[j+1].Seq == b.Messages[j].Seq+1 {
			j++
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, b.Messages[i].Seq, 10)
		if j > i {
			dst = append(dst, '-')
			dst = strconv.AppendUint(dst, b.Messages[j].Seq, 10)
		}
		i = j + 1
	}
	return dst
}

// ParseIDs reads the form [Batch.AppendIDs] writes and returns one id per
// message, in order. It accepts at most max ids (0 means 1,000,000), so that
// a hostile header cannot make a receiver allocate without bound.
func ParseIDs(s string, max int) ([]string, error) {
	if max <= 0 {
		max = 1_000_000
	}
	if s == "" {
		return nil, nil
	}
	// A log id never contains ':' (a UUID, by default).
	cut := strings.LastIndexByte(s, ':')
	if cut <= 0 {
		return nil, fmt.Errorf("stream: ids %q: no log id", cut100(s))
	}
	log, ranges := s[:cut], s[cut+1:]
	var ids []string
	for _, r := range strings.Split(ranges, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("stream: ids %q: bad sequence %q", cut100(s), cut100(r))
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("stream: ids %q: bad range %q", cut100(s), cut100(r))
			}
		}
		if b-a >= uint64(max-len(ids)) {
			return nil, fmt.Errorf("stream: ids %q: more than %d ids", cut100(s), max)
		}
		for q := a; ; q++ {
			ids = append(ids, log+":"+strconv.FormatUint(q, 10))
			if q == b {
				break
			}
		}
	}
	return ids, nil
}

func cut100(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// --- Errors a sink returns ----------------------------------------------

// PermanentError marks an error that retrying cannot fix. Build it with
// [Permanent].
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as one that retrying the same messages cannot fix: the
// target refused them (HTTP 400, 413, 422, an AMQP nack or a returned
// message). nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err is, or wraps, a [Permanent] error.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryError asks the stream to wait After before the next attempt (HTTP
// 429 and 503 with Retry-After). Build it with [RetryAfter].
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
}
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter returns err with a wait the target asked for; the stream waits
// at least d (at most its RetryMax) before trying again.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryError{Err: err, After: d}
}

// BatchError reports which messages of a batch failed; the messages it does
// not name were accepted. Each failure is retried, or rejected when its
// error is [Permanent].
type BatchError struct {
	failed map[int]error
}

// Failed records that the message at index i of the batch failed with err
// and returns e, for chaining: stream.NewBatchError().Failed(3, err).
func (e *BatchError) Failed(i int, err error) *BatchError {
	if e.failed == nil {
		e.failed = make(map[int]error)
	}
	if err == nil {
		err = errors.New("failed")
	}
	e.failed[i] = err
	return e
}

// NewBatchError returns an empty BatchError; add failures with Failed.
func NewBatchError() *BatchError { return &BatchError{} }

// Len reports how many messages failed.
func (e *BatchError) Len() int { return len(e.failed) }

// Err returns the error of the message at index i, nil when it did not
// fail.
func (e *BatchError) Err(i int) error { return e.failed[i] }

func (e *BatchError) Error() string {
	idx := make([]int, 0, len(e.failed))
	for i := range e.failed {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var b strings.Builder
	fmt.Fprintf(&b, "%d messages failed", len(idx))
	for n, i := range idx {
		if n == 3 {
			b.WriteString(", …")
			break
		}
		fmt.Fprintf(&b, "; #%d: %v", i, e.failed[i])
	}
	return b.String()
}
