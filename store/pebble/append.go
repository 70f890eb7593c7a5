package pebble

import (
	"context"
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/internal/codec"
)

// Appends are group-committed by one writer goroutine. Callers encode their
// batch, queue it and wait; the writer takes everything queued, assigns
// sequence numbers, applies the retention policy, hands it to pebble's WAL
// as one batch (under mu, so the WAL holds batches in sequence order and a
// crash can only lose a suffix), waits for its fsync, publishes the new
// durable end and wakes the group's callers.
//
// An fsync costs tens of microseconds of CPU and a few hundred of waiting
// whatever it covers, so what matters is how many appends share one. While
// the writer waits for an fsync, arrivals queue up. When it finishes, the
// callers it wakes usually append again at once (a channel acknowledges and
// reads the next packet), so the writer waits for as many appends as it
// just completed before syncing again, but never longer than a recent
// commit took (2 ms at most): 64 goroutines appending one message each
// share one fsync instead of splitting into two alternating halves, and a
// lone appender is never delayed (it is the one appender the writer waits
// for).

type appendReq struct {
	buf   []byte // records, each a blank header and the encoded message
	ends  []int  // end of each record in buf
	need  int64  // size as MaxBytes counts it
	first uint64 // result
	err   error  // result
	done  chan struct{}
}

// Requests are pooled with their buffers and channel: an append then
// allocates nothing of its own.
var appendReqs = sync.Pool{New: func() any { return &appendReq{done: make(chan struct{}, 1)} }}

// maxPooledBuf keeps a huge batch's buffer from living on in the pool.
const maxPooledBuf = 64 << 10

func (l *plog) start() {
	l.wait = math.MaxInt
	l.loops.Add(1)
	go l.writeLoop()
}

// shutdown stops the writer once no Append is in progress.
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
	r := appendReqs.Get().(*appendReq)
	var blank [recHeader]byte
	for i := range msgs {
		r.buf = append(r.buf, blank[:]...)
		r.buf = codec.Append(r.buf, &msgs[i])
		r.ends = append(r.ends, len(r.buf))
	}
	r.need = int64(len(r.buf) + len(msgs)*9)
	l.qmu.Lock()
	l.queue = append(l.queue, r)
	kick := len(l.queue) >= l.wait
	if kick {
		l.wait = math.MaxInt // one kick is enough
	}
	l.qmu.Unlock()
	if kick {
		select {
		case l.kick <- struct{}{}:
		default: // already kicked
		}
	}
	<-r.done
	first, err := r.first, r.err
	if cap(r.buf) <= maxPooledBuf {
		*r = appendReq{buf: r.buf[:0], ends: r.ends[:0], done: r.done}
		appendReqs.Put(r)
	}
	return first, err
}

func (l *plog) writeLoop() {
	defer l.loops.Done()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var (
		group    []*appendReq
		expect   int           // callers the last sync woke: they usually come back
		deadline time.Time     // until when to wait for them
		round    time.Duration // recent commit (apply and fsync) duration, smoothed
	)
	for {
		// Wait for expect appends until the deadline, then for one.
		l.qmu.Lock()
		for {
			want := 1
			if expect > 1 && time.Now().Before(deadline) {
				want = expect
			}
			if len(l.queue) >= want {
				break
			}
			l.wait = want
			l.qmu.Unlock()
			timed := want > 1
			if timed {
				linger.Reset(time.Until(deadline))
			}
			select {
			case <-l.kick:
			case <-linger.C:
			case <-l.stop:
				linger.Stop()
				return
			}
			if timed {
				linger.Stop()
			}
			l.qmu.Lock()
		}
		l.wait = math.MaxInt // the writer looks at the queue itself until it waits again
		group, l.queue = l.queue, group[:0]
		l.qmu.Unlock()

		start := time.Now()
		l.commitGroup(group)
		end := time.Now()
		round = (3*round + end.Sub(start)) / 4
		expect, deadline = len(group), end.Add(min(round, 2*time.Millisecond))
		clear(group) // the requests go back to their pools
	}
}

func finish(reqs []*appendReq, err error) {
	for _, r := range reqs {
		if r.err == nil && err != nil {
			r.err, r.first = err, 0
		}
		r.done <- struct{}{}
	}
}

// commitGroup stores a group durably and wakes its callers.
func (l *plog) commitGroup(group []*appendReq) {
	b := l.batch
	l.mu.Lock()
	if l.broken != nil {
		l.mu.Unlock()
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
	empty := b.Empty()
	if l.broken == nil && !empty {
		// Applied under mu, synced outside it: Stats and Trim need not wait
		// for the disk.
		if err := l.d.logdb.ApplyNoSyncWait(b, syncWrite); err != nil {
			l.broken = err
		}
	}
	broken, last := l.broken, l.last
	l.mu.Unlock()
	if broken == nil && !empty {
		broken = b.SyncWait()
		if broken != nil {
			l.mu.Lock()
			l.broken = broken
			l.mu.Unlock()
		}
	}
	if broken == nil {
		b.Reset()
	} else {
		// What pebble holds of a failed batch is unknown: never reuse it.
		l.batch = l.d.logdb.NewBatch()
	}
	if broken == nil && !empty {
		// The WAL is synced in order: every earlier group is durable.
		l.durable.Advance(last)
	}
	finish(group, broken)
}
