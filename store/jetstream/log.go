package jetstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/natskey"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/mark"
)

// The log is one stream holding one subject. Each stream message carries a
// group of records (the batches of every Append that shared one publish)
// and says in its headers which log sequence numbers they have: log
// numbers are contiguous because every message is published on the
// condition that the stream's last message is the one its numbers follow
// (Nats-Expected-Last-Sequence), so two writers, on one node or on
// several, can never give out the same number or skip one.
const (
	hFirst = "Gg-First" // log seq of the message's first record
	hCount = "Gg-Count" // records in the message
	hCum   = "Gg-Cum"   // bytes of records 1..last, as MaxBytes counts them
	hTime  = "Gg-Time"  // append time, Unix ns (never decreasing)
)

// ErrFenced is returned by [Log.CommitFenced] when a holder with a newer
// fencing token has committed the consumer's position since: the caller
// lost its lease and must stop.
var ErrFenced = fmt.Errorf("store/jetstream: %w", store.ErrFenced)

// Fenced is store.Fenced, which the [store.Log] of this package
// implements: a consumer whose work is guarded by a lease
// (examples/gateway/cluster) commits its position with the lease's fencing
// token, so that a holder that lost the lease cannot move it. See
// CommitFenced on the log.
type Fenced = store.Fenced

var _ Fenced = (*jlog)(nil)

// msgInfo describes one stream message of the log.
type msgInfo struct {
	sseq  uint64 // stream sequence; 0: none (empty log)
	first uint64 // log seq of the first record
	count uint64
	cum   uint64 // cumulative size through the last record
	time  int64  // Unix ns
}

// last is the message's last record; first-1 for the origin message, which
// holds none.
func (m msgInfo) last() uint64 { return m.first + m.count - 1 }

func headerUint(h nats.Header, key string) (uint64, error) {
	v := h.Get(key)
	if v == "" {
		return 0, fmt.Errorf("missing header %s", key)
	}
	return strconv.ParseUint(v, 10, 64)
}

func parseInfo(sseq uint64, h nats.Header) (msgInfo, error) {
	m := msgInfo{sseq: sseq}
	var err error
	var t uint64
	if m.first, err = headerUint(h, hFirst); err == nil {
		if m.count, err = headerUint(h, hCount); err == nil {
			if m.cum, err = headerUint(h, hCum); err == nil {
				t, err = headerUint(h, hTime)
			}
		}
	}
	if err == nil && m.first == 0 {
		err = codec.ErrBad
	}
	if err != nil {
		return msgInfo{}, corrupt(fmt.Sprintf("log message %d", sseq), err)
	}
	m.time = int64(t)
	return m, nil
}

// floorState is the log's logical start, shared by every node in the state
// bucket: records below seq are gone even while the stream message holding
// them is kept for its other records.
type floorState struct {
	seq     uint64 // first record kept
	cum     uint64 // cumulative size before seq
	sseq    uint64 // stream message holding seq (or the last one when seq is past the end); 0 before any move
	dropped uint64 // records removed by DropOldest or age retention, ever
}

func (f floorState) encode() []byte {
	b := make([]byte, 32)
	binary.BigEndian.PutUint64(b, f.seq)
	binary.BigEndian.PutUint64(b[8:], f.cum)
	binary.BigEndian.PutUint64(b[16:], f.sseq)
	binary.BigEndian.PutUint64(b[24:], f.dropped)
	return b
}

func decodeFloor(b []byte) (floorState, error) {
	if len(b) != 32 {
		return floorState{}, corrupt("floor", codec.ErrBad)
	}
	return floorState{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]),
		binary.BigEndian.Uint64(b[16:]), binary.BigEndian.Uint64(b[24:])}, nil
}

const (
	keyID     = "id"
	keyFloor  = "floor"
	cursorPfx = "c."
)

func cursorKey(name string) string { return cursorPfx + natskey.Token(name) }

