package jetstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/gnssgate/gnssgate/internal/natskey"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/telem"
)

// History is one stream, one subject per device and span of device time:
// gnssgate.NAME.hist.<ident>.<bucket>, bucket = floor(timestamp / span). A
// query lists the device's subjects (the server keeps a count per subject),
// reads only the buckets its time range touches, in the order it needs, and
// sorts each bucket by timestamp (arrival order breaks ties: the stream
// sequence). Retention purges whole buckets by subject and deletes single
// messages only in the bucket that straddles a cut.
const hTs = "Gg-Ts" // the message's device time, as a decimal float

type jhist struct {
	s      *Store
	pfx    string // "gnssgate.NAME.hist."
	stream js.Stream
	span   float64 // bucket width in seconds

	mu    sync.Mutex
	sizes map[string]int64 // device → bytes, as last scanned plus our writes
}

func openHistory(ctx context.Context, s *Store, replicas int, span time.Duration) (*jhist, error) {
	h := &jhist{s: s, pfx: "gnssgate." + s.name + ".hist.", span: span.Seconds(), sizes: map[string]int64{}}
	var err error
	h.stream, err = ensureStream(ctx, s, js.StreamConfig{
		Name:        s.name + "_history",
		Subjects:    []string{h.pfx + ">"},
		Storage:     js.FileStorage,
		Replicas:    replicas,
		Retention:   js.LimitsPolicy,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		Duplicates:  2 * time.Minute,
		AllowDirect: true,
	})
	return h, err
}

func (h *jhist) devicePfx(ident string) string { return h.pfx + natskey.Token(ident) + "." }

func (h *jhist) bucket(ts float64) int64 { return int64(math.Floor(ts / h.span)) }

func histSize(ident string, payload int) int64 {
	return int64(payload + len(ident) + codec.HistoryOverhead)
}

func (h *jhist) Store(ctx context.Context, msgs []protocol.Message) error {
	if err := h.s.enter(ctx); err != nil {
		return err
	}
	defer h.s.leave()
	if err := telem.Validate(msgs); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	batch := nuid.Next()
	futures := make([]js.PubAckFuture, 0, len(msgs))
	added := map[string]int64{}
	for i := range msgs {
		m := &msgs[i]
		ident := m.Ident()
		ts, _ := store.DeviceTime(m)
		nm := nats.NewMsg(h.devicePfx(ident) + strconv.FormatInt(h.bucket(ts), 10))
		nm.Data = codec.Append(nil, m)
		nm.Header.Set(hTs, strconv.FormatFloat(ts, 'g', -1, 64))
		nm.Header.Set(js.MsgIDHeader, batch+"-"+strconv.Itoa(i))
		f, err := h.s.js.PublishMsgAsync(nm)
		if err != nil {
			return fmt.Errorf("store/jetstream: history: %w", err)
		}
		futures = append(futures, f)
		added[ident] += histSize(ident, len(nm.Data))
	}
	timer := time.NewTimer(h.s.timeout)
	defer timer.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("store/jetstream: history: %w", err)
		case <-timer.C:
			return fmt.Errorf("store/jetstream: history: %w", context.DeadlineExceeded)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for ident, n := range added {
		max := h.s.cfg.History.RetentionFor(ident).MaxBytes
		if max <= 0 {
			continue
		}
		h.mu.Lock()
		size, known := h.sizes[ident]
		if known {
			size += n
			h.sizes[ident] = size
		}
		h.mu.Unlock()
		if !known || size > max {
			if err := h.rotate(ctx, ident, max); err != nil {
				return err
			}
		}
	}
	return nil
}

// entry is one stored history message.
type entry struct {
	sseq uint64
	ts   float64
	size int64
	data []byte // nil when read headers only
}

// buckets returns a device's bucket numbers and subjects, sorted.
func (h *jhist) buckets(ctx context.Context, ident string) ([]int64, map[int64]uint64, error) {
	rc, cancel := h.s.rctx(ctx)
	defer cancel()
	pfx := h.devicePfx(ident)
	info, err := h.stream.Info(rc, js.WithSubjectFilter(pfx+"*"))
	if err != nil {
		return nil, nil, err
	}
	counts := map[int64]uint64{}
	var days []int64
	for subj, n := range info.State.Subjects {
		d, err := strconv.ParseInt(strings.TrimPrefix(subj, pfx), 10, 64)
		if err != nil || n == 0 {
			continue
		}
		counts[d] = n
		days = append(days, d)
	}
	slices.Sort(days)
	return days, counts, nil
}

