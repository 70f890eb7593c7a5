// Package memory is an in-memory [store.Store]: the reference implementation
// of the store contracts, for tests and for gateways that accept losing
// everything on restart. "Durable" here means "held until Close": nothing
// survives the process. Sizes are counted exactly as the durable engines
// count them, so size caps behave the same.
package memory

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/mark"
	"github.com/gnssgate/gnssgate/store/internal/telem"
)

// Store holds a log, device histories and telemetry in memory. Safe for
// concurrent use.
type Store struct {
	cfg    store.Config
	now    func() time.Time
	closed chan struct{}
	once   sync.Once

	log  memLog
	hist memHistory
	tel  memTelemetry
}

// New returns an empty store; nil cfg means defaults. Background retention
// sweeps are not run: call Trim (memory stores are short-lived).
func New(cfg *store.Config) *Store {
	s := &Store{closed: make(chan struct{})}
	if cfg != nil {
		s.cfg = *cfg
	}
	s.now = s.cfg.Clock()
	s.log = memLog{s: s, id: uuid.NewString(), first: 1, consumers: map[string]uint64{}}
	s.hist = memHistory{s: s, devices: map[string]*device{}}
	s.tel = memTelemetry{s: s, table: telem.Table{MaxParams: s.cfg.Telemetry.MaxParamsOrDefault()}}
	return s
}

// Log returns the store's log.
func (s *Store) Log() store.Log { return &s.log }

// Messages returns the store's device history.
func (s *Store) Messages() store.Messages { return &s.hist }

// Telemetry returns the store's telemetry.
func (s *Store) Telemetry() store.Telemetry { return &s.tel }

