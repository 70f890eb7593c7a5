package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/mark"
)

// The log lives in its own pebble instance (dir/log): its keys only ever
// grow, so its tables are never rewritten by compactions caused by other
// data. A log record is key 'l'+seq and value time (Unix ns) + cumulative size
// (bytes of records 1..seq) + the encoded message. The cumulative size makes
// the log's size, and the cut point for a size cap, computable from two keys
// without scanning; append times are non-decreasing, so the cut point for age
// retention is a binary search too.
const recHeader = 16

func logKey(seq uint64) []byte {
	k := make([]byte, 9)
	k[0] = tagLog
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

type plog struct {
	d  *DB
	id string // identity, see ID

	// mu orders appends: sequence numbers are assigned and batches handed
	// to pebble's WAL under it, so the WAL holds batches in sequence order
	// and a crash can only lose a suffix, never leave a hole.
	mu       sync.Mutex
	first    uint64 // first record kept (last+1 when empty)
	last     uint64 // last record applied (maybe not yet durable)
	cum      uint64 // cumulative size through last
	bytes    int64  // size of records first..last
	lastTime int64  // append time of last, Unix ns
	dropped  int64

	// durable is the last record known to be on stable storage; readers
	// see nothing beyond it, and Wait waits for it to move.
	durable mark.Mark

	cmu       sync.Mutex // consumers
	consumers map[string]uint64

	// Group commit (append.go): callers queue, one writer applies and
	// syncs everything queued as one batch.
	qmu    sync.Mutex
	queue  []*appendReq
	wait   int           // queue length at which to kick the writer (qmu)
	kick   chan struct{} // capacity 1: "the queue holds wait requests"
	batch  *pebble.Batch // the writer's, reused
	stop   chan struct{}
	loops  sync.WaitGroup
	broken error // a storage error: appends fail until reopened (mu)
}

func openLog(d *DB) (*plog, error) {
	l := &plog{d: d, consumers: map[string]uint64{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), batch: d.logdb.NewBatch()}
	it, err := d.logdb.NewIter(&pebble.IterOptions{LowerBound: []byte{tagLog}, UpperBound: []byte{tagLog + 1}})
	if err != nil {
		return nil, err
	}
	if it.Last() {
		// The newest record carries the high-water mark in its header.
		if len(it.Key()) != 9 || len(it.Value()) < recHeader {
			it.Close()
			return nil, corrupt(it.Key(), codec.ErrTruncated)
		}
		l.last = u64(it.Key()[1:])
		l.lastTime, l.cum = int64(u64(it.Value())), u64(it.Value()[8:])
		it.First()
		l.first = u64(it.Key()[1:])
		h, err := l.header(l.first)
		if err != nil {
			it.Close()
			return nil, err
		}
		l.bytes = int64(l.cum - (h.cum - h.size))
	} else {
		// Retention emptied the log: the mark was saved when it did, so
		// sequence numbers are never reused.
		if v, closer, err := d.logdb.Get([]byte{tagLogMeta}); err == nil {
			if len(v) != 24 {
				closer.Close()
				it.Close()
				return nil, corrupt([]byte{tagLogMeta}, codec.ErrBad)
			}
			l.last, l.cum, l.lastTime = u64(v), u64(v[8:]), int64(u64(v[16:]))
			closer.Close()
		} else if !errors.Is(err, pebble.ErrNotFound) {
			it.Close()
			return nil, err
		}
		l.first = l.last + 1
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	if l.id, err = loadLogID(d); err != nil {
		return nil, err
	}
	l.durable.Advance(l.last)
	cit, err := d.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagCursor}, UpperBound: []byte{tagCursor + 1}})
	if err != nil {
		return nil, err
	}
	for cit.First(); cit.Valid(); cit.Next() {
		if len(cit.Value()) != 8 {
			cit.Close()
			return nil, corrupt(cit.Key(), codec.ErrBad)
		}
		l.consumers[string(cit.Key()[1:])] = u64(cit.Value())
	}
	return l, cit.Close()
}

// loadLogID reads the log's identity, making and storing one at first open.
func loadLogID(d *DB) (string, error) {
	v, closer, err := d.db.Get([]byte{tagLogID})
	if err == nil {
		defer closer.Close()
		if len(v) == 0 {
			return "", corrupt([]byte{tagLogID}, codec.ErrBad)
		}
		return string(v), nil
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return "", err
	}
	id := uuid.NewString()
	if err := d.db.Set([]byte{tagLogID}, []byte(id), syncWrite); err != nil {
		return "", err
	}
	return id, nil
}

// ID returns the log's identity: a UUID made when the store was created,
// the same after every reopen ([store.Identifier]).
func (l *plog) ID() string { return l.id }

type recInfo struct {
	time int64  // Unix ns
	cum  uint64 // cumulative size through this record
	size uint64 // this record's size
}

