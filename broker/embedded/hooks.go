package embedded

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// This file is what a client's Token may add to the broker's handling of
// that one client: a namespace (its private topic space) and an
// interceptor (which takes its publishes before they are routed). The
// Authenticator decides both, per connection. Unset, each costs one
// pointer load and compare per packet.

// Interceptor takes the publishes of the clients whose Token carries it,
// before the Authorizer and before routing. It runs on the client's read
// loop, synchronously: the client's next packet waits, and its
// acknowledgement is what the Verdict says — so an interceptor that stores
// a message before returning acknowledges only stored messages. Other
// clients are not held up.
//
// m.Topic is the topic as the client wrote it (inside its namespace, if
// it has one); m.Payload was allocated for this packet alone and may be
// kept. ctx ends when the client disconnects. A panic is recovered and
// treated as Verdict{Handled: true, NoAck: true, Disconnect: true, Code:
// 0x83}.
//
// Interceptors are called for network clients only; in-process Publish is
// not intercepted.
type Interceptor interface {
	InterceptPublish(ctx context.Context, c *Client, m broker.Message) Verdict
}

// InterceptorFunc adapts a function to an Interceptor.
type InterceptorFunc func(ctx context.Context, c *Client, m broker.Message) Verdict

// InterceptPublish calls f.
func (f InterceptorFunc) InterceptPublish(ctx context.Context, c *Client, m broker.Message) Verdict {
	return f(ctx, c, m)
}

// Verdict is an Interceptor's decision about one publish.
type Verdict struct {
	// Handled reports that the interceptor took the message: it is not
	// routed, and the fields below decide the acknowledgement. False (the
	// zero Verdict) lets the publish go on as if there were no
	// interceptor: authorized, then routed; the other fields are ignored.
	Handled bool
	// Code is the reason code of the acknowledgement (PUBACK for QoS 1,
	// PUBREC for QoS 2): 0 for success, 0x80 or above for a refusal, such
	// as 0x90 (topic name invalid) or 0x99 (payload format invalid). MQTT
	// 3.1.1 cannot carry a refusal: those clients get a plain
	// acknowledgement.
	Code byte
	// NoAck sends no acknowledgement. The client keeps the message and
	// sends it again (with DUP) when it reconnects, which MQTT requires of
	// unacknowledged QoS 1 and 2 publishes; combine it with Disconnect, or
	// the client's in-flight window stays taken.
	NoAck bool
	// Disconnect closes the connection after the acknowledgement (if any).
	// MQTT 5 clients first get a DISCONNECT with Code (0x80 when Code is
	// below 0x80). Messages queued for the client are not sent first: they
	// wait in its session, if it has a persistent one.
	Disconnect bool
}

// ErrPublishRefused is the cause of the ProtocolError that ends a
// connection whose Interceptor returned a Verdict with Disconnect.
var ErrPublishRefused = errors.New("embedded: publish refused by the client's interceptor")

// RefuseError lets an Authenticator choose the CONNACK reason code of a
// refusal (an MQTT 5 reason code; MQTT 3.1.1 clients get the nearest
// return code: 0x85 → 2, 0x86 → 4, 0x87 → 5, anything else → 3).
type RefuseError struct {
	Code byte
	Err  error
}

func (e *RefuseError) Error() string {
	return fmt.Sprintf("embedded: connection refused with reason 0x%02x: %v", e.Code, e.Err)
}

func (e *RefuseError) Unwrap() error { return e.Err }

// validate checks what the broker relies on in a Token returned by an
// Authenticator: a namespace it can prefix topics with.
func (t *Token) validate() error {
	if t == nil || t.Namespace == "" {
		return nil
	}
	if !validNamespace(t.Namespace) {
		return fmt.Errorf("embedded: token %q: namespace %q is not a topic prefix ending in '/'", t.Name, t.Namespace)
	}
	return nil
}

// validNamespace reports whether ns can prefix topics: no wildcard, and
// ending in '/'.
func validNamespace(ns string) bool {
	return strings.HasSuffix(ns, "/") && !strings.ContainsAny(ns, "+#\x00") && broker.ValidateTopic(ns+"x") == nil
}

// namespace is the client's topic prefix, "" for the shared space.
func (c *conn) namespace() string {
	if t := c.client.Token; t != nil {
		return t.Namespace
	}
	return ""
}

// inTopic maps a topic name the client used to the broker's.
func (c *conn) inTopic(topic string) string {
	if ns := c.namespace(); ns != "" {
		return ns + topic
	}
	return topic
}

// outTopic maps a topic of a message delivered to the client back into
// the namespace of the subscription that matched it: space, or the
// client's own when space is nil. Every subscription is inside its
// namespace, so every message it matches is too.
func (c *conn) outTopic(topic string, space *string) string {
	ns := c.namespace()
	if space != nil {
		ns = *space
	}
	if ns != "" {
		return strings.TrimPrefix(topic, ns)
	}
	return topic
}

