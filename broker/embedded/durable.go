package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/gnssgate/gnssgate/broker"
)

// durableState is the persistence of a broker with a data directory: every
// change is written to a Pebble database there, group-committed by one
// writer goroutine (doc.go, "Data directory", has the layout).
//
// Callers snapshot what they change (under the session's lock, on their own
// goroutine) and queue it; the writer takes everything queued, writes it as
// one batch, syncs it once when any change in it needs to be durable before
// it completes, then runs the completions in queue order: deliveries are
// queued for their sessions and publishers acknowledged only after the
// fsync that made them durable, and one fsync covers every publisher
// waiting at that moment. While the writer syncs, the next group forms.
//
// The writer alone owns the bookkeeping below (message reference counts,
// per-session sequence numbers, which deliveries are stored): no lock.
type durableState struct {
	srv *Server
	db  *pebble.DB
	log *slog.Logger

	qmu     sync.Mutex
	room    sync.Cond // signalled when the queued bytes fall below maxPending
	queue   []dop
	pending int // bytes of the queued changes
	closed  bool
	kick    chan struct{}
	done    chan struct{} // closed when the writer has ended

	gens atomic.Uint64 // the last session generation handed out

	// Owned by the writer.
	batch   *pebble.Batch
	broken  error
	nextMsg uint64
	refs    map[uint64]int       // message ID → stored deliveries of it
	streams map[uint64]*genState // session generation → its deliveries
	owner   map[string]uint64    // client key → generation of its stored record
	scratch []byte
}

// genState is what the writer knows of one stored session.
type genState struct {
	seq  uint64            // the last delivery sequence number used
	live map[uint64]uint64 // stored deliveries: sequence number → message ID
}

// maxPending bounds the bytes of changes waiting for the writer: beyond
// it, publishers wait (a disk slower than the network holds them back
// instead of filling memory).
const maxPending = 64 << 20

// Key space of the data directory: one byte tags each kind of key; numbers
// are big endian so that byte order is numeric order.
const (
	keySession  = 's' // 's' client key → sessionRecord
	keyMessage  = 'm' // 'm' message ID → message
	keyQueued   = 'q' // 'q' generation, sequence → queued
	keyInQoS2   = 'p' // 'p' generation, packet ID → nothing: an inbound QoS 2 ID awaiting PUBREL
	keyRetained = 'r' // 'r' topic → message
)

type dopKind uint8

const (
	opPublish dopKind = iota
	opSession
	opDrop
	opAcked
	opReleased
	opReleasedIn
)

// dop is one change queued for the writer.
type dop struct {
	kind  dopKind
	r     routed   // opPublish; targets copied
	se    *session // every kind but opPublish
	key   string   // opSession, opDrop: the client key
	gen   uint64
	rec   []byte // opSession: the encoded record
	final bool   // opDrop: the session ends (else it only stops being persistent)
	d     delivery
	seq   uint64 // opAcked, opReleased
	id    uint16 // opReleasedIn
	done  func() // after the commit (opSession, opReleased, opReleasedIn)
	fail  func() // instead of done when the commit failed
	size  int
}

var durableSync = pebble.Sync

// openDurable opens (creating if needed) the state in dir. Loading it into
// the server is load's work.
func openDurable(s *Server, dir string) (*durableState, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded: data directory: %w", err)
	}
	db, err := pebble.Open(dir, &pebble.Options{
		FS:                 vfs.Default, // the plain file system: pebble's default times every operation
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       8 << 20,
		Logger:             pebbleLogger{s.log},
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: open data directory %s: %w", dir, err)
	}
	d := &durableState{srv: s, db: db, log: s.log, kick: make(chan struct{}, 1), done: make(chan struct{}),
		batch: db.NewBatch(), refs: make(map[uint64]int), streams: make(map[uint64]*genState),
		owner: make(map[string]uint64)}
	d.room.L = &d.qmu
	return d, nil
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("embedded: pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("embedded: pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("embedded: pebble: " + fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...)) // pebble's contract: Fatalf does not return
}

func (d *durableState) start() { go d.writeLoop() }

// enqueue hands op to the writer. With wait, it first waits for room.
func (d *durableState) enqueue(op dop, wait bool) bool {
	d.qmu.Lock()
	for wait && d.pending > maxPending && !d.closed {
		d.room.Wait()
	}
	if d.closed {
		d.qmu.Unlock()
		return false
	}
	d.queue = append(d.queue, op)
	d.pending += op.size
	d.qmu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
	return true
}

