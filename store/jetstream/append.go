package jetstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
)

// Appending: group commit, numbering by compare-and-set on the stream, and
// the size policy, which moves the log's floor.

type appendReq struct {
	recs  []byte // records: uvarint length + encoded message, each
	n     int
	need  int64
	first uint64
	err   error
	done  chan struct{}
}

var errSplit = errors.New("split the group here")

func (l *jlog) Append(ctx context.Context, msgs []protocol.Message) (uint64, error) {
	if err := l.s.enter(ctx); err != nil {
		return 0, err
	}
	defer l.s.leave()
	if len(msgs) == 0 {
		return 0, nil
	}
	r := &appendReq{n: len(msgs), done: make(chan struct{}, 1)}
	var enc []byte
	for i := range msgs {
		enc = codec.Append(enc[:0], &msgs[i])
		r.recs = binary.AppendUvarint(r.recs, uint64(len(enc)))
		r.recs = append(r.recs, enc...)
		r.need += int64(len(enc) + codec.LogOverhead)
	}
	if len(r.recs) > l.maxMsg {
		return 0, fmt.Errorf("%w: %d bytes encoded, above the server's message limit", store.ErrTooLarge, len(r.recs))
	}
	l.qmu.Lock()
	l.queue = append(l.queue, r)
	l.qmu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	<-r.done
	return r.first, r.err
}

// writeLoop publishes everything queued as one message per round: while a
// publish waits for its acknowledgement, appends queue up and share the
// next one (group commit).
func (l *jlog) writeLoop() {
	defer l.loops.Done()
	for {
		select {
		case <-l.stop:
			l.qmu.Lock()
			q := l.queue
			l.queue = nil
			l.qmu.Unlock()
			for _, r := range q {
				r.err = store.ErrClosed
				r.done <- struct{}{}
			}
			return
		case <-l.kick:
		}
		for {
			l.qmu.Lock()
			size, n := 0, 0
			for n < len(l.queue) && (n == 0 || size+len(l.queue[n].recs) <= l.maxMsg) {
				size += len(l.queue[n].recs)
				n++
			}
			group := slices.Clone(l.queue[:n])
			l.queue = l.queue[n:]
			l.qmu.Unlock()
			if len(group) == 0 {
				break
			}
			rest := l.commitGroup(group)
			if len(rest) > 0 {
				l.qmu.Lock()
				l.queue = append(rest, l.queue...)
				l.qmu.Unlock()
			}
		}
	}
}

func finish(reqs []*appendReq) {
	for _, r := range reqs {
		r.done <- struct{}{}
	}
}

