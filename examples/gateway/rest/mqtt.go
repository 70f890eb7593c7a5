package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/selector"
)

// The broker over REST, flespi's /mqtt API (the endpoints are listed in
// the package documentation). A token manages the MQTT sessions and
// retained messages of the account it acts in — its own namespace on the
// broker: a subaccount's clients live under "$accounts/<cid>/" and see
// topics without that prefix, as here — and publishes into it.
//
// Session objects are {"id" (the client id), "client_id", "cid",
// "connected", "clean" (the session ends with its connection),
// "expiry_interval" (seconds a persistent session outlives its
// connection), "subscriptions", "messages_count" (queued, not yet sent),
// "inflight_count" (sent, not acknowledged), "queued_bytes",
// "dropped_count" (dropped, queue full), and for a connected client
// "protocol_version" and "address"}. A subscription is {"client_id",
// "topic", "qos", "no_local", "retain_as_published", "retain_handling",
// "subscription_identifier"}; POST takes the same fields (topic required;
// client_id limits it to that session): the retained messages it asks for
// are queued, and a persistent session that is offline keeps its QoS 1
// and 2 messages until its client returns. A retained message is
// {"topic", "payload" (text; or "payload_base64" when not UTF-8), "qos",
// "retained", "created", "user_properties", and, when set,
// "content_type", "response_topic", "correlation_data" (base64),
// "message_expiry_interval"}; POST /mqtt/messages takes those (payload as
// text, any other JSON value sent as its text, or payload_base64).
//
// MQTT topics obey the token's MQTT ACL as they would for one of its
// clients: publishing needs a publish filter matching the topic; reading
// retained messages and subscribing a session need subscribe filters
// covering the filter; deleting retained messages needs publish filters
// covering it as well. Nobody publishes into "flespi/" (the platform's
// topics), and DELETE leaves the platform's retained "flespi/" state
// alone. The sessions are those of the broker of the node that answers.

// MQTTAdmin is what the /mqtt API needs of the running gateway's broker,
// in the MQTT namespace of account cid; the API finds it on Live (a Live
// without it answers 501). Methods a broker cannot serve return an error
// wrapping broker.ErrUnsupported.
type MQTTAdmin interface {
	MQTTSessions(cid int64) ([]embedded.SessionInfo, error)
	EndMQTTSession(ctx context.Context, cid int64, clientID string) error
	SubscribeMQTTSession(ctx context.Context, cid int64, clientID string, subs []embedded.Subscription) error
	UnsubscribeMQTTSession(ctx context.Context, cid int64, clientID string, filters []string) ([]string, error)
	MQTTRetained(cid int64, filter string) ([]embedded.RetainedMessage, error)
	DeleteMQTTRetained(ctx context.Context, cid int64, topics []string) ([]string, error)
	// PublishMQTT publishes m, its topic inside the account's namespace.
	PublishMQTT(ctx context.Context, cid int64, m broker.Message) error
}

// platformPrefix is where the gateway publishes its platform topics;
// clients cannot publish there (the broker discards it) and neither can
// REST.
const platformPrefix = "flespi/"

func (q *request) mqttAdmin() (MQTTAdmin, error) {
	if m, ok := q.api.Live.(MQTTAdmin); ok {
		return m, nil
	}
	return nil, errf(http.StatusNotImplemented, "this gateway has no MQTT broker")
}

// mqttError maps the broker's errors to statuses.
func mqttError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, broker.ErrUnsupported):
		return errf(http.StatusNotImplemented, "%v: the gateway's bus is an external MQTT broker, which manages its own sessions and retained messages", err)
	case errors.Is(err, embedded.ErrNoSession):
		return errf(http.StatusNotFound, "%v", err)
	case errors.Is(err, broker.ErrBadTopic):
		return errf(http.StatusBadRequest, "%v", err)
	case errors.Is(err, embedded.ErrServerBusy):
		return errf(http.StatusServiceUnavailable, "%v", err)
	case errors.Is(err, broker.ErrClosed), errors.Is(err, broker.ErrNotConnected):
		return errf(http.StatusServiceUnavailable, "%v", err)
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return classify(err)
}

