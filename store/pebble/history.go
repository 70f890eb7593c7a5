package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/telem"
)

// A history entry is key 'h' + len(ident) + ident + timestamp (order-preserving
// float bits) + uniq, value the encoded message. A query seeks to the device
// and time and reads forward or backward: its cost depends on what it
// returns, not on how much is stored. uniq (a store-wide counter) keeps
// messages with equal timestamps apart, in arrival order.
//
// Per-device counters live at 'd' + ident: count and bytes (8 bytes each),
// written in the same batch as the entries they count.

type phist struct {
	d  *DB
	mu sync.Mutex // orders writes; guards uniq and the counters read-modify-write
	// uniq is the next tie-breaker; its high-water mark is stored with every
	// write so it never goes backwards across restarts.
	uniq uint64
	// cache holds the counters of devices seen since open: one small entry
	// per device, so a write does not read them back from disk.
	cache map[string]devCount
	// buf is apply's encoding scratch (the batch copies what it holds),
	// kept between batches up to maxScratch.
	buf []byte
}

// maxScratch bounds the encoding buffer a history keeps between batches.
const maxScratch = 1 << 20

func openHistory(d *DB) (*phist, error) {
	h := &phist{d: d, uniq: 1, cache: map[string]devCount{}}
	v, closer, err := d.db.Get([]byte{tagHistUniq})
	switch {
	case err == nil:
		if len(v) == 8 {
			h.uniq = u64(v)
		}
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return nil, err
	}
	return h, nil
}

func histKey(dst []byte, ident string, ts float64, uniq uint64) []byte {
	dst = devicePrefix(dst, tagHist, ident)
	dst = binary.BigEndian.AppendUint64(dst, orderedFloat(ts))
	return binary.BigEndian.AppendUint64(dst, uniq)
}

// timeKey is the first key of ident at or after ts.
func timeKey(ident string, ts float64) []byte {
	return binary.BigEndian.AppendUint64(devicePrefix(nil, tagHist, ident), orderedFloat(ts))
}

func deviceKey(ident string) []byte { return append([]byte{tagDevice}, ident...) }

type devCount struct{ count, bytes int64 }

// counts reads a device's counters. The caller holds mu.
func (h *phist) counts(ident string) (devCount, error) {
	if c, ok := h.cache[ident]; ok {
		return c, nil
	}
	v, closer, err := h.d.db.Get(deviceKey(ident))
	if errors.Is(err, pebble.ErrNotFound) {
		h.cache[ident] = devCount{}
		return devCount{}, nil
	}
	if err != nil {
		return devCount{}, err
	}
	defer closer.Close()
	if len(v) != 16 {
		return devCount{}, corrupt(deviceKey(ident), codec.ErrBad)
	}
	c := devCount{int64(u64(v)), int64(u64(v[8:]))}
	h.cache[ident] = c
	return c, nil
}

// forget drops cached counters after a failed write; they are read again.
func (h *phist) forget(idents []string) {
	for _, ident := range idents {
		delete(h.cache, ident)
	}
}

// putCounts writes a device's counters in b and caches them; a caller whose
// b then fails to apply calls forget.
func (h *phist) putCounts(b *pebble.Batch, ident string, c devCount) error {
	h.cache[ident] = c
	if c.count <= 0 {
		return b.Delete(deviceKey(ident), nil)
	}
	var v [16]byte
	binary.BigEndian.PutUint64(v[:], uint64(c.count))
	binary.BigEndian.PutUint64(v[8:], uint64(c.bytes))
	return b.Set(deviceKey(ident), v[:], nil)
}

func (h *phist) Store(ctx context.Context, msgs []protocol.Message) error {
	if err := h.d.enter(ctx); err != nil {
		return err
	}
	defer h.d.leave()
	if err := telem.Validate(msgs); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	b, err := h.apply(msgs)
	if err != nil {
		return err
	}
	defer b.Close()
	// Synced outside mu: concurrent writers share the fsync.
	return b.SyncWait()
}

