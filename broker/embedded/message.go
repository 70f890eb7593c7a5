package embedded

import (
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// message is one published application message, shared read-only by every
// session it is delivered to.
type message struct {
	topic   string
	payload []byte
	qos     byte
	retain  bool
	props   msgProps
	created time.Time
	expiry  time.Time // zero: never
	origin  *session  // publishing session (for No Local); nil in-process
	size    int       // bytes counted against MaxQueuedBytes
	did     uint64    // ID in the data directory; 0: not stored (owned by durableState's writer)
}

type msgProps struct {
	payloadFormat    byte
	payloadFormatSet bool
	contentType      string
	responseTopic    string
	correlation      []byte
	user             []packets.UserProperty
}

func (m *message) expired(now time.Time) bool {
	return !m.expiry.IsZero() && !now.Before(m.expiry)
}

// timestamp is when the message counts as created for RetainedMaxAge: its
// "timestamp" user property when it has a valid one (flespi), else its
// arrival.
func (m *message) timestamp() time.Time {
	for _, u := range m.props.user {
		if u.Key == "timestamp" {
			if f, err := strconv.ParseFloat(u.Val, 64); err == nil && f > 0 && f < 1e11 {
				sec := int64(f)
				return time.Unix(sec, int64((f-float64(sec))*1e9))
			}
		}
	}
	return m.created
}

func (m *message) setSize() {
	m.size = len(m.topic) + len(m.payload) + len(m.props.correlation) + len(m.props.contentType) +
		len(m.props.responseTopic) + 64
	for _, u := range m.props.user {
		m.size += len(u.Key) + len(u.Val) + 4
	}
}

func hasUserProperty(us []packets.UserProperty, key string) bool {
	for _, u := range us {
		if u.Key == key {
			return true
		}
	}
	return false
}

// fromBroker converts an in-process message; the payload and properties
// are copied so the caller may reuse its buffers.
func fromBroker(bm broker.Message, now time.Time) *message {
	m := &message{
		topic:   bm.Topic,
		payload: append([]byte(nil), bm.Payload...),
		qos:     bm.QoS,
		retain:  bm.Retain,
		created: now,
	}
	p := &bm.Properties
	m.props.contentType = p.ContentType
	m.props.responseTopic = p.ResponseTopic
	if p.CorrelationData != nil {
		m.props.correlation = append([]byte(nil), p.CorrelationData...)
	}
	if p.PayloadFormat != 0 {
		m.props.payloadFormat, m.props.payloadFormatSet = p.PayloadFormat, true
	}
	if len(p.UserProperties) > 0 {
		m.props.user = make([]packets.UserProperty, len(p.UserProperties))
		for i, u := range p.UserProperties {
			m.props.user[i] = packets.UserProperty{Key: u.Key, Val: u.Value}
		}
	}
	if p.Expiry > 0 {
		m.expiry = now.Add(p.Expiry)
	}
	return m
}

// toBroker converts m for an in-process handler; the payload is shared and
// must not be modified.
func (m *message) toBroker(qos byte, retain bool, now time.Time) broker.Message {
	bm := broker.Message{Topic: m.topic, Payload: m.payload, QoS: qos, Retain: retain}
	p := &bm.Properties
	p.ContentType = m.props.contentType
	p.ResponseTopic = m.props.responseTopic
	p.CorrelationData = m.props.correlation
	if m.props.payloadFormatSet {
		p.PayloadFormat = m.props.payloadFormat
	}
	if len(m.props.user) > 0 {
		p.UserProperties = make([]broker.UserProperty, len(m.props.user))
		for i, u := range m.props.user {
			p.UserProperties[i] = broker.UserProperty{Key: u.Key, Value: u.Val}
		}
	}
	if !m.expiry.IsZero() {
		if d := m.expiry.Sub(now); d > 0 {
			p.Expiry = d
		}
	}
	return bm
}

// delivery is one message on its way to one session.
type delivery struct {
	msg    *message
	qos    byte
	retain bool
	subIDs []int
	space  *string // the matching subscription's namespace, nil: the client's own
	dseq   uint64  // sequence number in the session's stored deliveries; 0: not stored
}

// outbound is a QoS 1 or 2 delivery sent and not yet acknowledged.
type outbound struct {
	delivery
	id  uint16
	seq uint64
	rel bool // PUBREC received, PUBREL sent
}

// deque is a FIFO of deliveries.
type deque struct {
	buf  []delivery
	head int
}

func (q *deque) len() int { return len(q.buf) - q.head }

func (q *deque) push(d delivery) { q.buf = append(q.buf, d) }

func (q *deque) peek() *delivery { return &q.buf[q.head] }

func (q *deque) pop() delivery {
	d := q.buf[q.head]
	q.buf[q.head] = delivery{}
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
		if cap(q.buf) > 4096 {
			q.buf = nil
		}
	} else if q.head >= 1024 && q.head*2 >= len(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	return d
}

func (q *deque) reset() { q.buf, q.head = nil, 0 }