func (d *durableState) publish(r routed) {
	if r.from != nil {
		r.from.waitCtrl(r.fromSe)
	}
	if r.msg != nil && len(r.targets) == 0 && r.ackType == 0 && r.committed == nil &&
		(!r.retain || d.srv.volatileRetained(r.msg.topic)) {
		// Nothing to store, deliver or acknowledge (an in-process publish
		// that no subscription matched, of a volatile retained topic): the
		// writer need not see it.
		return
	}
	op := dop{kind: opPublish, r: r, size: 64}
	if r.msg != nil {
		op.size += r.msg.size
		op.r.targets = append([]target(nil), r.targets...)
	}
	if !d.enqueue(op, true) {
		// Closed: nothing is committed any more, nothing acknowledged.
		return
	}
}

// Sync returns once everything published before the call (in-process,
// by clients, wills) is durable in the data directory: publish a batch, then
// Sync, and the whole batch shares one fsync — the in-process form of the
// acknowledgement network clients get. Without a data directory it returns
// at once. It returns broker.ErrClosed once the server is closed (what was
// queued before Close is committed by Close).
func (s *Server) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, ok := s.state.(*durableState)
	if !ok {
		if s.ctx.Err() != nil {
			return broker.ErrClosed
		}
		return nil
	}
	done := make(chan error, 1)
	if !d.enqueue(dop{kind: opPublish, r: routed{committed: done}, size: 64}, false) {
		return broker.ErrClosed
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("embedded: data directory: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-d.done:
		return broker.ErrClosed
	}
}

// snapshot returns se's record for saving, or nil when se is not kept
// (no session expiry, in-process, ended). Call with se.mu held.
func (d *durableState) snapshot(se *session) *sessionRecord {
	if se.sink != nil || se.gone || se.expiry == 0 {
		return nil
	}
	gen := se.dgen.Load()
	if gen == 0 {
		gen = d.gens.Add(1)
		se.dgen.Store(gen)
	}
	rec := &sessionRecord{gen: gen, expiry: se.expiry}
	if c := se.conn; c != nil {
		se.offlineAt = 0
		if c.will != nil {
			rec.will, rec.willDelay = c.will, c.willDelay
		}
	} else {
		if se.offlineAt == 0 {
			se.offlineAt = se.srv.clock.Load()
		}
		rec.offlineAt = unixTime(se.offlineAt)
		if se.pendingWill != nil {
			rec.will, rec.willAt = se.pendingWill, unixTime(se.willAt)
		}
	}
	rec.subs = make([]subRecord, 0, se.subs.len())
	for _, sub := range se.subs.all() {
		rec.subs = append(rec.subs, subRecord{filter: sub.filter.String(), qos: sub.qos, noLocal: sub.noLocal,
			rap: sub.rap, rh: sub.rh, id: sub.id, space: sub.space})
	}
	return rec
}

func (d *durableState) saveSession(se *session, done func()) {
	se.mu.Lock()
	rec := d.snapshot(se)
	gen := se.dgen.Load()
	se.mu.Unlock()
	var op dop
	switch {
	case rec != nil:
		op = dop{kind: opSession, se: se, key: se.id, gen: rec.gen, rec: appendSession(nil, rec)}
		op.size = len(op.rec)
	case gen != 0:
		// No longer persistent (MQTT 5 session expiry set to 0): forget it
		// on disk, keep its numbering.
		op = dop{kind: opDrop, se: se, key: se.id, gen: gen, size: 64}
	default:
		if done != nil {
			done()
		}
		return
	}
	if done == nil {
		d.enqueue(op, false)
		return
	}
	// The caller (a connection's read loop) waits for the commit and then
	// runs done itself: done may block on the client, the writer must not.
	ok := make(chan bool, 1)
	op.done = func() { ok <- true }
	op.fail = func() { ok <- false }
	if !d.enqueue(op, false) || !<-ok {
		if c := sessionConn(se); c != nil {
			c.shutdown(0x80, true)
		}
		return
	}
	done()
}

func sessionConn(se *session) *conn {
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.conn
}

func (d *durableState) dropSession(se *session) {
	if gen := se.dgen.Load(); gen != 0 {
		d.enqueue(dop{kind: opDrop, se: se, key: se.id, gen: gen, final: true, size: 64}, false)
	}
}

func (d *durableState) acked(se *session, o *outbound) {
	if o.dseq != 0 {
		d.enqueue(dop{kind: opAcked, se: se, gen: se.dgen.Load(), seq: o.dseq, size: 32}, false)
	}
}