// Spaces chooses the namespaces a client may subscribe in besides its own
// (Token.Spaces): flespi's "cid" user property of SUBSCRIBE, with which a
// parent account's token subscribes in a subaccount's space.
type Spaces interface {
	// Select returns the namespace that value selects for c. An error
	// wrapping broker.ErrNotAuthorized refuses the packet's filters with
	// reason 0x87 (not authorized), any other with 0x80; the same answer
	// for a space that does not exist and one c may not enter keeps
	// spaces from being probed.
	Select(ctx context.Context, c *Client, value string) (namespace string, err error)
}

// space returns the namespace a SUBSCRIBE or UNSUBSCRIBE with user
// properties user selects: nil for the client's own, or a refusal's
// reason code. given reports whether the packet names a space at all.
func (c *conn) space(user []packets.UserProperty) (space *string, code byte, given bool) {
	t := c.client.Token
	if t == nil || t.SpaceProperty == "" {
		return nil, 0, false
	}
	for _, u := range user {
		if u.Key == t.SpaceProperty {
			space, code = c.selectSpace(u.Val)
			return space, code, true
		}
	}
	return nil, 0, false
}

// filterSpace returns the namespace a filter's "$filter" spec selects
// with the condition SpaceProperty=N ("$filter/cid=123/…", as flespi
// documents it: the same as the SUBSCRIBE property), like space.
func (c *conn) filterSpace(f *broker.Filter) (space *string, code byte, given bool) {
	t := c.client.Token
	spec := f.Spec()
	if t == nil || t.SpaceProperty == "" || spec == "" {
		return nil, 0, false
	}
	for _, level := range strings.Split(spec, "/$filter/") {
		for _, cond := range strings.Split(level, "&") {
			if v, ok := strings.CutPrefix(cond, t.SpaceProperty+"="); ok {
				space, code = c.selectSpace(v)
				return space, code, true
			}
		}
	}
	return nil, 0, false
}

// selectSpace asks the client's Spaces for the namespace value selects.
func (c *conn) selectSpace(value string) (space *string, code byte) {
	t := c.client.Token
	if t.Spaces == nil {
		return nil, 0x87
	}
	ns, err := t.Spaces.Select(c.srv.ctx, c.client, value)
	switch {
	case errors.Is(err, broker.ErrNotAuthorized):
		return nil, 0x87
	case err != nil:
		return nil, 0x80
	case ns != "" && !validNamespace(ns):
		c.srv.log.Error("embedded: Spaces.Select returned a bad namespace", "client", c.client.ID, "namespace", ns)
		return nil, 0x80
	case ns == c.namespace():
		return nil, 0
	}
	return &ns, 0
}

// stamp sets the client's Token.Properties on m, replacing the client's
// own properties of the same keys so that they cannot be forged.
func (c *conn) stamp(m *message) {
	t := c.client.Token
	if t == nil || len(t.Properties) == 0 {
		return
	}
	user := make([]packets.UserProperty, 0, len(m.props.user)+len(t.Properties)+1) // +1: a timestamp, later
	for _, u := range m.props.user {
		if !slices.ContainsFunc(t.Properties, func(p broker.UserProperty) bool { return p.Key == u.Key }) {
			user = append(user, u)
		}
	}
	for _, p := range t.Properties {
		user = append(user, packets.UserProperty{Key: p.Key, Val: p.Value})
	}
	m.props.user = user
}

// sessionKey is the key of the client's session: client identifiers are
// per namespace, so equal ones in two namespaces are two sessions. NUL
// cannot occur in a topic or a client identifier (MQTT §1.5.4).
func (c *conn) sessionKey(id string) string {
	if ns := c.namespace(); ns != "" {
		return ns + "\x00" + id
	}
	return id
}

// namespaceFilter puts the topic part of f (after any "$share/…/" and
// "$filter/…/") inside ns.
func namespaceFilter(ns string, f *broker.Filter) string {
	raw := f.String()
	return raw[:len(raw)-len(f.Topic())] + ns + f.Topic()
}

// inFilter maps a subscription filter the client used (already parsed and
// authorized as the client wrote it) to the broker's, in space (nil: the
// client's own namespace).
func (c *conn) inFilter(pf parsedFilter, space *string) (parsedFilter, error) {
	ns := c.namespace()
	if space != nil {
		ns = *space
	}
	if ns == "" {
		return pf, nil
	}
	return c.srv.parseFilter(namespaceFilter(ns, &pf.Filter))
}

// inFilterString maps the filter of an UNSUBSCRIBE the way inFilter maps
// a SUBSCRIBE's, so that it names the same subscription.
func (c *conn) inFilterString(raw string, space *string) string {
	ns := c.namespace()
	if space != nil {
		ns = *space
	}
	if ns == "" {
		return raw
	}
	f, err := broker.ParseFilter(raw)
	if err != nil {
		return raw // no subscription has this key
	}
	return namespaceFilter(ns, &f)
}