// header reads a record's header.
func (l *plog) header(seq uint64) (recInfo, error) {
	k := logKey(seq)
	v, closer, err := l.d.logdb.Get(k)
	if err != nil {
		return recInfo{}, err
	}
	defer closer.Close()
	if len(v) < recHeader {
		return recInfo{}, corrupt(k, codec.ErrTruncated)
	}
	return recInfo{time: int64(u64(v)), cum: u64(v[8:]), size: uint64(len(k) + len(v))}, nil
}

// search returns the smallest seq in [lo, hi] for which ok(header) holds, or
// hi+1. ok must be monotonic.
func (l *plog) search(lo, hi uint64, ok func(recInfo) bool) (uint64, error) {
	end := hi + 1
	for lo < end {
		mid := lo + (end-lo)/2
		h, err := l.header(mid)
		if err != nil {
			return 0, err
		}
		if ok(h) {
			end = mid
		} else {
			lo = mid + 1
		}
	}
	return end, nil
}

// cutTo deletes records first..newFirst-1 in b and updates the bounds.
// The caller holds mu.
func (l *plog) cutTo(b *pebble.Batch, newFirst uint64) error {
	if newFirst <= l.first {
		return nil
	}
	var base uint64 // cumulative size before newFirst
	if newFirst > l.last {
		base = l.cum
	} else {
		h, err := l.header(newFirst)
		if err != nil {
			return err
		}
		base = h.cum - h.size
	}
	if err := b.DeleteRange(logKey(l.first), logKey(newFirst), nil); err != nil {
		return err
	}
	if newFirst > l.last {
		// Emptied: save the high-water mark the newest record carried.
		// Written only then, so log files hold nothing but records and
		// flushed tables never overlap: pebble moves them down the
		// levels without rewriting them.
		var meta [24]byte
		binary.BigEndian.PutUint64(meta[:], l.last)
		binary.BigEndian.PutUint64(meta[8:], l.cum)
		binary.BigEndian.PutUint64(meta[16:], uint64(l.lastTime))
		if err := b.Set([]byte{tagLogMeta}, meta[:], nil); err != nil {
			return err
		}
	}
	l.bytes = int64(l.cum - base)
	l.first = newFirst
	return nil
}

func (l *plog) minCursor() uint64 {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	var min uint64 // no consumers: nothing counts as consumed
	first := true
	for _, c := range l.consumers {
		if first || c < min {
			min, first = c, false
		}
	}
	return min
}

// makeRoom applies the size cap before an append of need bytes. The caller
// holds mu.
func (l *plog) makeRoom(b *pebble.Batch, need int64) error {
	cfg := l.d.cfg.Log
	if cfg.MaxBytes <= 0 || l.bytes+need <= cfg.MaxBytes {
		return nil
	}
	if need > cfg.MaxBytes {
		return store.ErrTooLarge
	}
	switch cfg.Overflow {
	case store.DropOldest:
		// Free a little more than needed (1% of the cap) so that a full
		// log does not pay a range deletion on every append.
		target := l.cum - uint64(l.bytes) + uint64(l.bytes+need-cfg.MaxBytes+cfg.MaxBytes/100)
		cut, err := l.search(l.first, l.last, func(h recInfo) bool { return h.cum >= target })
		if err != nil {
			return err
		}
		n := int64(min(cut+1, l.last+1) - l.first)
		if err := l.cutTo(b, min(cut+1, l.last+1)); err != nil {
			return err
		}
		l.dropped += n
	default:
		// Release what every consumer has committed, all of it at once.
		if mc := l.minCursor(); mc > l.first {
			if err := l.cutTo(b, min(mc, l.last+1)); err != nil {
				return err
			}
		}
		if l.bytes+need > cfg.MaxBytes {
			return store.ErrFull
		}
	}
	return nil
}

func (l *plog) durableLast() uint64 { return l.durable.Load() }