// mqttClient is the token as an MQTT client, for embedded.TokenAuthorizer:
// its ACL's topic filters, or everything for a token without one.
func (q *request) mqttClient() *embedded.Client {
	t := &embedded.Token{Publish: []string{"#"}, Subscribe: []string{"#"}}
	if acl := q.tok.ACL; acl != nil {
		t.Publish, t.Subscribe = acl.Publish, acl.Subscribe
	}
	return &embedded.Client{ID: "rest", Token: t}
}

// mayPublish checks the token's MQTT ACL for a publish to topic.
func (q *request) mayPublish(topic string) error {
	if err := (embedded.TokenAuthorizer{}).Authorize(q.ctx, q.mqttClient(), topic, true); err != nil {
		return errf(http.StatusForbidden, "the token's MQTT ACL does not allow publishing to %q", topic)
	}
	return nil
}

// maySubscribe checks that the token's subscribe filters (with publish,
// also its publish filters) cover filter, as the broker checks a
// SUBSCRIBE.
func (q *request) maySubscribe(filter string, publish bool) error {
	f, err := broker.ParseFilter(filter)
	if err != nil {
		return errf(http.StatusBadRequest, "%v", err)
	}
	c := q.mqttClient()
	auth := embedded.TokenAuthorizer{}
	if auth.Authorize(q.ctx, c, f.Topic(), false) != nil {
		return errf(http.StatusForbidden, "the token's MQTT ACL does not allow subscribing to %q", filter)
	}
	// Covering with the publish filters is the same question asked of
	// them in the place of the subscribe filters.
	pub := &embedded.Client{ID: c.ID, Token: &embedded.Token{Subscribe: c.Token.Publish}}
	if publish && auth.Authorize(q.ctx, pub, f.Topic(), false) != nil {
		return errf(http.StatusForbidden, "the token's MQTT ACL does not allow publishing to every topic of %q", filter)
	}
	return nil
}

// --- sessions ----------------------------------------------------------------

type mqttSubscriptionView struct {
	ClientID               string `json:"client_id,omitempty"`
	Topic                  string `json:"topic"`
	QoS                    byte   `json:"qos"`
	NoLocal                bool   `json:"no_local"`
	RetainAsPublished      bool   `json:"retain_as_published"`
	RetainHandling         byte   `json:"retain_handling"`
	SubscriptionIdentifier int    `json:"subscription_identifier"`
}

type mqttSessionView struct {
	ID              string                 `json:"id"`
	ClientID        string                 `json:"client_id"`
	CID             int64                  `json:"cid"`
	Connected       bool                   `json:"connected"`
	Clean           bool                   `json:"clean"`
	ExpiryInterval  int64                  `json:"expiry_interval"`
	Subscriptions   []mqttSubscriptionView `json:"subscriptions"`
	MessagesCount   int                    `json:"messages_count"`
	InflightCount   int                    `json:"inflight_count"`
	QueuedBytes     int                    `json:"queued_bytes"`
	DroppedCount    uint64                 `json:"dropped_count"`
	ProtocolVersion byte                   `json:"protocol_version,omitempty"`
	Address         string                 `json:"address,omitempty"`
}

func subscriptionView(clientID string, s embedded.Subscription) mqttSubscriptionView {
	return mqttSubscriptionView{ClientID: clientID, Topic: s.Filter, QoS: s.QoS, NoLocal: s.NoLocal,
		RetainAsPublished: s.RetainAsPublished, RetainHandling: s.RetainHandling, SubscriptionIdentifier: s.ID}
}

