package embedded

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// loaded is what load found, to start once the server runs: sessions whose
// expiry or will timers must be set, or which already expired.
type loaded struct {
	se        *session
	rec       *sessionRecord
	wasOnline bool
}

// load reads the data directory into s (sessions with their
// subscriptions, queues and in-flight messages, inbound QoS 2 IDs,
// retained messages), deletes what is no longer anybody's, and returns the
// sessions to start. Called by Open before the server serves anything.
func (d *durableState) load() ([]loaded, error) {
	s := d.srv
	b := d.db.NewBatch()
	defer b.Close()
	now := time.Now()
	var maxGen uint64

	// Sessions.
	var out []loaded
	byGen := make(map[uint64]*session)
	err := d.scan(keySession, func(k, v []byte) error {
		rec, err := decodeSession(v)
		if err != nil {
			return fmt.Errorf("session %q: %w", k[1:], err)
		}
		id := string(k[1:])
		se := newSession(s, id)
		se.expiry = rec.expiry
		se.dgen.Store(rec.gen)
		for _, sr := range rec.subs {
			pf, err := parseFilter(sr.filter)
			if err != nil {
				s.log.Warn("embedded: stored subscription no longer valid, dropped", "client", id, "filter", sr.filter, "err", err)
				continue
			}
			if se.subs == nil {
				se.subs = new(subSet)
			}
			se.subs.put(&subscription{sess: se, filter: pf, qos: sr.qos, noLocal: sr.noLocal, rap: sr.rap,
				rh: sr.rh, id: sr.id, space: sr.space})
		}
		maxGen = max(maxGen, rec.gen)
		byGen[rec.gen] = se
		d.owner[id] = rec.gen
		d.stream(rec.gen)
		out = append(out, loaded{se: se, rec: rec, wasOnline: rec.offlineAt.IsZero()})
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Messages, then the deliveries that refer to them.
	msgs := make(map[uint64]*message)
	err = d.scan(keyMessage, func(k, v []byte) error {
		if len(k) != 9 {
			return fmt.Errorf("message key %x: %w", k, errCorrupt)
		}
		r := &reader{b: v}
		m := r.message()
		if r.err != nil {
			return fmt.Errorf("message %d: %w", binary.BigEndian.Uint64(k[1:]), r.err)
		}
		id := binary.BigEndian.Uint64(k[1:])
		m.did = id
		msgs[id] = m
		d.nextMsg = max(d.nextMsg, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = d.scan(keyQueued, func(k, v []byte) error {
		if len(k) != 17 {
			return fmt.Errorf("delivery key %x: %w", k, errCorrupt)
		}
		gen, seq := binary.BigEndian.Uint64(k[1:]), binary.BigEndian.Uint64(k[9:])
		maxGen = max(maxGen, gen)
		q, err := decodeQueued(v)
		if err != nil {
			return fmt.Errorf("delivery %d/%d: %w", gen, seq, err)
		}
		se, m := byGen[gen], msgs[q.msgID]
		if se == nil || m == nil {
			// Stored for a session that ended (or half-written before a
			// crash, which the WAL does not allow, but cost nothing here).
			return b.Delete(k, nil)
		}
		g := d.stream(gen)
		g.seq = max(g.seq, seq)
		g.live[seq] = q.msgID
		d.refs[q.msgID]++
		dl := delivery{msg: m, qos: q.qos, retain: q.retain, subIDs: q.subIDs, dseq: seq}
		se.addQueued(m.size)
		if q.rel {
			// Received by the client: only the PUBREL is owed, under the
			// packet ID the delivery had.
			o := &outbound{delivery: dl, id: packetID(seq), rel: true}
			se.seq++
			o.seq = se.seq
			if se.inflight == nil {
				se.inflight = make(map[uint16]*outbound)
			}
			se.inflight[o.id] = o
		} else {
			se.queue.push(dl)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id := range msgs {
		if d.refs[id] == 0 {
			if err := b.Delete(msgKey(id), nil); err != nil {
				return nil, err
			}
		}
	}
	err = d.scan(keyInQoS2, func(k, v []byte) error {
		if len(k) != 11 {
			return fmt.Errorf("QoS 2 key %x: %w", k, errCorrupt)
		}
		se := byGen[binary.BigEndian.Uint64(k[1:])]
		if se == nil {
			return b.Delete(k, nil)
		}
		if se.inQoS2 == nil {
			se.inQoS2 = make(map[uint16]struct{})
		}
		se.inQoS2[binary.BigEndian.Uint16(k[9:])] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Retained messages, expiry counted on.
	err = d.scan(keyRetained, func(k, v []byte) error {
		r := &reader{b: v}
		m := r.message()
		if r.err != nil {
			return fmt.Errorf("retained message %q: %w", k[1:], r.err)
		}
		if s.volatileRetained(m.topic) || !s.retained.alive(m, now, s.cfg.RetainedMaxAge) || !s.retained.set(m) {
			return b.Delete(k, nil)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Sessions connected at the crash count as offline since now; their
	// records say so from here on, so that expiry keeps counting across
	// further restarts.
	for i := range out {
		l := &out[i]
		if l.wasOnline {
			l.rec.offlineAt = now
			if l.rec.will != nil {
				l.rec.willAt = now.Add(time.Duration(min(l.rec.willDelay, l.rec.expiry)) * time.Second)
			}
			if err := b.Set(append([]byte{keySession}, l.se.id...), appendSession(nil, l.rec), nil); err != nil {
				return nil, err
			}
		}
		l.se.offlineAt = unixNano(l.rec.offlineAt)
		sortQueue(l.se)
	}
	d.gens.Store(maxGen)
	if !b.Empty() {
		if err := d.db.Apply(b, pebble.Sync); err != nil {
			return nil, fmt.Errorf("embedded: data directory: %w", err)
		}
	}
	for i := range out {
		se := out[i].se
		s.addSession(se)
		for _, sub := range se.subs.all() {
			s.tree.add(sub)
		}
	}
	return out, nil
}

// sortQueue puts a loaded session's queue in delivery order (the scan is in
// key order, which is delivery order; this only guards it).
func sortQueue(se *session) {
	q := se.queue.buf[se.queue.head:]
	slices.SortFunc(q, func(a, b delivery) int {
		switch {
		case a.dseq < b.dseq:
			return -1
		case a.dseq > b.dseq:
			return 1
		}
		return 0
	})
}

// startLoaded sets the expiry and will timers of loaded sessions, ending
// the expired ones and publishing the wills that are due.
func (s *Server) startLoaded(ls []loaded) {
	now := time.Now()
	for _, l := range ls {
		se, rec := l.se, l.rec
		se.mu.Lock()
		if rec.will != nil {
			if wait := rec.willAt.Sub(now); wait > 0 {
				se.pendingWill, se.willAt = rec.will, unixNano(rec.willAt)
				se.willTimer = time.AfterFunc(wait, func() { s.firePendingWill(se) })
			} else {
				se.pendingWill = rec.will
				se.mu.Unlock()
				s.firePendingWill(se)
				se.mu.Lock()
			}
		}
		left := rec.offlineAt.Add(time.Duration(rec.expiry) * time.Second).Sub(now)
		if left > 0 {
			se.expireTimer = time.AfterFunc(left, func() { s.endSessionIf(se, true) })
		}
		se.mu.Unlock()
		if left <= 0 {
			s.endSessionIf(se, true)
		}
	}
}

// scan calls fn for every key with the tag.
func (d *durableState) scan(tag byte, fn func(k, v []byte) error) error {
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tag}, UpperBound: []byte{tag + 1}})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = fn(slices.Clone(it.Key()), v)
		}
		if err != nil {
			it.Close()
			return fmt.Errorf("embedded: data directory: %w", err)
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("embedded: data directory: %w", err)
	}
	return nil
}

// packetID is the packet ID of a stored delivery: a function of its
// sequence number, so that a delivery resent after a restart carries the
// ID the client may already hold it under (QoS 2 is exactly once by ID).
func packetID(seq uint64) uint16 { return uint16((seq-1)%65535) + 1 }