func (d *durableState) released(se *session, o *outbound, done func()) {
	if o.dseq == 0 {
		done()
		return
	}
	d.enqueue(dop{kind: opReleased, se: se, gen: se.dgen.Load(), seq: o.dseq, d: o.delivery, done: done, size: 64}, false)
}

func (d *durableState) releasedIn(se *session, id uint16, done func()) {
	gen := se.dgen.Load()
	if gen == 0 {
		done()
		return
	}
	d.enqueue(dop{kind: opReleasedIn, se: se, gen: gen, id: id, done: done, size: 32}, false)
}

// close commits what is queued, stops the writer and closes the database.
func (d *durableState) close() error {
	d.qmu.Lock()
	if d.closed {
		d.qmu.Unlock()
		return nil
	}
	d.closed = true
	d.room.Broadcast()
	d.qmu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
	<-d.done
	d.batch.Close()
	return d.db.Close()
}

func (d *durableState) writeLoop() {
	defer close(d.done)
	var group []dop
	for {
		d.qmu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.qmu.Unlock()
			<-d.kick
			d.qmu.Lock()
		}
		if len(d.queue) == 0 { // closed and drained
			d.qmu.Unlock()
			return
		}
		group, d.queue = d.queue, group[:0]
		d.pending = 0
		d.room.Broadcast()
		d.qmu.Unlock()
		d.commit(group)
		clear(group)
	}
}

// commit writes a group as one batch and completes it.
func (d *durableState) commit(group []dop) {
	b := d.batch
	needSync := false
	for i := range group {
		if d.broken != nil {
			break
		}
		if d.apply(b, &group[i]) {
			needSync = true
		}
	}
	if d.broken == nil && !b.Empty() {
		opts := pebble.NoSync
		if needSync {
			opts = durableSync
		}
		if err := d.db.Apply(b, opts); err != nil {
			d.broken = err
		}
	}
	if d.broken == nil {
		b.Reset()
	} else {
		// What pebble holds of a failed batch is unknown: never reuse it.
		b.Close()
		d.batch = d.db.NewBatch()
	}
	if err := d.broken; err != nil {
		d.log.Error("embedded: data directory write failed; nothing more is acknowledged", "err", err)
		for i := range group {
			d.failed(&group[i])
		}
		return
	}
	for i := range group {
		d.complete(&group[i])
	}
}

// apply adds op's writes to b; it reports whether op must be synced before
// it completes.
func (d *durableState) apply(b *pebble.Batch, op *dop) (sync bool) {
	set := func(key, val []byte) {
		if err := b.Set(key, val, nil); err != nil && d.broken == nil {
			d.broken = err
		}
	}
	del := func(key []byte) {
		if err := b.Delete(key, nil); err != nil && d.broken == nil {
			d.broken = err
		}
	}
	switch op.kind {
	case opPublish:
		r := &op.r
		if r.ackType == packets.Pubrec && r.ackCode == 0 && r.fromSe != nil {
			if gen := r.fromSe.dgen.Load(); gen != 0 {
				set(inQoS2Key(gen, r.ackID), nil)
				sync = true
			}
		}
		msg := r.msg
		if msg == nil {
			return sync
		}
		if r.retain && !d.srv.volatileRetained(msg.topic) {
			key := append([]byte{keyRetained}, msg.topic...)
			if len(msg.payload) == 0 {
				del(key)
			} else {
				d.scratch = appendMessage(d.scratch[:0], msg)
				set(key, d.scratch)
			}
			sync = true
		}
		for i := range r.targets {
			t := &r.targets[i]
			gen := t.se.dgen.Load()
			if t.d.qos == 0 || gen == 0 {
				continue
			}
			g := d.stream(gen)
			if msg.did == 0 || d.refs[msg.did] == 0 {
				// First stored delivery of this message (or the first again
				// after all earlier ones were acknowledged).
				if msg.did == 0 {
					d.nextMsg++
					msg.did = d.nextMsg
				}
				d.scratch = appendMessage(d.scratch[:0], msg)
				set(msgKey(msg.did), d.scratch)
			}
			d.refs[msg.did]++
			g.seq++
			t.d.dseq = g.seq
			g.live[g.seq] = msg.did
			d.scratch = appendQueued(d.scratch[:0], &queued{msgID: msg.did, qos: t.d.qos, retain: t.d.retain, subIDs: t.d.subIDs})
			set(queuedKey(gen, g.seq), d.scratch)
			sync = true
		}
	case opSession:
		d.owner[op.key] = op.gen
		d.stream(op.gen)
		set(append([]byte{keySession}, op.key...), op.rec)
		sync = true
	case opDrop:
		if d.owner[op.key] == op.gen {
			delete(d.owner, op.key)
			del(append([]byte{keySession}, op.key...))
		}
		if g := d.streams[op.gen]; g != nil {
			for seq, mid := range g.live {
				del(queuedKey(op.gen, seq))
				d.unref(mid, del)
			}
			clear(g.live)
			if op.final {
				delete(d.streams, op.gen)
			}
		}
		lo, hi := inQoS2Key(op.gen, 0), inQoS2Key(op.gen+1, 0)
		if err := b.DeleteRange(lo, hi, nil); err != nil && d.broken == nil {
			d.broken = err
		}
		sync = op.done != nil
	case opAcked:
		if g := d.streams[op.gen]; g != nil {
			if mid, ok := g.live[op.seq]; ok {
				delete(g.live, op.seq)
				del(queuedKey(op.gen, op.seq))
				d.unref(mid, del)
			}
		}
	case opReleased:
		if g := d.streams[op.gen]; g != nil {
			if mid, ok := g.live[op.seq]; ok {
				d.scratch = appendQueued(d.scratch[:0], &queued{msgID: mid, qos: op.d.qos, retain: op.d.retain,
					subIDs: op.d.subIDs, rel: true})
				set(queuedKey(op.gen, op.seq), d.scratch)
				sync = true
			}
		}
	case opReleasedIn:
		del(inQoS2Key(op.gen, op.id))
		sync = true
	}
	return sync
}

