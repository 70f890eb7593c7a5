package pebble

import (
	"context"
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/internal/codec"
)

// Appends are group-committed in two stages, each one goroutine:
//
//   - the committer takes every queued Append, assigns sequence numbers,
//     applies the retention policy and hands one pebble batch to the WAL
//     (ApplyNoSyncWait), under mu, so the WAL holds batches in sequence
//     order and a crash can only lose a suffix;
//   - the syncer waits for each group's fsync in order, publishes the new
//     durable end and wakes the group's callers.
//
// While one group's fsync is in flight the next group is being applied, and
// a group of any size costs one WAL record, one fsync and one wake-up per
// caller: 64 goroutines appending one message each share almost everything.

type appendReq struct {
	buf   []byte // records, each a blank header and the encoded message
	ends  []int  // end of each record in buf
	need  int64  // size as MaxBytes counts it
	first uint64 // result
	err   error  // result
	done  chan struct{}
}

type committed struct {
	b    *pebble.Batch
	reqs []*appendReq
	last uint64 // last sequence number the batch holds
}

func (l *plog) start() {
	l.loops.Add(2)
	go l.commitLoop()
	go l.syncLoop()
}

// shutdown stops the loops once no Append is in progress.
func (l *plog) shutdown() {
	close(l.stop)
	l.loops.Wait()
}

func (l *plog) Append(ctx context.Context, msgs []protocol.Message) (uint64, error) {
	if err := l.d.enter(ctx); err != nil {
		return 0, err
	}
	defer l.d.leave()
	if len(msgs) == 0 {
		return 0, nil
	}
	r := &appendReq{ends: make([]int, len(msgs)), done: make(chan struct{})}
	for i := range msgs {
		r.buf = append(r.buf, make([]byte, recHeader)...)
		r.buf = codec.Append(r.buf, &msgs[i])
		r.ends[i] = len(r.buf)
	}
	r.need = int64(len(r.buf) + len(msgs)*9)
	l.qmu.Lock()
	l.queue = append(l.queue, r)
	l.qmu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default: // already kicked
	}
	<-r.done
	return r.first, r.err
}

func (l *plog) commitLoop() {
	defer l.loops.Done()
	defer close(l.synced)
	for {
		select {
		case <-l.kick:
		case <-l.stop:
			return
		}
		for {
			l.qmu.Lock()
			group := l.queue
			l.queue = nil
			l.qmu.Unlock()
			if len(group) == 0 {
				break
			}
			l.commitGroup(group)
		}
	}
}

func finish(reqs []*appendReq, err error) {
	for _, r := range reqs {
		if r.err == nil && err != nil {
			r.err, r.first = err, 0
		}
		close(r.done)
	}
}

func (l *plog) commitGroup(group []*appendReq) {
	size := 64
	for _, r := range group {
		size += len(r.buf) + len(r.ends)*24
	}
	b := l.d.logdb.NewBatchWithSize(size)
	l.mu.Lock()
	if l.broken != nil {
		l.mu.Unlock()
		b.Close()
		finish(group, l.broken)
		return
	}
	now := l.d.now().UnixNano()
	if now < l.lastTime {
		now = l.lastTime // append times never go backwards
	}
	var key [9]byte
	key[0] = tagLog
	for _, r := range group {
		if err := l.makeRoom(b, r.need); err != nil {
			r.err = err // ErrFull or ErrTooLarge: this caller only
			continue
		}
		first := l.last + 1
		start := 0
		for i, end := range r.ends {
			rec := r.buf[start:end]
			l.cum += uint64(len(rec) + 9)
			binary.BigEndian.PutUint64(rec, uint64(now))
			binary.BigEndian.PutUint64(rec[8:], l.cum)
			binary.BigEndian.PutUint64(key[1:], first+uint64(i))
			if err := b.Set(key[:], rec, nil); err != nil {
				l.broken = err
				break
			}
			start = end
		}
		l.last += uint64(len(r.ends))
		l.bytes += r.need
		r.first = first
	}
	l.lastTime = now
	if l.broken == nil && !b.Empty() {
		if err := l.d.logdb.ApplyNoSyncWait(b, syncWrite); err != nil {
			l.broken = err
		}
	}
	broken, last := l.broken, l.last
	l.mu.Unlock()
	if broken != nil || b.Empty() {
		b.Close()
		finish(group, broken)
		return
	}
	l.synced <- committed{b: b, reqs: group, last: last}
}

func (l *plog) syncLoop() {
	defer l.loops.Done()
	for c := range l.synced {
		err := c.b.SyncWait()
		c.b.Close()
		if err != nil {
			l.mu.Lock()
			l.broken = err
			l.mu.Unlock()
		} else {
			// The WAL is synced in order: every earlier group is durable.
			l.dmu.Lock()
			if c.last > l.durable {
				l.durable = c.last
				close(l.notify)
				l.notify = make(chan struct{})
			}
			l.dmu.Unlock()
		}
		finish(c.reqs, err)
	}
}