func (q *request) renderSession(si *embedded.SessionInfo) []byte {
	v := mqttSessionView{ID: si.ClientID, ClientID: si.ClientID, CID: q.cid, Connected: si.Connected, Clean: si.Clean,
		ExpiryInterval: int64(si.Expiry / time.Second), Subscriptions: []mqttSubscriptionView{},
		MessagesCount: si.Queued, InflightCount: si.Inflight, QueuedBytes: si.QueuedBytes, DroppedCount: si.Dropped}
	for _, s := range si.Subscriptions {
		v.Subscriptions = append(v.Subscriptions, subscriptionView("", s))
	}
	if c := si.Client; c != nil {
		v.ProtocolVersion = c.ProtocolVersion
		if c.RemoteAddr != nil {
			v.Address = c.RemoteAddr.String()
		}
	}
	b, _ := json.Marshal(v)
	return b
}

// clientIDs reads a session selector made only of client ids ("car",
// "car,truck"); false when it is a selector.
func clientIDs(sel string) ([]string, bool) {
	if strings.ContainsAny(sel, "={}*?!<>\"'") {
		return nil, false
	}
	ids := strings.Split(sel, ",")
	return ids, !slices.Contains(ids, "") && !slices.Contains(ids, "all")
}

// selectedSessions applies a session selector to the account's sessions.
func (q *request) selectedSessions(m MQTTAdmin, sel string) ([]embedded.SessionInfo, [][]byte, *selector.Query, error) {
	all, err := m.MQTTSessions(q.cid)
	if err != nil {
		return nil, nil, nil, mqttError(err)
	}
	ids, plain := clientIDs(sel)
	query, err := selector.ParseQuery("all", q.query)
	if !plain && err == nil {
		query, err = selector.ParseQuery(sel, q.query)
	}
	if err != nil {
		return nil, nil, nil, errf(http.StatusBadRequest, "%v", err)
	}
	var list []embedded.SessionInfo
	var items [][]byte
	for i := range all {
		if plain && !slices.Contains(ids, all[i].ClientID) {
			continue
		}
		item := q.renderSession(&all[i])
		if query.Selector != nil && !query.Selector.MatchEnv(item, query.Env) {
			continue
		}
		list, items = append(list, all[i]), append(items, item)
	}
	query.Selector = nil // applied
	return list, items, query, nil
}

// mqttSessions serves /mqtt/sessions/{sel}[/subscriptions[/{sel}]].
func (q *request) mqttSessions(s []string) ([]byte, error) {
	if len(s) == 0 {
		if q.method == http.MethodPost {
			return nil, errf(http.StatusMethodNotAllowed, "sessions are made by MQTT clients connecting: POST /mqtt/sessions is not served")
		}
		return nil, errf(http.StatusMethodNotAllowed, "%s /mqtt/sessions: name the sessions, /mqtt/sessions/{client id or selector}, e.g. all", q.method)
	}
	m, err := q.mqttAdmin()
	if err != nil {
		return nil, err
	}
	list, items, query, err := q.selectedSessions(m, s[0])
	if err != nil {
		return nil, err
	}
	if len(s) > 1 {
		if s[1] != "subscriptions" || len(s) > 3 {
			return nil, errf(http.StatusNotFound, "sessions have no %q", strings.Join(s[1:], "/"))
		}
		return q.mqttSubscriptions(m, list, s[2:])
	}
	switch q.method {
	case http.MethodGet:
		return query.Apply(items), nil
	case http.MethodDelete:
		var ended [][]byte
		for _, si := range list {
			err := m.EndMQTTSession(q.ctx, q.cid, si.ClientID)
			if errors.Is(err, embedded.ErrNoSession) {
				continue // ended meanwhile
			}
			if err != nil {
				return nil, mqttError(err)
			}
			b, _ := json.Marshal(map[string]string{"id": si.ClientID, "client_id": si.ClientID})
			ended = append(ended, b)
		}
		return result(ended), nil
	}
	return nil, q.methodNotAllowed()
}

// subscriptionInput is one subscription of a POST.
type subscriptionInput struct {
	Topic                  string `json:"topic"`
	QoS                    byte   `json:"qos"`
	NoLocal                bool   `json:"no_local"`
	RetainAsPublished      bool   `json:"retain_as_published"`
	RetainHandling         byte   `json:"retain_handling"`
	SubscriptionIdentifier int    `json:"subscription_identifier"`
	// ClientID, when set, limits the subscription to that session of the
	// selection (so GET's answer can be posted back).
	ClientID string `json:"client_id"`
}