func (d *durableState) stream(gen uint64) *genState {
	g := d.streams[gen]
	if g == nil {
		g = &genState{live: make(map[uint64]uint64)}
		d.streams[gen] = g
	}
	return g
}

// unref drops one stored delivery of message mid, and the message with
// its last one.
func (d *durableState) unref(mid uint64, del func([]byte)) {
	if n := d.refs[mid] - 1; n > 0 {
		d.refs[mid] = n
		return
	}
	delete(d.refs, mid)
	del(msgKey(mid))
}

// complete runs what op waits for, in commit order.
func (d *durableState) complete(op *dop) {
	switch op.kind {
	case opPublish:
		r := &op.r
		r.deliver()
		// A session that ended between routing and commit: its delivery was
		// stored for nobody. (Close marks every session gone too, but
		// those live on in the directory.)
		closing := d.srv.ctx.Err() != nil
		for i := range r.targets {
			t := &r.targets[i]
			if t.d.dseq != 0 && !closing && t.se.isGone() {
				d.enqueue(dop{kind: opAcked, se: t.se, gen: t.se.dgen.Load(), seq: t.d.dseq, size: 32}, false)
			}
		}
		r.finishNoWait()
		if r.committed != nil {
			r.committed <- nil
		}
	default:
		if op.done != nil {
			op.done()
		}
	}
}

// failed ends what op waited for without it: a publisher is disconnected
// unacknowledged (it sends the message again to a broker that works).
func (d *durableState) failed(op *dop) {
	switch op.kind {
	case opPublish:
		if op.r.from != nil {
			op.r.from.shutdown(0x80, true)
		}
		if op.r.committed != nil {
			op.r.committed <- d.broken
		}
	default:
		if op.fail != nil {
			op.fail()
		} else if op.done != nil && op.se != nil {
			if c := sessionConn(op.se); c != nil {
				c.shutdown(0x80, true)
			}
		}
	}
}

func (se *session) isGone() bool {
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.gone
}

func msgKey(id uint64) []byte {
	k := make([]byte, 9)
	k[0] = keyMessage
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

func queuedKey(gen, seq uint64) []byte {
	k := make([]byte, 17)
	k[0] = keyQueued
	binary.BigEndian.PutUint64(k[1:], gen)
	binary.BigEndian.PutUint64(k[9:], seq)
	return k
}

func inQoS2Key(gen uint64, id uint16) []byte {
	k := make([]byte, 11)
	k[0] = keyInQoS2
	binary.BigEndian.PutUint64(k[1:], gen)
	binary.BigEndian.PutUint16(k[9:], id)
	return k
}

// waitCtrl waits while c's unsent control packets are over ctrlLimit: what
// the read loop does before it queues work whose completion will add one
// without waiting (ackNoWait).
func (c *conn) waitCtrl(se *session) {
	se.mu.Lock()
	for len(c.ctrl) > ctrlLimit && !c.closing {
		se.waitLocked()
	}
	se.mu.Unlock()
}