// interceptor returns the client's Interceptor, nil when it has none.
func (c *conn) interceptor() Interceptor {
	if t := c.client.Token; t != nil {
		return t.Intercept
	}
	return nil
}

// intercept offers a PUBLISH to ic. done reports that ic handled it: its
// acknowledgement (r, as handlePublish prepared it) is then sent as the
// Verdict says, after every earlier one, and a non-nil error ends the
// connection. Otherwise the publish goes on as usual.
func (c *conn) intercept(ic Interceptor, se *session, topic string, pk *packets.Packet, r routed) (done bool, err error) {
	m := c.inboundMessage(se, topic, pk)
	v := c.callInterceptor(ic, m.toBroker(m.qos, m.retain, m.created))
	if !v.Handled {
		return false, nil
	}
	if v.NoAck {
		r.ackType = 0
	} else {
		r.ackCode = v.Code
	}
	if r.ackType == packets.Pubrec && r.ackCode == 0 {
		// A retransmission of this QoS 2 publish is acknowledged without
		// being offered again, until the client's PUBREL.
		se.mu.Lock()
		if se.inQoS2 == nil {
			se.inQoS2 = make(map[uint16]struct{})
		}
		se.inQoS2[r.ackID] = struct{}{}
		se.mu.Unlock()
	}
	// Nothing to route: the acknowledgement (none with NoAck) keeps its
	// place in line, and the persistence layer sees the publish completed.
	c.srv.state.publish(r)
	if v.Disconnect {
		code := v.Code
		if code < 0x80 {
			code = 0x80
		}
		return true, &ProtocolError{Code: code, Packet: "PUBLISH", Err: fmt.Errorf("%w (topic %.100q)", ErrPublishRefused, topic)}
	}
	return true, nil
}

// callInterceptor runs ic, turning a panic into a refusal that closes
// this connection only.
func (c *conn) callInterceptor(ic Interceptor, m broker.Message) (v Verdict) {
	defer func() {
		if p := recover(); p != nil {
			c.srv.log.Error("embedded: publish interceptor panicked", "client", c.client.ID, "topic", m.Topic, "panic", p)
			v = Verdict{Handled: true, NoAck: true, Disconnect: true, Code: 0x83}
		}
	}()
	return ic.InterceptPublish(c.hookCtx(), c.client, m)
}

// restChunk is the payload of each message of a chunked REST-over-MQTT
// answer (smaller when the client accepts only smaller packets).
const restChunk = 64 << 10

// userProperties converts a packet's user properties.
func userProperties(us []packets.UserProperty) []broker.UserProperty {
	if len(us) == 0 {
		return nil
	}
	out := make([]broker.UserProperty, len(us))
	for i, u := range us {
		out[i] = broker.UserProperty{Key: u.Key, Value: u.Val}
	}
	return out
}

// answerREST publishes the answer to a REST-over-MQTT request made on
// topic: to its response topic rt, or, without one (MQTT 3.1.1), back to
// the request's topic, which the client was allowed to publish to; in the
// client's namespace or the one the handler chose. A request asking for
// "response_chunked" gets its answer in pieces of at most restChunk
// bytes, the last with "http_code".
func (c *conn) answerREST(req RESTRequest, topic, rt string, corr []byte, resp RESTResponse) {
	s := c.srv
	switch {
	case rt == "":
		rt = topic
	case !validTopicName(rt) || s.auth.Authorize(s.ctx, c.client, rt, true) != nil:
		return
	}
	ns := c.namespace()
	if resp.Namespace != "" {
		if !validNamespace(resp.Namespace) {
			s.log.Error("embedded: REST handler answered into a bad namespace", "client", c.client.ID, "namespace", resp.Namespace)
			return
		}
		ns = resp.Namespace
	}
	size := len(resp.Body) + 1 // one message
	if slices.Contains(req.Properties, broker.UserProperty{Key: "response_chunked", Value: "true"}) {
		size = restChunk
		if c.maxOut > 0 {
			// Leave room for the header, topic and properties.
			over := 5 + 2 + len(ns) + len(rt) + 3 + len(corr) + 32
			for _, p := range resp.Properties {
				over += 5 + len(p.Key) + len(p.Value)
			}
			size = max(1, min(size, c.maxOut-over))
		}
	}
	body := resp.Body
	for {
		n := min(len(body), size)
		m := &message{topic: ns + rt, payload: body[:n], qos: 1, created: s.now()}
		m.props.correlation = corr
		last := n == len(body)
		m.props.user = make([]packets.UserProperty, 0, len(resp.Properties)+2)
		for _, p := range resp.Properties {
			m.props.user = append(m.props.user, packets.UserProperty{Key: p.Key, Val: p.Value})
		}
		if last {
			m.props.user = append(m.props.user, packets.UserProperty{Key: "http_code", Val: strconv.Itoa(resp.Status)})
		}
		s.publish(m, routed{})
		if last {
			return
		}
		body = body[n:]
	}
}