func (q *request) mqttSubscriptions(m MQTTAdmin, sessions []embedded.SessionInfo, s []string) ([]byte, error) {
	var subs [][]byte
	var views []mqttSubscriptionView
	for _, si := range sessions {
		for _, sub := range si.Subscriptions {
			v := subscriptionView(si.ClientID, sub)
			b, _ := json.Marshal(v)
			subs, views = append(subs, b), append(views, v)
		}
	}
	// A subscription selector over the sessions' subscriptions.
	pick := func() ([][]byte, []mqttSubscriptionView, *selector.Query, error) {
		query, err := selector.ParseQuery("all", q.query)
		if len(s) == 1 && err == nil {
			query, err = selector.ParseQuery(s[0], q.query)
		}
		if err != nil {
			return nil, nil, nil, errf(http.StatusBadRequest, "%v", err)
		}
		var items [][]byte
		var picked []mqttSubscriptionView
		for i, b := range subs {
			if query.Selector == nil || query.Selector.MatchEnv(b, query.Env) {
				items, picked = append(items, b), append(picked, views[i])
			}
		}
		query.Selector = nil
		return items, picked, query, nil
	}
	switch q.method {
	case http.MethodGet:
		items, _, query, err := pick()
		if err != nil {
			return nil, err
		}
		return query.Apply(items), nil
	case http.MethodPost:
		if len(s) > 0 {
			return nil, errf(http.StatusMethodNotAllowed, "POST to /mqtt/sessions/{selector}/subscriptions, without a subscription selector")
		}
		raws, err := q.items()
		if err != nil {
			return nil, err
		}
		in := make([]embedded.Subscription, len(raws))
		only := make([]string, len(raws))
		for i, raw := range raws {
			var si subscriptionInput
			if err := decodeStrict(raw, &si); err != nil {
				return nil, err
			}
			if si.Topic == "" {
				return nil, errf(http.StatusBadRequest, "subscription %d: topic is required", i)
			}
			if err := q.maySubscribe(si.Topic, false); err != nil {
				return nil, err
			}
			in[i] = embedded.Subscription{Filter: si.Topic, QoS: si.QoS, NoLocal: si.NoLocal,
				RetainAsPublished: si.RetainAsPublished, RetainHandling: si.RetainHandling, ID: si.SubscriptionIdentifier}
			only[i] = si.ClientID
		}
		var out [][]byte
		for _, se := range sessions {
			var mine []embedded.Subscription
			for i, sub := range in {
				if only[i] == "" || only[i] == se.ClientID {
					mine = append(mine, sub)
				}
			}
			if len(mine) == 0 {
				continue
			}
			if err := m.SubscribeMQTTSession(q.ctx, q.cid, se.ClientID, mine); err != nil {
				return nil, mqttError(err)
			}
			for _, sub := range mine {
				b, _ := json.Marshal(subscriptionView(se.ClientID, sub))
				out = append(out, b)
			}
		}
		return result(out), nil
	case http.MethodDelete:
		var picked []mqttSubscriptionView
		if len(s) == 1 {
			var err error
			if _, picked, _, err = pick(); err != nil {
				return nil, err
			}
		} else {
			raws, err := q.items()
			if err != nil {
				return nil, errf(http.StatusBadRequest, "DELETE …/subscriptions/{selector}, or a body [{\"topic\":…}]: %v", err)
			}
			var topics []string
			for _, raw := range raws {
				var si subscriptionInput
				if err := decodeStrict(raw, &si); err != nil {
					return nil, err
				}
				topics = append(topics, si.Topic)
			}
			for _, v := range views {
				if slices.Contains(topics, v.Topic) {
					picked = append(picked, v)
				}
			}
		}
		var out [][]byte
		for _, se := range sessions {
			var filters []string
			for _, v := range picked {
				if v.ClientID == se.ClientID {
					filters = append(filters, v.Topic)
				}
			}
			if len(filters) == 0 {
				continue
			}
			removed, err := m.UnsubscribeMQTTSession(q.ctx, q.cid, se.ClientID, filters)
			if err != nil && !errors.Is(err, embedded.ErrNoSession) {
				return nil, mqttError(err)
			}
			for _, f := range removed {
				b, _ := json.Marshal(map[string]string{"client_id": se.ClientID, "topic": f})
				out = append(out, b)
			}
		}
		return result(out), nil
	}
	return nil, q.methodNotAllowed()
}