type jlog struct {
	s      *Store
	id     string
	subj   string
	stream js.Stream
	state  js.KeyValue
	maxMsg int // payload bound of one group message

	mu            sync.Mutex
	tail          msgInfo // last message known to be stored
	dirty         bool    // tail may be stale: refresh before publishing
	floor         floorState
	floorRev      uint64
	droppedAtOpen uint64
	hint          msgInfo // last message read, to continue a sequential reader

	fmu sync.Mutex // serializes floor moves of this process

	durable mark.Mark // tail.last(), for Wait

	cmu     sync.Mutex
	fenceRv map[string]fencedRev // cursor key → our last fenced commit

	cache msgCache

	rmu        sync.Mutex  // the batch reader of prefetch
	reader     js.Consumer // nil until a page needs several messages
	readerNext uint64      // the stream sequence it delivers next

	qmu   sync.Mutex
	queue []*appendReq
	kick  chan struct{}
	stop  chan struct{}
	loops sync.WaitGroup

	tailWatch  js.ConsumeContext
	floorWatch js.KeyWatcher
}

func openLog(ctx context.Context, s *Store, replicas, cacheBytes int) (*jlog, error) {
	l := &jlog{s: s, subj: "gnssgate." + s.name + ".log", kick: make(chan struct{}, 1), stop: make(chan struct{}),
		fenceRv: map[string]fencedRev{}, tail: msgInfo{first: 1}, floor: floorState{seq: 1}}
	l.cache.init(cacheBytes)
	// Retention is applied by this package (Trim, MaxBytes), never by the
	// server's limits: they would drop unread records under Block, and
	// could drop the last message, whose headers number the next record.
	cfg := js.StreamConfig{
		Name:        s.name + "_log",
		Subjects:    []string{l.subj},
		Storage:     js.FileStorage,
		Replicas:    replicas,
		Retention:   js.LimitsPolicy,
		Discard:     js.DiscardOld,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		Duplicates:  2 * time.Minute,
		AllowDirect: true,
	}
	var err error
	if l.stream, err = ensureStream(ctx, s, cfg); err != nil {
		return nil, err
	}
	if l.state, err = ensureKV(ctx, s, js.KeyValueConfig{Bucket: s.name + "_state", History: 1,
		Storage: js.FileStorage, Replicas: replicas}); err != nil {
		return nil, err
	}
	if l.id, err = loadID(ctx, s, l.state); err != nil {
		return nil, err
	}
	l.maxMsg = int(s.nc.MaxPayload()) - 4096
	if l.maxMsg < 64<<10 {
		l.maxMsg = 64 << 10
	}
	if err := l.loadFloor(ctx); err != nil {
		return nil, err
	}
	l.droppedAtOpen = l.floor.dropped
	if err := l.refreshTail(ctx); err != nil {
		return nil, err
	}
	if l.tail.sseq == 0 {
		if err := l.publishOrigin(ctx); err != nil {
			return nil, err
		}
	}
	if err := l.startWatches(ctx); err != nil {
		return nil, err
	}
	l.loops.Add(1)
	go l.writeLoop()
	return l, nil
}

