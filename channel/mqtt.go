package channel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// DefaultMaxPayload bounds an MQTT channel payload when [MQTT.MaxPayload]
// is zero.
const DefaultMaxPayload = 1 << 20

// MQTT is flespi's MQTT channel: it subscribes to topics through a
// [broker.Broker] (the embedded broker, or an external one through the
// paho adapter) and turns each JSON payload (an object or an array of
// objects) into messages, with the same rules as the [HTTP] channel. The
// ident comes from a payload field or from a level of the topic.
//
// Acknowledgement follows the [broker.Handler] contract: a QoS 1 or 2
// message is acknowledged only after Handler accepted its messages, so a
// handler error leaves it to the broker to redeliver. A payload that
// breaks the rules is logged, counted and acknowledged: redelivering it
// would not make it valid.
//
// *MQTT is itself a broker.Handler, for callers who subscribe it
// themselves; [MQTT.Run] subscribes it to Topics.
type MQTT struct {
	// Broker to subscribe through; required by Run.
	Broker broker.Broker
	// Topics are the MQTT filters to subscribe to ("devices/+/telemetry",
	// "$share/gw/trackers/#"); required by Run.
	Topics []string
	// Handler receives each payload's messages in one call; required.
	Handler Handler
	// ChannelID and ProtocolID are stamped as "channel.id" and
	// "protocol.id"; zero leaves them out.
	ChannelID, ProtocolID int64
	// IdentField names the payload parameter that holds the ident; ""
	// means "ident". Ignored when IdentTopicLevel is set.
	IdentField string
	// IdentTopicLevel, when positive, takes the ident from that level of
	// the topic, counting from 1: with 2, "devices/356307042441013/data"
	// gives "356307042441013". It overrides any ident in the payload.
	IdentTopicLevel int
	// MaxPayload bounds a payload; 0 means [DefaultMaxPayload].
	MaxPayload int
	// MaxMessages bounds the messages in one payload; 0 means no limit
	// beyond MaxPayload.
	MaxMessages int
	// Logger receives the channel's logs; nil means slog.Default().
	Logger *slog.Logger

	stats ingestCounters
}

// Stats returns the channel's counters.
func (m *MQTT) Stats() IngestStats { return m.stats.snapshot() }

func (m *MQTT) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

// Run subscribes to Topics and delivers until ctx ends; it then
// unsubscribes and returns ctx.Err(). A failed subscription is returned at
// once, after undoing the others.
func (m *MQTT) Run(ctx context.Context) error {
	if m.Handler == nil || m.Broker == nil {
		return ErrNoHandler
	}
	if len(m.Topics) == 0 {
		return errors.New("channel: MQTT channel has no topics")
	}
	var subs []broker.Subscription
	unsubscribe := func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, s := range subs {
			if err := s.Unsubscribe(uctx); err != nil {
				m.logger().Warn("channel: MQTT unsubscribe failed", "filter", s.Filter(), "err", err)
			}
		}
	}
	for _, t := range m.Topics {
		s, err := m.Broker.Subscribe(ctx, t, m)
		if err != nil {
			unsubscribe()
			return fmt.Errorf("channel: subscribing to %q: %w", t, err)
		}
		subs = append(subs, s)
	}
	<-ctx.Done()
	unsubscribe()
	return ctx.Err()
}

// HandleMessage implements [broker.Handler].
func (m *MQTT) HandleMessage(ctx context.Context, bm broker.Message) error {
	m.stats.requests.Add(1)
	if m.Handler == nil {
		return ErrNoHandler
	}
	max := m.MaxPayload
	if max <= 0 {
		max = DefaultMaxPayload
	}
	if len(bm.Payload) > max {
		m.reject(bm, fmt.Errorf("%w: payload of %d bytes, the limit is %d", ErrBadMessage, len(bm.Payload), max))
		return nil
	}
	forced := ""
	if lvl := m.IdentTopicLevel; lvl > 0 {
		levels := strings.Split(bm.Topic, "/")
		if len(levels) < lvl || levels[lvl-1] == "" {
			m.reject(bm, fmt.Errorf("%w: topic has no level %d to take the ident from", ErrBadMessage, lvl))
			return nil
		}
		forced = levels[lvl-1]
	}
	now := time.Now()
	rules := jsonRules{identField: m.IdentField, maxMsgs: m.MaxMessages}
	msgs, err := rules.decode(bm.Payload, forced, now)
	if err != nil {
		m.reject(bm, err)
		return nil
	}
	c := &Conn{network: "mqtt", remote: topicAddr(bm.Topic), since: now}
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	c.last.Store(now.UnixNano())
	if id := sameIdent(msgs); id != "" {
		c.ident.Store(&id)
	}
	c.msgsIn.Store(uint64(len(msgs)))
	c.bytesIn.Store(uint64(len(bm.Payload)))
	stampMessages(msgs, float64(now.UnixMicro())/1e6, m.ChannelID, m.ProtocolID, "", "")
	if err := m.Handler.HandleMessages(c.ctx, c, msgs); err != nil {
		m.stats.handlerErrors.Add(1)
		m.logger().Warn("channel: handler refused MQTT messages; not acknowledged", "topic", bm.Topic, "qos", bm.QoS, "messages", len(msgs), "err", err)
		return err
	}
	m.stats.acked.Add(uint64(len(msgs)))
	return nil
}

func (m *MQTT) reject(bm broker.Message, err error) {
	m.stats.rejected.Add(1)
	m.logger().Warn("channel: bad MQTT payload dropped", "topic", bm.Topic, "err", err)
}

// topicAddr is the "remote address" of an MQTT delivery: its topic.
type topicAddr string

func (topicAddr) Network() string  { return "mqtt" }
func (a topicAddr) String() string { return string(a) }