// --- messages ----------------------------------------------------------------

// mqttMessageInput is a message to publish.
type mqttMessageInput struct {
	Topic                 string            `json:"topic"`
	Payload               json.RawMessage   `json:"payload"`
	PayloadBase64         *string           `json:"payload_base64"`
	QoS                   byte              `json:"qos"`
	Retained              bool              `json:"retained"`
	UserProperties        map[string]string `json:"user_properties"`
	ContentType           string            `json:"content_type"`
	ResponseTopic         string            `json:"response_topic"`
	CorrelationData       []byte            `json:"correlation_data"` // base64
	MessageExpiryInterval int64             `json:"message_expiry_interval"`
}

type mqttMessageView struct {
	Topic                 string            `json:"topic"`
	Payload               *string           `json:"payload,omitempty"`
	PayloadBase64         *string           `json:"payload_base64,omitempty"`
	QoS                   byte              `json:"qos"`
	Retained              bool              `json:"retained"`
	Created               float64           `json:"created,omitempty"`
	UserProperties        map[string]string `json:"user_properties,omitempty"`
	ContentType           string            `json:"content_type,omitempty"`
	ResponseTopic         string            `json:"response_topic,omitempty"`
	CorrelationData       []byte            `json:"correlation_data,omitempty"`
	MessageExpiryInterval int64             `json:"message_expiry_interval,omitempty"`
}

func messageView(m *broker.Message, created time.Time) mqttMessageView {
	v := mqttMessageView{Topic: m.Topic, QoS: m.QoS, Retained: m.Retain, ContentType: m.Properties.ContentType,
		ResponseTopic: m.Properties.ResponseTopic, CorrelationData: m.Properties.CorrelationData,
		MessageExpiryInterval: int64(m.Properties.Expiry / time.Second)}
	if utf8.Valid(m.Payload) {
		p := string(m.Payload)
		v.Payload = &p
	} else {
		p := base64.StdEncoding.EncodeToString(m.Payload)
		v.PayloadBase64 = &p
	}
	if !created.IsZero() {
		v.Created = float64(created.UnixMicro()) / 1e6
	}
	if len(m.Properties.UserProperties) > 0 {
		v.UserProperties = make(map[string]string, len(m.Properties.UserProperties))
		for _, u := range m.Properties.UserProperties {
			v.UserProperties[u.Key] = u.Value // a repeated key shows its last value
		}
	}
	return v
}

// mqttMessages serves /mqtt/messages[/{topic}].
func (q *request) mqttMessages(s []string) ([]byte, error) {
	if len(s) == 0 {
		if q.method != http.MethodPost {
			return nil, errf(http.StatusMethodNotAllowed, "%s /mqtt/messages: GET and DELETE name a topic (or all)", q.method)
		}
		return q.publishMQTT()
	}
	m, err := q.mqttAdmin()
	if err != nil {
		return nil, err
	}
	filter := strings.Join(s, "/")
	if filter == "all" {
		filter = "#"
	}
	if err := q.maySubscribe(filter, q.method == http.MethodDelete); err != nil {
		return nil, err
	}
	query, err := selector.ParseQuery("all", q.query)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "%v", err)
	}
	query.Selector = nil
	msgs, err := m.MQTTRetained(q.cid, filter)
	if err != nil {
		return nil, mqttError(err)
	}
	switch q.method {
	case http.MethodGet:
		items := make([][]byte, len(msgs))
		for i := range msgs {
			items[i], _ = json.Marshal(messageView(&msgs[i].Message, msgs[i].Created))
		}
		return query.Apply(items), nil
	case http.MethodDelete:
		var topics []string
		for _, msg := range msgs {
			if !strings.HasPrefix(msg.Topic, platformPrefix) { // the gateway's own state stays
				topics = append(topics, msg.Topic)
			}
		}
		deleted, err := m.DeleteMQTTRetained(q.ctx, q.cid, topics)
		if err != nil {
			return nil, mqttError(err)
		}
		items := make([][]byte, len(deleted))
		for i, t := range deleted {
			items[i], _ = json.Marshal(map[string]string{"topic": t})
		}
		return result(items), nil
	}
	return nil, q.methodNotAllowed()
}

