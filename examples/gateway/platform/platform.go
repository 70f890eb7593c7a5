package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/stream"
)

// Topic prefixes.
const (
	MessagePrefix = "flespi/message/gw/"
	StatePrefix   = "flespi/state/gw/"
	LogPrefix     = "flespi/log/gw/"
)

func timestampProp(t float64) broker.Properties {
	return broker.Properties{UserProperties: []broker.UserProperty{{Key: "timestamp", Value: strconv.FormatFloat(t, 'f', -1, 64)}}}
}

// Accounts places publications in their account's topic space: every
// publication of an object, device or message of account cid goes to
// Namespace(cid) + its topic and carries flespi's "cid" user property. A
// nil Accounts publishes everything in the broker's own space, without
// cid.
type Accounts struct {
	// Namespace returns the topic prefix of account cid ("" for the
	// gateway's own account).
	Namespace func(cid int64) string
	// Device returns the account of a device by ident; Object the account
	// of an object by kind ("channels", "devices", "streams") and id.
	Device func(ident string) int64
	Object func(kind string, id int64) int64
	// Account is Namespace's inverse: the account whose topic prefix ns
	// is (never "": that is the gateway's own). A TelemetrySource needs it
	// to recognise accounts' telemetry topics; nil: it owns the broker's
	// own space's only.
	Account func(ns string) (cid int64, ok bool)
}

func (a *Accounts) account(ns string) bool {
	if a == nil || a.Account == nil {
		return false
	}
	_, ok := a.Account(ns)
	return ok
}

// place returns topic in account cid's space and props with its cid.
func (a *Accounts) place(cid int64, topic string, props broker.Properties) (string, broker.Properties) {
	if a == nil || cid == 0 {
		return topic, props
	}
	props.UserProperties = append(props.UserProperties, broker.UserProperty{Key: "cid", Value: strconv.FormatInt(cid, 10)})
	return a.Namespace(cid) + topic, props
}

// namespace returns the topic prefix of account cid's space (place's).
func (a *Accounts) namespace(cid int64) string {
	if a == nil || cid == 0 {
		return ""
	}
	return a.Namespace(cid)
}

// messageProps returns the properties of a message of account cid at
// server time ts, as timestampProp and place make them: its length is its
// capacity, so that the publications sharing it never write to it.
func (a *Accounts) messageProps(cid int64, ts float64) broker.Properties {
	stamp := broker.UserProperty{Key: "timestamp", Value: strconv.FormatFloat(ts, 'f', -1, 64)}
	if a == nil || cid == 0 {
		return broker.Properties{UserProperties: []broker.UserProperty{stamp}}
	}
	return broker.Properties{UserProperties: []broker.UserProperty{stamp, {Key: "cid", Value: strconv.FormatInt(cid, 10)}}}
}

func (a *Accounts) device(ident string) int64 {
	if a == nil || a.Device == nil {
		return 0
	}
	return a.Device(ident)
}

func (a *Accounts) object(kind string, id int64) int64 {
	if a == nil || a.Object == nil {
		return 0
	}
	return a.Object(kind, id)
}

// Messages is the stream sink that publishes every message of the log on
// its channel's and its device's message topics, QoS 1 (so that persistent
// sessions get them), in log order. A broker that keeps messages durably
// (embedded.Server with a data directory: Sync) has the batch on disk
// before Write returns, so the log's cursor never passes messages a crash
// could take from persistent sessions.
type Messages struct {
	Broker   broker.Broker
	Accounts *Accounts
	topic    []byte
}

// Write implements stream.Sink.
func (p *Messages) Write(ctx context.Context, b *stream.Batch) error {
	under, _ := p.Broker.(underChecker)
	for i := range b.Messages {
		m := &b.Messages[i]
		ident := m.Message.Ident()
		cid, _ := m.Message.Int(protocol.ParamCID)
		ns := p.Accounts.namespace(cid)
		var props broker.Properties // made for the first publication
		if ch, ok := m.Message.Int(protocol.ParamChannelID); ok && ident != "" {
			p.topic = append(strconv.AppendInt(append(append(p.topic[:0], ns...), MessagePrefix+"channels/"...), ch, 10), '/')
			p.topic = append(p.topic, ident...)
			if err := p.publish(ctx, m, cid, &props); err != nil {
				return failedFrom(b, i, err)
			}
		}
		if dev, ok := m.Message.Int(protocol.ParamDeviceID); ok {
			// Nobody's subscription reaches the account's device topics:
			// one question, no topic built (a device id never makes a bad
			// topic).
			if under != nil && !under.SubscribedUnder(ns+MessagePrefix+"devices/") {
				continue
			}
			p.topic = strconv.AppendInt(append(append(p.topic[:0], ns...), MessagePrefix+"devices/"...), dev, 10)
			if err := p.publish(ctx, m, cid, &props); err != nil {
				return failedFrom(b, i, err)
			}
		}
	}
	if s, ok := p.Broker.(syncer); ok {
		if err := s.Sync(ctx); err != nil {
			return failedFrom(b, 0, err) // which of them are on disk is unknown: all again
		}
	}
	return nil
}