// commitGroup stores a group as one message and wakes its callers. It
// returns the requests that must go into the next group (a DropOldest log
// whose cap the group as a whole exceeds).
func (l *jlog) commitGroup(group []*appendReq) (rest []*appendReq) {
	ctx := context.Background()
	deadline := time.Now().Add(4 * l.s.timeout)
	var (
		live    []*appendReq
		msg     *nats.Msg
		info    msgInfo // what msg says
		expect  uint64  // the stream message msg must follow
		unknown bool    // an attempt of msg may have been stored
		backoff = 10 * time.Millisecond
	)
	fail := func(reqs []*appendReq, err error) {
		for _, r := range reqs {
			if r.err == nil {
				r.err, r.first = err, 0
			}
		}
	}
	defer func() { finish(group) }() // group no longer holds rest when split
	for {
		if msg == nil {
			l.mu.Lock()
			dirty := l.dirty
			l.mu.Unlock()
			if dirty {
				if err := l.refreshTail(ctx); err != nil {
					if time.Now().After(deadline) {
						fail(group, fmt.Errorf("store/jetstream: append: %w", err))
						return nil
					}
					time.Sleep(backoff)
					backoff = min(2*backoff, time.Second)
					continue
				}
			}
			// Apply the size policy request by request, as pebble does.
			live = live[:0]
			var pending int64
			for i, r := range group {
				if r.err != nil {
					continue
				}
				err := l.makeRoom(ctx, r.need, pending)
				if errors.Is(err, errSplit) {
					rest = group[i:]
					group = group[:i]
					break
				}
				if err != nil {
					r.err = err
					continue
				}
				pending += r.need
				live = append(live, r)
			}
			if len(live) == 0 {
				return rest
			}
			l.mu.Lock()
			tail := l.tail
			l.mu.Unlock()
			now := max(l.s.now().UnixNano(), tail.time)
			info = msgInfo{first: tail.last() + 1, cum: tail.cum + uint64(pending), time: now}
			var data []byte
			for _, r := range live {
				r.first = info.first + info.count
				info.count += uint64(r.n)
				data = append(data, r.recs...)
			}
			msg = nats.NewMsg(l.subj)
			msg.Data = data
			msg.Header.Set(hFirst, strconv.FormatUint(info.first, 10))
			msg.Header.Set(hCount, strconv.FormatUint(info.count, 10))
			msg.Header.Set(hCum, strconv.FormatUint(info.cum, 10))
			msg.Header.Set(hTime, strconv.FormatInt(info.time, 10))
			expect, unknown = tail.sseq, false
			msg.Header.Set(js.MsgIDHeader, nuid.Next())
		}
		rc, cancel := l.s.rctx(ctx)
		ack, err := l.s.js.PublishMsg(rc, msg, js.WithExpectLastSequence(expect))
		cancel()
		switch {
		case err == nil && !ack.Duplicate:
			info.sseq = ack.Sequence
			l.cache.put(info.sseq, info, msg.Data)
			l.advanceTail(info)
			return rest
		case err == nil: // an earlier attempt was stored: believe what it says
			stored, err := l.getMsg(ctx, ack.Sequence)
			if err != nil || stored.info.count != info.count {
				l.markDirty()
				fail(live, fmt.Errorf("store/jetstream: append: stored attempt %d unreadable: %v", ack.Sequence, err))
				return rest
			}
			l.settle(live, stored.info)
			return rest
		case isWrongLast(err):
			// Another writer got in first. If an attempt of ours may have
			// been stored, it is among the messages after expect.
			if unknown {
				found, ok, err := l.findMsgID(ctx, expect, msg.Header.Get(js.MsgIDHeader))
				if ok {
					l.settle(live, found)
					return rest
				}
				if err != nil {
					// The search did not finish: the attempt may be stored
					// past where it got. Renumbering now could store the
					// records twice; ask again, until the deadline.
					if time.Now().After(deadline) {
						l.markDirty()
						fail(live, fmt.Errorf("store/jetstream: append not confirmed: %w", err))
						return rest
					}
					time.Sleep(backoff)
					backoff = min(2*backoff, time.Second)
					continue
				}
			}
			l.markDirty()
			msg = nil // renumber after the new tail
		case isAPIError(err):
			l.markDirty()
			fail(live, fmt.Errorf("store/jetstream: append: %w", err))
			return rest
		default: // no answer: the message may or may not be stored
			unknown = true
			if time.Now().After(deadline) || l.s.closed.Load() && errors.Is(err, nats.ErrConnectionClosed) {
				l.markDirty()
				fail(live, fmt.Errorf("store/jetstream: append not confirmed: %w", err))
				return rest
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
		}
	}
}

func (l *jlog) markDirty() {
	l.mu.Lock()
	l.dirty = true
	l.mu.Unlock()
}

// settle completes a group that an earlier, unconfirmed attempt stored as m.
func (l *jlog) settle(live []*appendReq, m msgInfo) {
	off := m.first
	for _, r := range live {
		r.first = off
		off += uint64(r.n)
	}
	l.markDirty()
	l.advanceTail(m)
}

// findMsgID looks for a message with id among those after sseq after. It
// reports an error when it could not read them all (a read timed out): the
// message may then be stored although it was not found.
func (l *jlog) findMsgID(ctx context.Context, after uint64, id string) (msgInfo, bool, error) {
	for seq := after + 1; seq <= after+1000; seq++ {
		rc, cancel := l.s.rctx(ctx)
		raw, err := l.stream.GetMsg(rc, seq)
		cancel()
		if errors.Is(err, js.ErrMsgNotFound) {
			return msgInfo{}, false, nil // past the stream's end
		}
		if err != nil {
			return msgInfo{}, false, err
		}
		if raw.Header.Get(js.MsgIDHeader) == id {
			m, err := parseInfo(seq, raw.Header)
			return m, err == nil, err
		}
	}
	return msgInfo{}, false, nil
}

// makeRoom applies the size cap before an append of need bytes, pending
// bytes of the group being already accepted.
func (l *jlog) makeRoom(ctx context.Context, need, pending int64) error {
	cfg := l.s.cfg.Log
	if cfg.MaxBytes <= 0 {
		return nil
	}
	if need > cfg.MaxBytes {
		return store.ErrTooLarge
	}
	used := func() (int64, msgInfo) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return int64(l.tail.cum-l.floor.cum) + pending, l.tail
	}
	bytes, tail := used()
	if bytes+need <= cfg.MaxBytes {
		return nil
	}
	if cfg.Overflow == store.DropOldest {
		if pending+need > cfg.MaxBytes {
			return errSplit // the group's own records cannot be dropped yet
		}
		// Free a little more than needed (1% of the cap) so that a full
		// log does not move its floor on every append.
		l.mu.Lock()
		target := l.floor.cum + uint64(bytes+need-cfg.MaxBytes+cfg.MaxBytes/100)
		l.mu.Unlock()
		to, err := l.seqAtCum(ctx, target, tail)
		if err != nil {
			return err
		}
		return l.moveFloor(ctx, to, true)
	}
	mc, ok, err := l.minCursor(ctx)
	if err != nil {
		return err
	}
	if ok {
		if err := l.moveFloor(ctx, min(mc, tail.last()+1), false); err != nil {
			return err
		}
	}
	if bytes, _ = used(); bytes+need > cfg.MaxBytes {
		return store.ErrFull
	}
	return nil
}