func ensureStream(ctx context.Context, s *Store, cfg js.StreamConfig) (js.Stream, error) {
	rc, cancel := s.rctx(ctx)
	defer cancel()
	st, err := s.js.CreateStream(rc, cfg)
	if errors.Is(err, js.ErrStreamNameAlreadyInUse) {
		st, err = s.js.Stream(rc, cfg.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("store/jetstream: stream %s: %w", cfg.Name, err)
	}
	return st, nil
}

func ensureKV(ctx context.Context, s *Store, cfg js.KeyValueConfig) (js.KeyValue, error) {
	rc, cancel := s.rctx(ctx)
	defer cancel()
	kv, err := s.js.CreateKeyValue(rc, cfg)
	if errors.Is(err, js.ErrBucketExists) {
		kv, err = s.js.KeyValue(rc, cfg.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("store/jetstream: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// loadID reads the log's identity, making it at first open: the first
// node to create it wins, every other node reads the same.
func loadID(ctx context.Context, s *Store, kv js.KeyValue) (string, error) {
	rc, cancel := s.rctx(ctx)
	defer cancel()
	if _, err := kv.Create(rc, keyID, []byte(uuid.NewString())); err != nil && !errors.Is(err, js.ErrKeyExists) {
		return "", fmt.Errorf("store/jetstream: log identity: %w", err)
	}
	e, err := kv.Get(rc, keyID)
	if err != nil {
		return "", fmt.Errorf("store/jetstream: log identity: %w", err)
	}
	return string(e.Value()), nil
}

// publishOrigin starts an empty log with a message that holds no record:
// every append is then published on the condition that the stream's last
// message is the one it follows (Nats-Expected-Last-Sequence, which the
// server does not check against 0). Two nodes starting the same log may
// both publish one; an origin numbers nothing, so a second is harmless.
func (l *jlog) publishOrigin(ctx context.Context) error {
	msg := nats.NewMsg(l.subj)
	msg.Header.Set(hFirst, "1")
	msg.Header.Set(hCount, "0")
	msg.Header.Set(hCum, "0")
	msg.Header.Set(hTime, strconv.FormatInt(l.s.now().UnixNano(), 10))
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	if _, err := l.s.js.PublishMsg(rc, msg); err != nil {
		return fmt.Errorf("store/jetstream: starting the log: %w", err)
	}
	return l.refreshTail(ctx)
}

// ID returns the log's identity: a UUID made by the first node that opened
// it, the same for every node and after every restart ([store.Identifier]).
func (l *jlog) ID() string { return l.id }

func (l *jlog) loadFloor(ctx context.Context) error {
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	e, err := l.state.Get(rc, keyFloor)
	if errors.Is(err, js.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := decodeFloor(e.Value())
	if err != nil {
		return err
	}
	l.setFloor(f, e.Revision())
	return nil
}

// setFloor adopts a floor seen in the bucket if it is newer. The floor
// only moves forward: should two moves both pass the bucket's
// compare-and-set (nats-server before 2.9.21 in a cluster does not
// serialize it, see the package documentation), the further one still
// holds on every node that saw it.
func (l *jlog) setFloor(f floorState, rev uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rev > l.floorRev {
		l.floorRev = rev
		if f.seq >= l.floor.seq {
			l.floor = f
		}
	}
}

// advanceTail adopts m as the tail if it is newer, and wakes waiters.
func (l *jlog) advanceTail(m msgInfo) {
	l.mu.Lock()
	if m.sseq > l.tail.sseq {
		l.tail = m
	}
	l.mu.Unlock()
	l.durable.Advance(m.last())
}

// refreshTail reads the subject's last message from the server.
func (l *jlog) refreshTail(ctx context.Context) error {
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	raw, err := l.stream.GetLastMsgForSubject(rc, l.subj)
	if errors.Is(err, js.ErrMsgNotFound) {
		l.mu.Lock()
		l.dirty = false
		l.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	m, err := parseInfo(raw.Sequence, raw.Header)
	if err != nil {
		return err
	}
	l.cache.put(raw.Sequence, m, raw.Data)
	l.mu.Lock()
	l.dirty = false
	l.mu.Unlock()
	l.advanceTail(m)
	return nil
}

// startWatches follows the log's new messages (headers only: Wait needs
// their numbers, not their records) and the floor, so that neither Wait nor
// Read polls the servers.
func (l *jlog) startWatches(ctx context.Context) error {
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	c, err := l.stream.OrderedConsumer(rc, js.OrderedConsumerConfig{
		FilterSubjects: []string{l.subj},
		DeliverPolicy:  js.DeliverLastPolicy,
		HeadersOnly:    true,
	})
	if err != nil {
		return fmt.Errorf("store/jetstream: following the log: %w", err)
	}
	l.tailWatch, err = c.Consume(func(msg js.Msg) {
		md, err := msg.Metadata()
		if err != nil {
			return
		}
		if m, err := parseInfo(md.Sequence.Stream, msg.Headers()); err == nil {
			l.advanceTail(m)
		}
	})
	if err != nil {
		return fmt.Errorf("store/jetstream: following the log: %w", err)
	}
	w, err := l.state.Watch(context.Background(), keyFloor, js.IgnoreDeletes())
	if err != nil {
		l.tailWatch.Stop()
		return fmt.Errorf("store/jetstream: following the floor: %w", err)
	}
	l.floorWatch = w
	l.loops.Add(1)
	go func() {
		defer l.loops.Done()
		for e := range w.Updates() {
			if e == nil {
				continue
			}
			if f, err := decodeFloor(e.Value()); err == nil {
				l.setFloor(f, e.Revision())
			}
		}
	}()
	return nil
}

// shutdown stops the writer and the watches; Close holds every call out.
func (l *jlog) shutdown() {
	close(l.stop)
	if l.tailWatch != nil {
		// After an outage nats.go recreates the follower's consumer holding
		// the lock Stop needs, for up to 10 s per attempt: Close does not
		// wait for that (the connection's closing ends it).
		stopped := make(chan struct{})
		go func() {
			l.tailWatch.Stop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(time.Second):
		}
	}
	if l.floorWatch != nil {
		l.floorWatch.Stop()
	}
	l.loops.Wait()
	l.rmu.Lock()
	if l.reader != nil {
		ctx, cancel := l.s.rctx(context.Background())
		l.stream.DeleteConsumer(ctx, l.reader.CachedInfo().Name)
		cancel()
		l.reader = nil
	}
	l.rmu.Unlock()
}

// --- locating and reading messages -------------------------------------

type rawMsg struct {
	info msgInfo
	data []byte
}

func (l *jlog) getMsg(ctx context.Context, sseq uint64) (rawMsg, error) {
	if m, ok := l.cache.get(sseq); ok {
		return m, nil
	}
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	raw, err := l.stream.GetMsg(rc, sseq)
	if err != nil {
		return rawMsg{}, err
	}
	info, err := parseInfo(sseq, raw.Header)
	if err != nil {
		return rawMsg{}, err
	}
	l.cache.put(sseq, info, raw.Data)
	return rawMsg{info, raw.Data}, nil
}

// search returns the first message from the floor's to tail for which ok
// holds (ok must be monotonic), or tail when none does.
func (l *jlog) search(ctx context.Context, tail msgInfo, ok func(msgInfo) bool) (msgInfo, error) {
	l.mu.Lock()
	lo := max(l.floor.sseq, 1)
	l.mu.Unlock()
	hi := tail.sseq // answer in [lo, hi]
	best := tail
	for lo <= hi {
		mid := lo + (hi-lo)/2
		m, err := l.getMsg(ctx, mid)
		if errors.Is(err, js.ErrMsgNotFound) { // purged meanwhile: look higher
			lo = mid + 1
			continue
		}
		if err != nil {
			return msgInfo{}, err
		}
		if ok(m.info) {
			best = m.info
			if mid == 0 {
				break
			}
			hi = mid - 1
		} else {
			lo = mid + 1
		}
	}
	return best, nil
}

// holding returns the message holding record seq (seq <= tail.last()).
func (l *jlog) holding(ctx context.Context, seq uint64, tail msgInfo) (msgInfo, error) {
	l.mu.Lock()
	h := l.hint
	l.mu.Unlock()
	if h.sseq != 0 && seq >= h.first && seq <= h.last() {
		return h, nil
	}
	if h.sseq != 0 && seq == h.last()+1 && h.sseq < tail.sseq {
		if m, err := l.getMsg(ctx, h.sseq+1); err == nil && m.info.first == seq {
			return m.info, nil
		}
	}
	if seq >= tail.first {
		return tail, nil
	}
	return l.search(ctx, tail, func(m msgInfo) bool { return m.last() >= seq })
}

// recordSizes returns each record's size as MaxBytes counts it.
func recordSizes(m rawMsg) ([]uint64, error) {
	sizes := make([]uint64, 0, min(m.info.count, uint64(len(m.data)))) // a record takes a byte at least
	data := m.data
	for len(data) > 0 {
		n, w := binary.Uvarint(data)
		if w <= 0 || n > uint64(len(data)-w) {
			return nil, corrupt(fmt.Sprintf("log message %d", m.info.sseq), codec.ErrTruncated)
		}
		sizes = append(sizes, n+codec.LogOverhead)
		data = data[w+int(n):]
	}
	if uint64(len(sizes)) != m.info.count {
		return nil, corrupt(fmt.Sprintf("log message %d", m.info.sseq), codec.ErrBad)
	}
	return sizes, nil
}

func (l *jlog) Read(ctx context.Context, from uint64, max int) ([]store.Record, error) {
	if max <= 0 {
		if err := l.s.enter(ctx); err != nil {
			return nil, err
		}
		l.s.leave()
		return nil, nil
	}
	l.mu.Lock()
	avail := l.tail.last() + 1 - min(l.tail.last()+1, maxU(from, l.floor.seq))
	l.mu.Unlock()
	out := make([]store.Record, min(uint64(max), avail))
	n, err := l.ReadInto(ctx, from, out)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func (l *jlog) ReadInto(ctx context.Context, from uint64, dst []store.Record) (int, error) {
	if err := l.s.enter(ctx); err != nil {
		return 0, err
	}
	defer l.s.leave()
	for attempt := 0; ; attempt++ {
		n, err := l.read(ctx, from, dst)
		if errors.Is(err, js.ErrMsgNotFound) && attempt < readNotFoundTries {
			// Another node moved the floor and purged: start at the new
			// one. Or, on a replicated stream, the direct get was answered
			// by a replica that has not applied the newest messages yet
			// (any replica answers one): ask again a moment later. A
			// history writer gave up on it after three quick tries in a
			// 3-node bench run.
			if err := l.loadFloor(ctx); err != nil {
				return 0, err
			}
			if attempt > 0 {
				t := time.NewTimer(time.Duration(attempt) * 50 * time.Millisecond)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return 0, ctx.Err()
				}
			}
			continue
		}
		return n, err
	}
}

// readNotFoundTries bounds ReadInto's retries of a message not found:
// about 2 s of waiting in all for a lagging replica.
const readNotFoundTries = 10

func (l *jlog) read(ctx context.Context, from uint64, dst []store.Record) (int, error) {
	l.mu.Lock()
	tail, floor := l.tail, l.floor.seq
	l.mu.Unlock()
	from = maxU(maxU(from, floor), 1)
	if len(dst) == 0 || from > tail.last() {
		return 0, nil
	}
	m, err := l.holding(ctx, from, tail)
	if err != nil {
		return 0, err
	}
	// A page usually spans several messages: get the ones it will need in
	// one go rather than one round trip after another.
	var pre map[uint64]rawMsg
	if k := min(1+uint64(len(dst))/max(m.count, 1), tail.sseq-m.sseq); k >= 2 {
		pre = l.prefetch(ctx, m.sseq+1, m.sseq+k)
	}
	dec := decoders.Get().(*codec.Decoder)
	defer decoders.Put(dec)
	n := 0
	for sseq := m.sseq; n < len(dst) && sseq <= tail.sseq; sseq++ {
		raw, ok := pre[sseq]
		if !ok {
			if raw, err = l.getMsg(ctx, sseq); err != nil {
				return 0, err
			}
		}
		seq, data := raw.info.first, raw.data
		for len(data) > 0 && n < len(dst) {
			sz, w := binary.Uvarint(data)
			if w <= 0 || sz > uint64(len(data)-w) {
				return 0, corrupt(fmt.Sprintf("log message %d", sseq), codec.ErrTruncated)
			}
			rec := data[w : w+int(sz)]
			data = data[w+int(sz):]
			if seq >= from {
				r := &dst[n]
				if err := dec.DecodeInto(&r.Message, rec); err != nil {
					return 0, corrupt(fmt.Sprintf("log record %d", seq), err)
				}
				r.Seq, r.Time = seq, time.Unix(0, raw.info.time).UTC()
				n++
			}
			seq++
		}
		l.mu.Lock()
		l.hint = raw.info
		l.mu.Unlock()
	}
	return n, nil
}

var decoders = sync.Pool{New: func() any { return new(codec.Decoder) }}

// prefetch gets messages from..to, those not cached, through a consumer
// that delivers them in batches: one request for a page of small messages
// instead of one per message. The consumer is kept for the next page (a
// consumer reads on from where it stopped) and recreated when a read
// starts elsewhere. What fails is left out: the reader gets it again
// itself and reports the error.
func (l *jlog) prefetch(ctx context.Context, from, to uint64) map[uint64]rawMsg {
	out := make(map[uint64]rawMsg, to-from+1)
	for from <= to {
		if m, ok := l.cache.get(from); ok {
			out[from] = m
			from++
			continue
		}
		break
	}
	if from > to {
		return out
	}
	l.rmu.Lock()
	defer l.rmu.Unlock()
	if l.reader == nil || l.readerNext != from {
		if l.reader != nil {
			l.dropReader()
		}
		rc, cancel := l.s.rctx(ctx)
		c, err := l.stream.CreateConsumer(rc, js.ConsumerConfig{
			FilterSubject:     l.subj,
			DeliverPolicy:     js.DeliverByStartSequencePolicy,
			OptStartSeq:       from,
			AckPolicy:         js.AckNonePolicy,
			InactiveThreshold: 30 * time.Second,
			MemoryStorage:     true,
			Replicas:          1,
		})
		cancel()
		if err != nil {
			return out
		}
		l.reader, l.readerNext = c, from
	}
	want := int(to - from + 1)
	b, err := l.reader.Fetch(want, js.FetchMaxWait(l.s.timeout))
	if err != nil {
		l.dropReader()
		return out
	}
	for msg := range b.Messages() {
		md, err := msg.Metadata()
		if err != nil {
			continue
		}
		info, err := parseInfo(md.Sequence.Stream, msg.Headers())
		if err != nil {
			continue
		}
		out[info.sseq] = rawMsg{info, msg.Data()}
		l.readerNext = info.sseq + 1
	}
	if b.Error() != nil {
		l.dropReader()
	}
	return out
}

// dropReader deletes the batch reader's consumer (in the background: the
// server would drop it when idle anyway). The caller holds rmu.
func (l *jlog) dropReader() {
	if l.reader == nil {
		return
	}
	name := l.reader.CachedInfo().Name
	l.reader = nil
	go func() {
		ctx, cancel := l.s.rctx(context.Background())
		defer cancel()
		l.stream.DeleteConsumer(ctx, name)
	}()
}

// waitCheck bounds how long Wait trusts the log's follower alone: should
// it stall (a server failover it has not recovered from yet), Wait asks
// for the last message itself this often.
const waitCheck = 5 * time.Second

func (l *jlog) Wait(ctx context.Context, after uint64) (uint64, error) {
	check := func(ctx context.Context) error {
		if l.s.closed.Load() {
			return store.ErrClosed
		}
		return ctx.Err()
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, waitCheck)
		last, err := l.durable.Wait(wctx, after, l.s.done, check)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return last, err
		}
		if err := l.s.enter(ctx); err != nil {
			return 0, err
		}
		err = l.refreshTail(ctx)
		l.s.leave()
		if err != nil {
			l.s.logger.Warn("store/jetstream: reading the log's end", "err", err)
		}
	}
}

func (l *jlog) Stats(ctx context.Context) (store.LogStats, error) {
	if err := l.s.enter(ctx); err != nil {
		return store.LogStats{}, err
	}
	defer l.s.leave()
	cs, err := l.cursors(ctx)
	if err != nil {
		return store.LogStats{}, err
	}
	l.mu.Lock()
	tail, floor := l.tail, l.floor
	l.mu.Unlock()
	st := store.LogStats{First: floor.seq, Last: tail.last(), Dropped: int64(floor.dropped - l.droppedAtOpen)}
	if floor.seq <= tail.last() {
		st.Count = int64(tail.last() - floor.seq + 1)
		st.Bytes = int64(tail.cum - floor.cum)
		m, err := l.holding(ctx, floor.seq, tail)
		if err != nil {
			return st, err
		}
		st.Oldest = time.Unix(0, m.time).UTC()
	} else {
		st.First = tail.last() + 1
	}
	for _, c := range cs {
		c.Lag = int64(st.Last+1) - int64(maxU(c.Next, st.First))
		st.Consumers = append(st.Consumers, c)
	}
	return st, nil
}

func (l *jlog) Trim(ctx context.Context) error {
	if err := l.s.enter(ctx); err != nil {
		return err
	}
	defer l.s.leave()
	age := l.s.cfg.Log.MaxAgeOrDefault()
	if age == 0 {
		return nil
	}
	cutoff := l.s.now().Add(-age).UnixNano()
	l.mu.Lock()
	tail, floor := l.tail, l.floor
	l.mu.Unlock()
	if tail.sseq == 0 || floor.seq > tail.last() {
		return nil
	}
	to := tail.last() + 1
	if tail.time >= cutoff {
		m, err := l.search(ctx, tail, func(m msgInfo) bool { return m.time >= cutoff })
		if err != nil {
			return err
		}
		to = m.first
	}
	return l.moveFloor(ctx, to, true)
}

// --- a small cache of log messages ----------------------------------------

// msgCache keeps recently read or written log messages, up to a number of
// bytes: consumers reading the tail read what was just appended, and
// several consumers read the same messages. Messages never change, so
// entries never go stale.
type msgCache struct {
	mu    sync.Mutex
	max   int
	size  int
	m     map[uint64]rawMsg
	order []uint64 // insertion order, for eviction
}

func (c *msgCache) init(maxBytes int) {
	c.max = maxBytes
	c.m = make(map[uint64]rawMsg)
}

func (c *msgCache) get(sseq uint64) (rawMsg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[sseq]
	return m, ok
}

func (c *msgCache) put(sseq uint64, info msgInfo, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[sseq]; ok || len(data) > c.max/4 || c.max == 0 {
		return
	}
	for c.size+len(data) > c.max && len(c.order) > 0 {
		c.size -= len(c.m[c.order[0]].data)
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[sseq] = rawMsg{info, data}
	c.size += len(data)
	c.order = append(c.order, sseq)
}