func (l *plog) Read(ctx context.Context, from uint64, max int) ([]store.Record, error) {
	if err := l.d.enter(ctx); err != nil {
		return nil, err
	}
	defer l.d.leave()
	last := l.durableLast()
	if max <= 0 || from > last {
		return nil, nil
	}
	from = maxU(from, 1)
	out := make([]store.Record, min(uint64(max), last-from+1))
	n, err := l.read(from, last, out)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

func (l *plog) ReadInto(ctx context.Context, from uint64, dst []store.Record) (int, error) {
	if err := l.d.enter(ctx); err != nil {
		return 0, err
	}
	defer l.d.leave()
	last := l.durableLast()
	if len(dst) == 0 || from > last {
		return 0, nil
	}
	return l.read(maxU(from, 1), last, dst)
}

// read decodes records from..last into dst, as many as fit.
func (l *plog) read(from, last uint64, dst []store.Record) (int, error) {
	it, err := l.d.logdb.NewIter(&pebble.IterOptions{LowerBound: logKey(from), UpperBound: logKey(last + 1)})
	if err != nil {
		return 0, err
	}
	dec := decoders.Get().(*codec.Decoder)
	defer decoders.Put(dec)
	n := 0
	for ok := it.First(); ok && n < len(dst); ok = it.Next() {
		k, v := it.Key(), it.Value()
		if len(v) < recHeader || len(k) != 9 {
			it.Close()
			return 0, corrupt(k, codec.ErrTruncated)
		}
		r := &dst[n]
		if err := dec.DecodeInto(&r.Message, v[recHeader:]); err != nil {
			err = corrupt(k, err)
			it.Close()
			return 0, err
		}
		r.Seq, r.Time = u64(k[1:]), time.Unix(0, int64(u64(v))).UTC()
		n++
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	return n, nil
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func (l *plog) Wait(ctx context.Context, after uint64) (uint64, error) {
	return l.durable.Wait(ctx, after, l.d.done, func(ctx context.Context) error {
		if l.d.closed.Load() {
			return store.ErrClosed
		}
		return ctx.Err()
	})
}

func (l *plog) Cursor(ctx context.Context, consumer string) (uint64, error) {
	if err := l.d.enter(ctx); err != nil {
		return 0, err
	}
	defer l.d.leave()
	l.cmu.Lock()
	defer l.cmu.Unlock()
	next, ok := l.consumers[consumer]
	if !ok {
		return 0, store.ErrNotFound
	}
	return next, nil
}

func (l *plog) Commit(ctx context.Context, consumer string, next uint64) error {
	if err := l.d.enter(ctx); err != nil {
		return err
	}
	defer l.d.leave()
	if consumer == "" {
		return store.ErrInvalid
	}
	if next > l.durableLast()+1 {
		return store.ErrInvalid
	}
	key := append([]byte{tagCursor}, consumer...)
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], next)
	b := l.d.db.NewBatch()
	defer b.Close()
	if err := b.Set(key, v[:], nil); err != nil {
		return err
	}
	// Ordered under cmu, synced outside it, like appends.
	l.cmu.Lock()
	if err := l.d.db.ApplyNoSyncWait(b, syncWrite); err != nil {
		l.cmu.Unlock()
		return err
	}
	l.consumers[consumer] = next
	l.cmu.Unlock()
	return b.SyncWait()
}

func (l *plog) DeleteConsumer(ctx context.Context, consumer string) error {
	if err := l.d.enter(ctx); err != nil {
		return err
	}
	defer l.d.leave()
	l.cmu.Lock()
	defer l.cmu.Unlock()
	if _, ok := l.consumers[consumer]; !ok {
		return store.ErrNotFound
	}
	if err := l.d.db.Delete(append([]byte{tagCursor}, consumer...), syncWrite); err != nil {
		return err
	}
	delete(l.consumers, consumer)
	return nil
}

func (l *plog) Stats(ctx context.Context) (store.LogStats, error) {
	if err := l.d.enter(ctx); err != nil {
		return store.LogStats{}, err
	}
	defer l.d.leave()
	last := l.durableLast()
	l.mu.Lock()
	first, bytes, dropped := l.first, l.bytes, l.dropped
	l.mu.Unlock()
	st := store.LogStats{First: first, Last: last, Bytes: bytes, Dropped: dropped}
	if last >= first {
		st.Count = int64(last - first + 1)
		h, err := l.header(first)
		if err != nil && !errors.Is(err, pebble.ErrNotFound) { // NotFound: trimmed meanwhile
			return st, err
		}
		if err == nil {
			st.Oldest = time.Unix(0, h.time)
		}
	} else {
		st.First = last + 1
	}
	l.cmu.Lock()
	for name, next := range l.consumers {
		st.Consumers = append(st.Consumers, store.ConsumerStats{Name: name, Next: next,
			Lag: int64(last+1) - int64(maxU(next, st.First))})
	}
	l.cmu.Unlock()
	slices.SortFunc(st.Consumers, func(a, b store.ConsumerStats) int { return strings.Compare(a.Name, b.Name) })
	return st, nil
}

func (l *plog) Trim(ctx context.Context) error {
	if err := l.d.enter(ctx); err != nil {
		return err
	}
	defer l.d.leave()
	age := l.d.cfg.Log.MaxAgeOrDefault()
	if age == 0 {
		return nil
	}
	cutoff := l.d.now().Add(-age).UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first > l.last {
		return nil
	}
	cut, err := l.search(l.first, l.last, func(h recInfo) bool { return h.time >= cutoff })
	if err != nil || cut <= l.first {
		return err
	}
	b := l.d.logdb.NewBatch()
	defer b.Close()
	n := int64(cut - l.first)
	if err := l.cutTo(b, cut); err != nil {
		return err
	}
	l.dropped += n
	return l.d.logdb.Apply(b, syncWrite)
}
