package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// The encodings of the durable state's values (doc.go, "Data directory"):
// integers big endian or uvarint, strings and byte strings uvarint-length
// prefixed, times as Unix nanoseconds (0 for none). Every value starts with
// a format byte so that a later layout can tell old values apart.

const durableFormat = 1

// errCorrupt is the cause of a value the decoder cannot read.
var errCorrupt = errors.New("embedded: corrupt durable state")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	return binary.BigEndian.AppendUint64(b, uint64(ns))
}

// appendMessage encodes what a message is: topic, payload, QoS, retain
// flag, properties, creation and expiry times.
func appendMessage(b []byte, m *message) []byte {
	b = append(b, durableFormat)
	b = appendStr(b, m.topic)
	b = appendBytes(b, m.payload)
	flags := m.qos & 3
	if m.retain {
		flags |= 4
	}
	if m.props.payloadFormatSet {
		flags |= 8
	}
	b = append(b, flags, m.props.payloadFormat)
	b = appendTime(b, m.created)
	b = appendTime(b, m.expiry)
	b = appendStr(b, m.props.contentType)
	b = appendStr(b, m.props.responseTopic)
	b = appendBytes(b, m.props.correlation)
	b = binary.AppendUvarint(b, uint64(len(m.props.user)))
	for _, u := range m.props.user {
		b = appendStr(b, u.Key)
		b = appendStr(b, u.Val)
	}
	return b
}

// reader decodes a value; the first error sticks and every later read
// returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) time() time.Time {
	ns := int64(r.u64())
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// count reads a number of elements that each take at least one byte.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) format() {
	if f := r.byte(); f != durableFormat && r.err == nil {
		r.err = fmt.Errorf("%w: value format %d", errCorrupt, f)
	}
}

// message decodes appendMessage's encoding; the payload is copied.
func (r *reader) message() *message {
	r.format()
	m := &message{topic: r.str()}
	m.payload = append([]byte(nil), r.bytes()...)
	flags := r.byte()
	m.qos, m.retain = flags&3, flags&4 != 0
	m.props.payloadFormatSet = flags&8 != 0
	m.props.payloadFormat = r.byte()
	m.created = r.time()
	m.expiry = r.time()
	m.props.contentType = r.str()
	m.props.responseTopic = r.str()
	if c := r.bytes(); len(c) > 0 {
		m.props.correlation = append([]byte(nil), c...)
	}
	if n := r.count(); n > 0 {
		m.props.user = make([]packets.UserProperty, n)
		for i := range m.props.user {
			m.props.user[i] = packets.UserProperty{Key: r.str(), Val: r.str()}
		}
	}
	if m.qos > 2 || (r.err == nil && !validTopicName(m.topic)) {
		r.fail()
	}
	if r.err != nil {
		return nil
	}
	m.setSize()
	return m
}

// sessionRecord is a session's lasting state, as saved.
type sessionRecord struct {
	gen       uint64
	expiry    uint32
	offlineAt time.Time // zero: connected when saved
	will      *message
	willDelay uint32    // seconds, counted from the disconnection
	willAt    time.Time // when a pending will is due (offline sessions)
	subs      []subRecord
}

type subRecord struct {
	filter  string
	qos     byte
	noLocal bool
	rap     bool
	rh      byte
	id      int
	space   *string // the namespace it was taken in (Token.Spaces); nil: the client's own
}

// spaceFlag marks a subscription record followed by its namespace.
const spaceFlag = 0x40

func appendSession(b []byte, rec *sessionRecord) []byte {
	b = append(b, durableFormat)
	b = binary.BigEndian.AppendUint64(b, rec.gen)
	b = binary.BigEndian.AppendUint32(b, rec.expiry)
	b = appendTime(b, rec.offlineAt)
	if rec.will == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = appendMessage(b, rec.will)
		b = binary.BigEndian.AppendUint32(b, rec.willDelay)
		b = appendTime(b, rec.willAt)
	}
	b = binary.AppendUvarint(b, uint64(len(rec.subs)))
	for _, s := range rec.subs {
		b = appendStr(b, s.filter)
		flags := s.qos & 3
		if s.noLocal {
			flags |= 4
		}
		if s.rap {
			flags |= 8
		}
		flags |= (s.rh & 3) << 4
		if s.space != nil {
			flags |= spaceFlag
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, uint64(s.id))
		if s.space != nil {
			b = appendStr(b, *s.space)
		}
	}
	return b
}

func decodeSession(v []byte) (*sessionRecord, error) {
	r := &reader{b: v}
	r.format()
	rec := &sessionRecord{gen: r.u64()}
	if len(r.b) >= 4 {
		rec.expiry = binary.BigEndian.Uint32(r.b)
		r.b = r.b[4:]
	} else {
		r.fail()
	}
	rec.offlineAt = r.time()
	if r.byte() == 1 {
		rec.will = r.message()
		if len(r.b) >= 4 {
			rec.willDelay = binary.BigEndian.Uint32(r.b)
			r.b = r.b[4:]
		} else {
			r.fail()
		}
		rec.willAt = r.time()
	}
	n := r.count()
	rec.subs = make([]subRecord, 0, n)
	for range n {
		s := subRecord{filter: r.str()}
		flags := r.byte()
		s.qos, s.noLocal, s.rap, s.rh = flags&3, flags&4 != 0, flags&8 != 0, (flags>>4)&3
		id := r.uvarint()
		if id > 268435455 || s.qos > 2 || s.rh > 2 || flags&0x80 != 0 {
			r.fail()
		}
		s.id = int(id)
		if flags&spaceFlag != 0 {
			sp := r.str()
			s.space = &sp
		}
		rec.subs = append(rec.subs, s)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	return rec, r.err
}

// queued is one delivery kept for a session: which message, at which QoS,
// and whether the client has received it (PUBREC: only the PUBREL is
// owed).
type queued struct {
	msgID  uint64
	qos    byte
	retain bool
	rel    bool
	subIDs []int
}

func appendQueued(b []byte, q *queued) []byte {
	b = append(b, durableFormat)
	b = binary.BigEndian.AppendUint64(b, q.msgID)
	flags := q.qos & 3
	if q.retain {
		flags |= 4
	}
	if q.rel {
		flags |= 8
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(q.subIDs)))
	for _, id := range q.subIDs {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return b
}

func decodeQueued(v []byte) (queued, error) {
	r := &reader{b: v}
	r.format()
	q := queued{msgID: r.u64()}
	flags := r.byte()
	q.qos, q.retain, q.rel = flags&3, flags&4 != 0, flags&8 != 0
	if n := r.count(); n > 0 {
		q.subIDs = make([]int, n)
		for i := range q.subIDs {
			id := r.uvarint()
			if id == 0 || id > 268435455 {
				r.fail()
			}
			q.subIDs[i] = int(id)
		}
	}
	if q.qos == 0 || q.qos > 2 || (r.err == nil && len(r.b) != 0) {
		r.fail()
	}
	return q, r.err
}