// publishMQTT serves POST /mqtt/messages.
func (q *request) publishMQTT() ([]byte, error) {
	m, ok := q.api.Live.(MQTTAdmin)
	if !ok {
		return nil, errf(http.StatusNotImplemented, "this gateway has no MQTT broker")
	}
	return q.create(func(raw json.RawMessage) ([]byte, error) {
		var in mqttMessageInput
		if err := decodeStrict(raw, &in); err != nil {
			return nil, err
		}
		msg, err := in.message()
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(msg.Topic, platformPrefix) {
			return nil, errf(http.StatusForbidden, "%q: topics under %s are the platform's", msg.Topic, platformPrefix)
		}
		if err := q.mayPublish(msg.Topic); err != nil {
			return nil, err
		}
		if err := m.PublishMQTT(q.ctx, q.cid, msg); err != nil {
			return nil, mqttError(err)
		}
		v := messageView(&msg, time.Time{})
		v.Payload, v.PayloadBase64 = nil, nil // echoing a large payload helps nobody
		b, _ := json.Marshal(v)
		return b, nil
	})
}

func (in *mqttMessageInput) message() (broker.Message, error) {
	m := broker.Message{Topic: in.Topic, QoS: in.QoS, Retain: in.Retained}
	if err := broker.ValidateTopic(in.Topic); err != nil {
		return m, errf(http.StatusBadRequest, "%v", err)
	}
	if in.QoS > 2 {
		return m, errf(http.StatusBadRequest, "qos %d: 0, 1 or 2", in.QoS)
	}
	p := strings.TrimSpace(string(in.Payload))
	switch {
	case in.PayloadBase64 != nil && p != "":
		return m, errf(http.StatusBadRequest, "payload and payload_base64 both given")
	case in.PayloadBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*in.PayloadBase64)
		if err != nil {
			return m, errf(http.StatusBadRequest, "payload_base64: %v", err)
		}
		m.Payload = b
	case p == "" || p == "null":
	case p[0] == '"':
		var s string
		if err := json.Unmarshal(in.Payload, &s); err != nil {
			return m, errf(http.StatusBadRequest, "payload: %v", err)
		}
		m.Payload = []byte(s)
	default: // any other JSON value is sent as its text
		m.Payload = []byte(p)
	}
	if in.MessageExpiryInterval < 0 {
		return m, errf(http.StatusBadRequest, "message_expiry_interval must not be negative")
	}
	pr := &m.Properties
	pr.ContentType, pr.ResponseTopic, pr.CorrelationData = in.ContentType, in.ResponseTopic, in.CorrelationData
	pr.Expiry = time.Duration(in.MessageExpiryInterval) * time.Second
	if pr.ResponseTopic != "" {
		if err := broker.ValidateTopic(pr.ResponseTopic); err != nil {
			return m, errf(http.StatusBadRequest, "response_topic: %v", err)
		}
	}
	keys := make([]string, 0, len(in.UserProperties))
	for k := range in.UserProperties {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order for subscribers
	for _, k := range keys {
		pr.UserProperties = append(pr.UserProperties, broker.UserProperty{Key: k, Value: in.UserProperties[k]})
	}
	return m, nil
}