// syncer is a broker whose published messages become durable in groups:
// Sync waits for everything published before it.
type syncer interface {
	Sync(ctx context.Context) error
}

// subscribedChecker is a broker that can tell whether any subscription
// matches a topic (embedded.Server.Subscribed, which counts offline
// persistent sessions' too).
type subscribedChecker interface {
	Subscribed(topic string) bool
}

// underChecker is a broker that can tell whether any subscription may
// match a topic below a prefix (embedded.Server.SubscribedUnder).
type underChecker interface {
	SubscribedUnder(prefix string) bool
}

// publish publishes message m on p.topic (in its account's space
// already), with props, which it makes at the first publication of m: its
// "timestamp" and, in an account's space, its "cid".
func (p *Messages) publish(ctx context.Context, m *stream.Message, cid int64, props *broker.Properties) error {
	topic := string(p.topic)
	if sc, ok := p.Broker.(subscribedChecker); ok && !sc.Subscribed(topic) {
		// Not retained: a message nobody's subscription matches reaches
		// nobody, now or later. A bad topic is still reported.
		if err := broker.ValidateTopic(topic); err != nil {
			return fmt.Errorf("%w: %q", broker.ErrBadTopic, topic)
		}
		return nil
	}
	if props.UserProperties == nil {
		ts, _ := m.Message.Float(protocol.ParamServerTimestamp)
		*props = p.Accounts.messageProps(cid, ts)
	}
	return p.Broker.Publish(ctx, broker.Message{Topic: topic, Payload: m.JSON, QoS: 1, Properties: *props})
}

// failedFrom reports messages i.. of b as failed: those before went out,
// and the rest must follow in order. A topic the broker refuses (an ident
// with a wildcard or a separator) can never go out: message i is refused
// for good, so that it does not hold back the stream forever.
func failedFrom(b *stream.Batch, i int, err error) error {
	bad := errors.Is(err, broker.ErrBadTopic)
	if i == 0 && !bad {
		return err
	}
	be := stream.NewBatchError()
	for j := i; j < len(b.Messages); j++ {
		switch {
		case !bad:
			be.Failed(j, err)
		case j == i:
			be.Failed(j, stream.Permanent(err))
		default:
			be.Failed(j, errNotSent)
		}
	}
	return be
}

var errNotSent = errors.New("platform: not sent after a message the broker refused")

// Telemetry publishes every telemetry change as retained state. Changes
// are coalesced per device and parameter, so a slow broker delays values
// but never queues more than one per parameter.
type Telemetry struct {
	Broker broker.Broker
	// DeviceID maps an ident to its registered device; values of idents
	// without a device are not published (their topics need a device id).
	// Unused when Device is set.
	DeviceID func(ident string) (int64, bool)
	Accounts *Accounts
	Logger   *slog.Logger
	// Subscribed, when set, reports whether any subscription matches a
	// topic (embedded.Server.Subscribed): a value whose topic it says
	// nobody subscribes to is not published. Set it only when the broker
	// serves these topics' retained values itself (a TelemetrySource):
	// otherwise a later subscriber would miss the skipped values. It is
	// asked after the store committed the change, so a subscription made
	// meanwhile gets the value live or from the source.
	Subscribed func(topic string) bool
	// SubscribedUnder, when set with Subscribed, reports whether any
	// subscription may match a topic below a prefix
	// (embedded.Server.SubscribedUnder): a device none may reach below its
	// telemetry prefix costs one question instead of one per value.
	SubscribedUnder func(prefix string) bool
	// Device, when set, returns the id and account of the device of ident
	// in one lookup, in place of DeviceID and Accounts.Device.
	Device func(ident string) (id, cid int64, ok bool)

	mu      sync.Mutex
	pending map[string][]store.TelemetryValue // ident → values sorted by name
	wake    chan struct{}
}

// Watch subscribes t to tel's changes; the returned func stops.
func (t *Telemetry) Watch(tel store.Telemetry) func() {
	t.init()
	return tel.Watch(func(c store.TelemetryChange) {
		t.mu.Lock()
		p, ok := t.pending[c.Ident]
		if !ok {
			// The change's values are its own (sorted by name): kept as
			// they are until published.
			t.pending[c.Ident] = c.Values
		} else {
			t.pending[c.Ident] = mergeValues(p, c.Values)
		}
		t.mu.Unlock()
		select {
		case t.wake <- struct{}{}:
		default:
		}
	})
}