// read returns the messages of subject filter, sorted by time then arrival.
func (h *jhist) read(ctx context.Context, filter string, headersOnly bool) ([]entry, error) {
	rc, cancel := h.s.rctx(ctx)
	defer cancel()
	c, err := h.stream.CreateConsumer(rc, js.ConsumerConfig{
		FilterSubject:     filter,
		DeliverPolicy:     js.DeliverAllPolicy,
		AckPolicy:         js.AckNonePolicy,
		HeadersOnly:       headersOnly,
		InactiveThreshold: 30 * time.Second,
		MemoryStorage:     true,
		Replicas:          1,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		dc, cancel := h.s.rctx(context.Background())
		h.stream.DeleteConsumer(dc, c.CachedInfo().Name)
		cancel()
	}()
	pending := c.CachedInfo().NumPending
	out := make([]entry, 0, pending)
	for uint64(len(out)) < pending {
		b, err := c.Fetch(int(min(pending-uint64(len(out)), 1000)), js.FetchMaxWait(h.s.timeout))
		if err != nil {
			return nil, err
		}
		got := 0
		for msg := range b.Messages() {
			got++
			md, err := msg.Metadata()
			if err != nil {
				return nil, err
			}
			e := entry{sseq: md.Sequence.Stream}
			hdr := msg.Headers()
			if e.ts, err = strconv.ParseFloat(hdr.Get(hTs), 64); err != nil {
				return nil, corrupt(fmt.Sprintf("history message %d", e.sseq), err)
			}
			size := len(msg.Data())
			if headersOnly {
				if size, err = strconv.Atoi(hdr.Get("Nats-Msg-Size")); err != nil {
					return nil, corrupt(fmt.Sprintf("history message %d", e.sseq), err)
				}
			} else {
				e.data = msg.Data()
			}
			e.size = int64(size)
			out = append(out, e)
		}
		if err := b.Error(); err != nil {
			return nil, err
		}
		if got == 0 {
			break // deleted meanwhile
		}
	}
	slices.SortFunc(out, func(a, b entry) int {
		if c := cmp.Compare(a.ts, b.ts); c != 0 {
			return c
		}
		return cmp.Compare(a.sseq, b.sseq)
	})
	return out, nil
}

func (h *jhist) Query(ctx context.Context, ident string, q store.Query) ([]protocol.Message, error) {
	if err := h.s.enter(ctx); err != nil {
		return nil, err
	}
	defer h.s.leave()
	if q.To != 0 && q.To < q.From {
		return nil, nil
	}
	days, _, err := h.buckets(ctx, ident)
	if err != nil {
		return nil, err
	}
	lo, hi := h.bucket(q.From), int64(math.MaxInt64)
	if q.To != 0 {
		hi = h.bucket(q.To)
	}
	days = slices.DeleteFunc(days, func(d int64) bool { return d < lo || d > hi })
	if q.Reverse {
		slices.Reverse(days)
	}
	dec := decoders.Get().(*codec.Decoder)
	defer decoders.Put(dec)
	var out []protocol.Message
	for _, d := range days {
		es, err := h.read(ctx, h.devicePfx(ident)+strconv.FormatInt(d, 10), false)
		if err != nil {
			return nil, err
		}
		if q.Reverse {
			slices.Reverse(es)
		}
		for _, e := range es {
			if e.ts < q.From || q.To != 0 && e.ts > q.To {
				continue
			}
			m, err := dec.Decode(e.data)
			if err != nil {
				return nil, corrupt(fmt.Sprintf("history message %d", e.sseq), err)
			}
			if q.Filter != nil && !q.Filter.Match(&m) {
				continue
			}
			if len(q.Fields) > 0 {
				m = store.Project(&m, q.Fields)
			}
			out = append(out, m)
			if q.Count > 0 && len(out) == q.Count {
				return out, nil
			}
		}
	}
	return out, nil
}

// deleteEntries deletes single messages.
func (h *jhist) deleteEntries(ctx context.Context, es []entry) error {
	for _, e := range es {
		rc, cancel := h.s.rctx(ctx)
		err := h.stream.DeleteMsg(rc, e.sseq)
		cancel()
		if err != nil && !errors.Is(err, js.ErrMsgNotFound) {
			return err
		}
	}
	return nil
}

func (h *jhist) purgeBucket(ctx context.Context, ident string, d int64) error {
	rc, cancel := h.s.rctx(ctx)
	defer cancel()
	return h.stream.Purge(rc, js.WithPurgeSubject(h.devicePfx(ident)+strconv.FormatInt(d, 10)))
}

// deleteRange removes a device's messages with from <= ts < to (to as
// given, inclusive when incl).
func (h *jhist) deleteRange(ctx context.Context, ident string, from, to float64, incl bool) (int64, error) {
	days, counts, err := h.buckets(ctx, ident)
	if err != nil {
		return 0, err
	}
	h.mu.Lock()
	delete(h.sizes, ident) // rescanned when next needed
	h.mu.Unlock()
	var n int64
	for _, d := range days {
		start, end := float64(d)*h.span, float64(d+1)*h.span // the bucket holds [start, end)
		if end <= from || start > to || !incl && start >= to {
			continue
		}
		if start >= from && (end <= to || !incl && end <= to) {
			if err := h.purgeBucket(ctx, ident, d); err != nil {
				return n, err
			}
			n += int64(counts[d])
			continue
		}
		es, err := h.read(ctx, h.devicePfx(ident)+strconv.FormatInt(d, 10), true)
		if err != nil {
			return n, err
		}
		es = slices.DeleteFunc(es, func(e entry) bool {
			return e.ts < from || e.ts > to || !incl && e.ts == to
		})
		if err := h.deleteEntries(ctx, es); err != nil {
			return n, err
		}
		n += int64(len(es))
	}
	return n, nil
}

func (h *jhist) Delete(ctx context.Context, ident string, from, to float64) (int64, error) {
	if err := h.s.enter(ctx); err != nil {
		return 0, err
	}
	defer h.s.leave()
	if to == 0 {
		to = math.Inf(1)
	}
	if to < from {
		return 0, nil
	}
	return h.deleteRange(ctx, ident, from, to, true)
}

func (h *jhist) Device(ctx context.Context, ident string) (store.DeviceStats, error) {
	if err := h.s.enter(ctx); err != nil {
		return store.DeviceStats{}, err
	}
	defer h.s.leave()
	es, err := h.read(ctx, h.devicePfx(ident)+"*", true)
	if err != nil {
		return store.DeviceStats{}, err
	}
	if len(es) == 0 {
		return store.DeviceStats{}, store.ErrNotFound
	}
	st := store.DeviceStats{Ident: ident, Count: int64(len(es)), Oldest: es[0].ts, Newest: es[len(es)-1].ts}
	for _, e := range es {
		st.Bytes += histSize(ident, int(e.size))
	}
	h.mu.Lock()
	h.sizes[ident] = st.Bytes
	h.mu.Unlock()
	return st, nil
}

// rotate applies a device's size cap: the oldest messages go, down to 90%
// of it. It rescans the device, so that writes by other nodes count.
func (h *jhist) rotate(ctx context.Context, ident string, max int64) error {
	es, err := h.read(ctx, h.devicePfx(ident)+"*", true)
	if err != nil {
		return err
	}
	var size int64
	for _, e := range es {
		size += histSize(ident, int(e.size))
	}
	if size > max {
		target := max - max/10
		n := 0
		for n < len(es) && size > target {
			size -= histSize(ident, int(es[n].size))
			n++
		}
		if err := h.deleteEntries(ctx, es[:n]); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.sizes[ident] = size
	h.mu.Unlock()
	return nil
}

func (h *jhist) Trim(ctx context.Context) error {
	if err := h.s.enter(ctx); err != nil {
		return err
	}
	defer h.s.leave()
	rc, cancel := h.s.rctx(ctx)
	info, err := h.stream.Info(rc, js.WithSubjectFilter(h.pfx+">"))
	cancel()
	if err != nil {
		return err
	}
	devices := map[string]bool{}
	for subj := range info.State.Subjects {
		tok, _, ok := strings.Cut(strings.TrimPrefix(subj, h.pfx), ".")
		if ok {
			devices[tok] = true
		}
	}
	now := h.s.now()
	for tok := range devices {
		if err := ctx.Err(); err != nil {
			return err
		}
		ident, err := natskey.Parse(tok)
		if err != nil {
			continue
		}
		age := h.s.cfg.History.RetentionFor(ident).MaxAgeOrDefault()
		if age == 0 {
			continue
		}
		cutoff := float64(now.Add(-age).UnixMicro()) / 1e6
		if _, err := h.deleteRange(ctx, ident, math.Inf(-1), cutoff, false); err != nil {
			return err
		}
	}
	return nil
}