// seqAtCum returns the first record after the one whose cumulative size
// reaches target (tail.last()+1 when none does).
func (l *jlog) seqAtCum(ctx context.Context, target uint64, tail msgInfo) (uint64, error) {
	if target >= tail.cum {
		return tail.last() + 1, nil
	}
	m, err := l.search(ctx, tail, func(m msgInfo) bool { return m.cum >= target })
	if err != nil {
		return 0, err
	}
	raw, err := l.getMsg(ctx, m.sseq)
	if err != nil {
		return 0, err
	}
	sizes, err := recordSizes(raw)
	if err != nil {
		return 0, err
	}
	cum := m.cum
	for i := len(sizes) - 1; i >= 0; i-- {
		cum -= sizes[i] // cum is now the size before record i
		if cum < target {
			return m.first + uint64(i) + 1, nil
		}
	}
	return m.first, nil
}

// minCursor returns the smallest committed position, if any consumer has one.
func (l *jlog) minCursor(ctx context.Context) (uint64, bool, error) {
	cs, err := l.cursors(ctx)
	if err != nil {
		return 0, false, err
	}
	if len(cs) == 0 {
		return 0, false, nil
	}
	mc := cs[0].Next
	for _, c := range cs[1:] {
		mc = min(mc, c.Next)
	}
	return mc, true, nil
}

// moveFloor makes records below to invisible, shares that through the
// bucket, and purges the stream messages wholly below it.
func (l *jlog) moveFloor(ctx context.Context, to uint64, drop bool) error {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	for range 20 {
		l.mu.Lock()
		cur, rev, tail := l.floor, l.floorRev, l.tail
		l.mu.Unlock()
		to = min(to, tail.last()+1)
		if to <= cur.seq {
			return nil
		}
		next := floorState{seq: to, dropped: cur.dropped}
		if drop {
			next.dropped += to - cur.seq
		}
		if to == tail.last()+1 {
			next.cum, next.sseq = tail.cum, tail.sseq
		} else {
			m, err := l.holding(ctx, to, tail)
			if err != nil {
				return err
			}
			raw, err := l.getMsg(ctx, m.sseq)
			if err != nil {
				return err
			}
			sizes, err := recordSizes(raw)
			if err != nil {
				return err
			}
			next.cum, next.sseq = m.cum, m.sseq
			for i := to - m.first; i < m.count; i++ {
				next.cum -= sizes[i]
			}
		}
		rc, cancel := l.s.rctx(ctx)
		var nrev uint64
		var err error
		if rev == 0 {
			nrev, err = l.state.Create(rc, keyFloor, next.encode())
		} else {
			nrev, err = l.state.Update(rc, keyFloor, next.encode(), rev)
		}
		cancel()
		if err != nil {
			if errors.Is(err, js.ErrKeyExists) || isWrongLast(err) {
				if err := l.loadFloor(ctx); err != nil {
					return err
				}
				continue // another node moved it: start from where it is
			}
			return fmt.Errorf("store/jetstream: moving the log's start: %w", err)
		}
		l.setFloor(next, nrev)
		if next.sseq > 1 {
			// Messages wholly below the floor go; the one holding it stays
			// (and the last message always stays: it numbers the next).
			rc, cancel := l.s.rctx(ctx)
			if err := l.stream.Purge(rc, js.WithPurgeSequence(next.sseq)); err != nil {
				l.s.logger.Warn("store/jetstream: purging the log", "below", next.sseq, "err", err)
			}
			cancel()
		}
		return nil
	}
	return fmt.Errorf("store/jetstream: moving the log's start: too much contention")
}