// mergeValues merges two lists of values sorted by name; of a name in
// both, newer's value is kept (changes are reported in the order they
// were applied, so a later one is never older).
func mergeValues(older, newer []store.TelemetryValue) []store.TelemetryValue {
	out := make([]store.TelemetryValue, 0, max(len(older), len(newer)))
	i, j := 0, 0
	for i < len(older) && j < len(newer) {
		switch c := strings.Compare(older[i].Name, newer[j].Name); {
		case c < 0:
			out = append(out, older[i])
			i++
		case c > 0:
			out = append(out, newer[j])
			j++
		default:
			out = append(out, newer[j])
			i++
			j++
		}
	}
	out = append(out, older[i:]...)
	return append(out, newer[j:]...)
}

func (t *Telemetry) init() {
	t.mu.Lock()
	if t.pending == nil {
		t.pending = map[string][]store.TelemetryValue{}
		t.wake = make(chan struct{}, 1)
	}
	t.mu.Unlock()
}

// Run publishes pending changes until ctx ends.
func (t *Telemetry) Run(ctx context.Context) error {
	t.init()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.wake:
		}
		t.mu.Lock()
		batch := t.pending
		t.pending = make(map[string][]store.TelemetryValue, len(batch))
		t.mu.Unlock()
		for ident, values := range batch {
			if err := t.publish(ctx, ident, values); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				t.logger().Warn("platform: telemetry not published", "ident", ident, "err", err)
			}
		}
	}
}

// PublishDevice publishes every telemetry value of a device, as after a
// restart (retained state in a broker without persistence is gone).
func (t *Telemetry) PublishDevice(ctx context.Context, tel store.Telemetry, ident string) error {
	vals, err := tel.Get(ctx, ident)
	if err != nil {
		return err
	}
	return t.publish(ctx, ident, vals)
}