// apply writes msgs into the WAL and memtable, in order under mu, without
// waiting for the fsync.
func (h *phist) apply(msgs []protocol.Message) (_ *pebble.Batch, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Encode first: whether a device needs size rotation decides the kind
	// of batch.
	type entry struct{ key, val int } // ends in buf
	buf := h.buf[:0]
	defer func() {
		if cap(buf) <= maxScratch {
			h.buf = buf[:0]
		}
	}()
	entries := make([]entry, len(msgs))
	counts := map[string]devCount{}
	var order []string
	rotate := false
	for i := range msgs {
		m := &msgs[i]
		ident := m.Ident()
		ts, _ := store.DeviceTime(m)
		c, ok := counts[ident]
		if !ok {
			var err error
			if c, err = h.counts(ident); err != nil {
				return nil, err
			}
			order = append(order, ident)
		}
		start := len(buf)
		buf = histKey(buf, ident, ts, h.uniq)
		h.uniq++
		entries[i].key = len(buf)
		buf = codec.Append(buf, m)
		entries[i].val = len(buf)
		c.count++
		c.bytes += int64(len(buf) - start)
		counts[ident] = c
		if max := h.d.cfg.History.RetentionFor(ident).MaxBytes; max > 0 && c.bytes > max {
			rotate = true
		}
	}
	var b *pebble.Batch
	if rotate {
		// Indexed, so that the rotation scan sees the entries it adds
		// (a late black-box message may be the oldest).
		b = h.d.db.NewIndexedBatch()
	} else {
		b = h.d.db.NewBatchWithSize(len(buf) + len(msgs)*8 + 64)
	}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	start := 0
	for _, e := range entries {
		if err := b.Set(buf[start:e.key], buf[e.key:e.val], nil); err != nil {
			return nil, err
		}
		start = e.val
	}
	for _, ident := range order {
		c := counts[ident]
		if max := h.d.cfg.History.RetentionFor(ident).MaxBytes; max > 0 && c.bytes > max {
			var err error
			if c, err = h.rotate(b, ident, c, max-max/10); err != nil {
				return nil, err
			}
		}
		if err := h.putCounts(b, ident, c); err != nil {
			return nil, err
		}
	}
	var u [8]byte
	binary.BigEndian.PutUint64(u[:], h.uniq)
	if err := b.Set([]byte{tagHistUniq}, u[:], nil); err != nil {
		return nil, err
	}
	if err := h.d.db.ApplyNoSyncWait(b, syncWrite); err != nil {
		return nil, err
	}
	return b, nil
}

// rotate deletes a device's oldest entries until its size is at most target,
// reading through the batch so that entries it adds are counted.
func (h *phist) rotate(b *pebble.Batch, ident string, c devCount, target int64) (devCount, error) {
	prefix := devicePrefix(nil, tagHist, ident)
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return c, err
	}
	defer it.Close()
	var end []byte
	for ok := it.First(); ok && c.bytes > target; ok = it.Next() {
		c.bytes -= int64(len(it.Key()) + len(it.Value()))
		c.count--
		end = append(end[:0], it.Key()...)
	}
	if err := it.Error(); err != nil {
		return c, err
	}
	if end == nil {
		return c, nil
	}
	return c, b.DeleteRange(prefix, append(end, 0), nil)
}

func (h *phist) Query(ctx context.Context, ident string, q store.Query) ([]protocol.Message, error) {
	if err := h.d.enter(ctx); err != nil {
		return nil, err
	}
	defer h.d.leave()
	prefix := devicePrefix(nil, tagHist, ident)
	opts := &pebble.IterOptions{LowerBound: timeKey(ident, q.From), UpperBound: prefixEnd(prefix)}
	if q.To != 0 {
		if q.To < q.From {
			return nil, nil
		}
		opts.UpperBound = prefixEnd(timeKey(ident, q.To))
	}
	it, err := h.d.db.NewIter(opts)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	dec := decoders.Get().(*codec.Decoder)
	defer decoders.Put(dec)
	var out []protocol.Message
	if q.Count > 0 {
		out = make([]protocol.Message, 0, min(q.Count, 4096))
	}
	move := it.Next
	ok := it.First()
	if q.Reverse {
		move, ok = it.Prev, it.Last()
	}
	for ; ok; ok = move() {
		// Decode straight into the result: a message the filter rejects
		// leaves its storage in the next slot for the next one.
		if len(out) == cap(out) {
			out = append(out, protocol.Message{})[:len(out)]
		}
		out = out[:len(out)+1]
		m := &out[len(out)-1]
		if err := dec.DecodeInto(m, it.Value()); err != nil {
			return nil, corrupt(it.Key(), err)
		}
		if q.Filter != nil && !q.Filter.Match(m) {
			out = out[:len(out)-1]
			continue
		}
		if len(q.Fields) > 0 {
			*m = store.Project(m, q.Fields)
		}
		if q.Count > 0 && len(out) == q.Count {
			break
		}
	}
	if len(out) < cap(out) {
		out[:cap(out)][len(out)] = protocol.Message{} // a rejected message's storage
	}
	return out, it.Error()
}