// Close drops everything; later calls return [store.ErrClosed].
func (s *Store) Close() error {
	err := store.ErrClosed
	s.once.Do(func() {
		s.log.mu.Lock()
		s.hist.mu.Lock()
		s.tel.mu.Lock()
		close(s.closed)
		s.log.recs, s.hist.devices = nil, nil
		s.tel.mu.Unlock()
		s.hist.mu.Unlock()
		s.log.mu.Unlock()
		err = nil
	})
	return err
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// check returns the error a call must fail with, if any.
func (s *Store) check(ctx context.Context) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// --- log ---

type logRec struct {
	seq  uint64
	time time.Time
	msg  protocol.Message
	size int64
}

type memLog struct {
	s         *Store
	id        string
	mu        sync.Mutex
	recs      []logRec // recs[head:] are kept; recs[head].seq == first
	head      int
	first     uint64 // next when empty
	last      uint64
	bytes     int64
	lastTime  time.Time
	dropped   int64
	consumers map[string]uint64
	appended  mark.Mark // last, for waiters
}

// ID returns the log's identity, a UUID made by New ([store.Identifier]).
func (l *memLog) ID() string { return l.id }

func (l *memLog) kept() []logRec { return l.recs[l.head:] }

// dropFront removes n records from the front.
func (l *memLog) dropFront(n int) {
	for _, r := range l.recs[l.head : l.head+n] {
		l.bytes -= r.size
	}
	clear(l.recs[l.head : l.head+n])
	l.head += n
	l.first += uint64(n)
	if l.head > len(l.recs)/2 { // compact so dropped records are freed
		l.recs = append([]logRec(nil), l.recs[l.head:]...)
		l.head = 0
	}
}

func (l *memLog) minCursor() (uint64, bool) {
	var min uint64
	ok := false
	for _, c := range l.consumers {
		if !ok || c < min {
			min, ok = c, true
		}
	}
	return min, ok
}

func (l *memLog) Append(ctx context.Context, msgs []protocol.Message) (uint64, error) {
	if err := l.s.check(ctx); err != nil {
		return 0, err
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	recs := make([]logRec, len(msgs))
	var need int64
	var buf []byte
	for i := range msgs {
		buf = codec.Append(buf[:0], &msgs[i])
		recs[i] = logRec{msg: msgs[i].Clone(), size: int64(len(buf) + codec.LogOverhead)}
		need += recs[i].size
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s.isClosed() {
		return 0, store.ErrClosed
	}
	if max := l.s.cfg.Log.MaxBytes; max > 0 {
		if need > max {
			return 0, store.ErrTooLarge
		}
		n := 0
		kept := l.kept()
		free := l.bytes + need - max
		limit := uint64(0)
		if l.s.cfg.Log.Overflow == store.Block {
			limit, _ = l.minCursor() // zero when there are no consumers
		}
		for free > 0 && n < len(kept) {
			if l.s.cfg.Log.Overflow == store.Block && kept[n].seq >= limit {
				break
			}
			free -= kept[n].size
			n++
		}
		if free > 0 {
			l.dropFront(n) // consumed records are released even so
			return 0, store.ErrFull
		}
		if l.s.cfg.Log.Overflow == store.DropOldest {
			l.dropped += int64(n)
		}
		l.dropFront(n)
	}
	now := l.s.now()
	if now.Before(l.lastTime) {
		now = l.lastTime // record times never go backwards
	}
	l.lastTime = now
	first := l.last + 1
	for i := range recs {
		recs[i].seq = first + uint64(i)
		recs[i].time = now
		l.bytes += recs[i].size
	}
	l.recs = append(l.recs, recs...)
	l.last += uint64(len(recs))
	l.appended.Advance(l.last)
	return first, nil
}

func (l *memLog) Read(ctx context.Context, from uint64, max int) ([]store.Record, error) {
	if err := l.s.check(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s.isClosed() {
		return nil, store.ErrClosed
	}
	if from < l.first {
		from = l.first
	}
	if from > l.last || max <= 0 {
		return nil, nil
	}
	kept := l.kept()[from-l.first:]
	if len(kept) > max {
		kept = kept[:max]
	}
	out := make([]store.Record, len(kept))
	for i, r := range kept {
		out[i] = store.Record{Seq: r.seq, Time: r.time, Message: r.msg.Clone()}
	}
	return out, nil
}

func (l *memLog) ReadInto(ctx context.Context, from uint64, dst []store.Record) (int, error) {
	if err := l.s.check(ctx); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s.isClosed() {
		return 0, store.ErrClosed
	}
	if from < l.first {
		from = l.first
	}
	if from > l.last || len(dst) == 0 {
		return 0, nil
	}
	kept := l.kept()[from-l.first:]
	if len(kept) > len(dst) {
		kept = kept[:len(dst)]
	}
	for i, r := range kept {
		d := &dst[i]
		d.Seq, d.Time = r.seq, r.time
		d.Message.Reset()
		d.Message.Grow(r.msg.Len())
		for _, p := range r.msg.Params() {
			d.Message.Add(p.Name, p.Value)
		}
	}
	return len(kept), nil
}

func (l *memLog) Wait(ctx context.Context, after uint64) (uint64, error) {
	return l.appended.Wait(ctx, after, l.s.closed, l.s.check)
}

func (l *memLog) Cursor(ctx context.Context, consumer string) (uint64, error) {
	if err := l.s.check(ctx); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	next, ok := l.consumers[consumer]
	if !ok {
		return 0, store.ErrNotFound
	}
	return next, nil
}

func (l *memLog) Commit(ctx context.Context, consumer string, next uint64) error {
	if err := l.s.check(ctx); err != nil {
		return err
	}
	if consumer == "" {
		return store.ErrInvalid
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s.isClosed() {
		return store.ErrClosed
	}
	if next > l.last+1 {
		return store.ErrInvalid
	}
	l.consumers[consumer] = next
	return nil
}

func (l *memLog) DeleteConsumer(ctx context.Context, consumer string) error {
	if err := l.s.check(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.consumers[consumer]; !ok {
		return store.ErrNotFound
	}
	delete(l.consumers, consumer)
	return nil
}

func (l *memLog) Stats(ctx context.Context) (store.LogStats, error) {
	if err := l.s.check(ctx); err != nil {
		return store.LogStats{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := store.LogStats{Count: int64(l.last + 1 - l.first), Bytes: l.bytes, First: l.first, Last: l.last, Dropped: l.dropped}
	if k := l.kept(); len(k) > 0 {
		st.Oldest = k[0].time
	}
	for name, next := range l.consumers {
		st.Consumers = append(st.Consumers, store.ConsumerStats{Name: name, Next: next, Lag: int64(l.last + 1 - max(next, l.first))})
	}
	slices.SortFunc(st.Consumers, func(a, b store.ConsumerStats) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return st, nil
}

func (l *memLog) Trim(ctx context.Context) error {
	if err := l.s.check(ctx); err != nil {
		return err
	}
	age := l.s.cfg.Log.MaxAgeOrDefault()
	if age == 0 {
		return nil
	}
	cutoff := l.s.now().Add(-age)
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.kept()
	n := sort.Search(len(kept), func(i int) bool { return !kept[i].time.Before(cutoff) })
	l.dropped += int64(n)
	l.dropFront(n)
	return nil
}