// publish publishes a device's values, retained, each on its parameter's
// topic with its time in the "timestamp" user property.
func (t *Telemetry) publish(ctx context.Context, ident string, values []store.TelemetryValue) error {
	if len(values) == 0 {
		return nil
	}
	var id, cid int64
	var ok bool
	if t.Device != nil {
		id, cid, ok = t.Device(ident)
	} else if id, ok = t.DeviceID(ident); ok {
		cid = t.Accounts.device(ident)
	}
	if !ok {
		return nil
	}
	prefix := t.Accounts.telemetryPrefix(cid, id)
	if t.Subscribed != nil && t.SubscribedUnder != nil && !t.SubscribedUnder(prefix) {
		return nil // asked after the commit, as Subscribed is
	}
	props := t.Accounts.props(cid)
	// One allocation for every payload and one for every property list of
	// the device (each message gets its own part: the broker may keep them),
	// and each distinct time formatted once; none for values nobody
	// subscribes to.
	var payloads []byte // outgrown: earlier parts keep the old array
	var users []broker.UserProperty
	per := len(props.UserProperties) + 1
	var lastTime float64
	var lastStamp string
	for _, v := range values {
		topic := prefix + TopicLevel(v.Name)
		if t.Subscribed != nil && !t.Subscribed(topic) {
			continue
		}
		if users == nil {
			payloads = make([]byte, 0, 16*len(values))
			users = make([]broker.UserProperty, 0, per*len(values))
		}
		start := len(payloads)
		payloads = v.Value.AppendJSON(payloads)
		if lastStamp == "" || v.Time != lastTime {
			lastTime, lastStamp = v.Time, strconv.FormatFloat(v.Time, 'f', -1, 64)
		}
		at := len(users)
		users = append(users, broker.UserProperty{Key: "timestamp", Value: lastStamp})
		users = append(users, props.UserProperties...)
		msg := broker.Message{Topic: topic, Payload: payloads[start:len(payloads):len(payloads)],
			QoS: 1, Retain: true, Properties: broker.Properties{UserProperties: users[at:len(users):len(users)]}}
		if err := t.Broker.Publish(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

// telemetryPrefix returns the topic prefix of the telemetry parameters of
// device id of account cid, in its account's space.
func (a *Accounts) telemetryPrefix(cid, id int64) string {
	var buf [64]byte
	p := append(strconv.AppendInt(append(buf[:0], StatePrefix+"devices/"...), id, 10), "/telemetry/"...)
	if a == nil || cid == 0 {
		return string(p)
	}
	return a.Namespace(cid) + string(p)
}

// props returns the properties (cid) every message of account cid carries
// besides its timestamp, as place adds them.
func (a *Accounts) props(cid int64) broker.Properties {
	if a == nil || cid == 0 {
		return broker.Properties{}
	}
	return broker.Properties{UserProperties: []broker.UserProperty{{Key: "cid", Value: strconv.FormatInt(cid, 10)}}}
}

func (t *Telemetry) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.Default()
}

// TopicLevel makes a parameter name usable as a topic level: '+' and '#'
// (the MQTT wildcards; flespi's "din#1" names the first digital input) and
// '/' are written as %2B, %23 and %2F, and '%' as %25.
func TopicLevel(name string) string {
	if !strings.ContainsAny(name, "+#/%") {
		return name
	}
	return levelEscaper.Replace(name)
}

var levelEscaper = strings.NewReplacer("%", "%25", "+", "%2B", "#", "%23", "/", "%2F")

// State publishes objects' state as retained topics, one per property, and
// events on log topics. Safe for concurrent use.
type State struct {
	Broker   broker.Broker
	Accounts *Accounts
	Now      func() time.Time
	Logger   *slog.Logger
}

func (s *State) now() float64 {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return float64(now().UnixMicro()) / 1e6
}

// Object publishes each top-level property of obj (a JSON object) at
// flespi/state/gw/{kind}/{id}/{property}, retained; properties old had and
// obj lacks are cleared. nil obj clears every property of old.
func (s *State) Object(ctx context.Context, kind string, id int64, old, obj []byte) {
	var was, is map[string]json.RawMessage
	json.Unmarshal(old, &was)
	json.Unmarshal(obj, &is)
	cid := objectCID(was, is)
	prefix := StatePrefix + kind + "/" + strconv.FormatInt(id, 10) + "/"
	for k, v := range is {
		if prev, ok := was[k]; ok && string(prev) == string(v) {
			continue
		}
		topic, props := s.Accounts.place(cid, prefix+k, timestampProp(s.now()))
		s.publish(ctx, broker.Message{Topic: topic, Payload: v, QoS: 1, Retain: true, Properties: props})
	}
	for k := range was {
		if _, ok := is[k]; !ok {
			topic, props := s.Accounts.place(cid, prefix+k, timestampProp(s.now()))
			s.publish(ctx, broker.Message{Topic: topic, QoS: 1, Retain: true, Properties: props}) // empty: cleared
		}
	}
}

// Property publishes one retained property.
func (s *State) Property(ctx context.Context, kind string, id int64, name string, value any) {
	payload, err := json.Marshal(value)
	if err != nil {
		return
	}
	topic, props := s.Accounts.place(s.Accounts.object(kind, id), StatePrefix+kind+"/"+strconv.FormatInt(id, 10)+"/"+name, timestampProp(s.now()))
	s.publish(ctx, broker.Message{Topic: topic, Payload: payload, QoS: 1, Retain: true, Properties: props})
}

// Clear removes one retained property of an object of account cid (given,
// as an object that is gone can no longer be looked up).
func (s *State) Clear(ctx context.Context, cid int64, kind string, id int64, name string) {
	topic, props := s.Accounts.place(cid, StatePrefix+kind+"/"+strconv.FormatInt(id, 10)+"/"+name, timestampProp(s.now()))
	s.publish(ctx, broker.Message{Topic: topic, QoS: 1, Retain: true, Properties: props}) // empty: cleared
}

// Event publishes an event on flespi/log/gw/{kind}/{id}/{event}: a JSON
// object with "event", "timestamp" and the given fields.
func (s *State) Event(ctx context.Context, kind string, id int64, event string, fields map[string]any) {
	body := map[string]any{"event": event, "timestamp": s.now(), "origin": fmt.Sprintf("gw/%s/%d", kind, id)}
	for k, v := range fields {
		body[k] = v
	}
	payload, _ := json.Marshal(body)
	topic, props := s.Accounts.place(s.Accounts.object(kind, id), LogPrefix+kind+"/"+strconv.FormatInt(id, 10)+"/"+event, timestampProp(s.now()))
	s.publish(ctx, broker.Message{Topic: topic, Payload: payload, QoS: 1, Properties: props})
}

// objectCID reads an object's "cid" from its JSON (the new state, else
// the old one).
func objectCID(was, is map[string]json.RawMessage) int64 {
	for _, m := range []map[string]json.RawMessage{is, was} {
		if raw, ok := m["cid"]; ok {
			if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				return n
			}
		}
	}
	return 0
}

func (s *State) publish(ctx context.Context, m broker.Message) {
	if err := s.Broker.Publish(ctx, m); err != nil && ctx.Err() == nil {
		l := s.Logger
		if l == nil {
			l = slog.Default()
		}
		l.Warn("platform: state not published", "topic", m.Topic, "err", err)
	}
}