// deleteSpan deletes [lo, hi) of one device, counting what it removes.
// The caller holds mu.
func (h *phist) deleteSpan(ident string, lo, hi []byte) (int64, error) {
	it, err := h.d.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	var n, size int64
	for ok := it.First(); ok; ok = it.Next() {
		n++
		size += int64(len(it.Key()) + len(it.Value()))
	}
	if err := it.Close(); err != nil || n == 0 {
		return 0, err
	}
	c, err := h.counts(ident)
	if err != nil {
		return 0, err
	}
	c.count -= n
	c.bytes -= size
	b := h.d.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return 0, err
	}
	if err := h.putCounts(b, ident, c); err != nil {
		h.forget([]string{ident})
		return 0, err
	}
	if err := h.d.db.Apply(b, syncWrite); err != nil {
		h.forget([]string{ident})
		return 0, err
	}
	return n, nil
}

func (h *phist) Delete(ctx context.Context, ident string, from, to float64) (int64, error) {
	if err := h.d.enter(ctx); err != nil {
		return 0, err
	}
	defer h.d.leave()
	prefix := devicePrefix(nil, tagHist, ident)
	hi := prefixEnd(prefix)
	if to != 0 {
		if to < from {
			return 0, nil
		}
		hi = prefixEnd(timeKey(ident, to))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.deleteSpan(ident, timeKey(ident, from), hi)
}

func (h *phist) Device(ctx context.Context, ident string) (store.DeviceStats, error) {
	if err := h.d.enter(ctx); err != nil {
		return store.DeviceStats{}, err
	}
	defer h.d.leave()
	h.mu.Lock()
	c, err := h.counts(ident)
	h.mu.Unlock()
	if err != nil {
		return store.DeviceStats{}, err
	}
	if c.count == 0 {
		return store.DeviceStats{}, store.ErrNotFound
	}
	st := store.DeviceStats{Ident: ident, Count: c.count, Bytes: c.bytes}
	prefix := devicePrefix(nil, tagHist, ident)
	it, err := h.d.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return st, err
	}
	defer it.Close()
	if it.First() {
		st.Oldest = unorderedFloat(u64(it.Key()[len(prefix):]))
	}
	if it.Last() {
		st.Newest = unorderedFloat(u64(it.Key()[len(prefix):]))
	}
	return st, it.Error()
}

func (h *phist) Trim(ctx context.Context) error {
	if err := h.d.enter(ctx); err != nil {
		return err
	}
	defer h.d.leave()
	// Collect the devices first: the counters are small, one per device.
	var idents []string
	it, err := h.d.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagDevice}, UpperBound: []byte{tagDevice + 1}})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		idents = append(idents, string(it.Key()[1:]))
	}
	if err := it.Close(); err != nil {
		return err
	}
	now := h.d.now()
	for _, ident := range idents {
		if err := ctx.Err(); err != nil {
			return err
		}
		age := h.d.cfg.History.RetentionFor(ident).MaxAgeOrDefault()
		if age == 0 {
			continue
		}
		cutoff := float64(now.Add(-age).UnixMicro()) / 1e6
		h.mu.Lock()
		_, err := h.deleteSpan(ident, devicePrefix(nil, tagHist, ident), timeKey(ident, cutoff))
		h.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
