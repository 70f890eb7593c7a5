package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
)

// The broker over REST (rest.MQTTAdmin): each account works in its own
// namespace (AccountNamespace) of this node's embedded broker. An external
// broker (Config.Broker) takes publishes only.

var _ rest.MQTTAdmin = (*live)(nil)

// errExternalBroker answers what only the embedded broker can do.
var errExternalBroker = fmt.Errorf("node: the bus is an external MQTT broker: %w", broker.ErrUnsupported)

func (l *live) admin() (*embedded.Server, error) {
	if l.n.embedded == nil {
		return nil, errExternalBroker
	}
	return l.n.embedded, nil
}

func (l *live) MQTTSessions(cid int64) ([]embedded.SessionInfo, error) {
	b, err := l.admin()
	if err != nil {
		return nil, err
	}
	return b.Sessions(AccountNamespace(cid))
}

func (l *live) EndMQTTSession(ctx context.Context, cid int64, clientID string) error {
	b, err := l.admin()
	if err != nil {
		return err
	}
	return b.EndSession(ctx, AccountNamespace(cid), clientID)
}

func (l *live) SubscribeMQTTSession(ctx context.Context, cid int64, clientID string, subs []embedded.Subscription) error {
	b, err := l.admin()
	if err != nil {
		return err
	}
	return b.SubscribeSession(ctx, AccountNamespace(cid), clientID, subs...)
}

func (l *live) UnsubscribeMQTTSession(ctx context.Context, cid int64, clientID string, filters []string) ([]string, error) {
	b, err := l.admin()
	if err != nil {
		return nil, err
	}
	return b.UnsubscribeSession(ctx, AccountNamespace(cid), clientID, filters...)
}

func (l *live) MQTTRetained(cid int64, filter string) ([]embedded.RetainedMessage, error) {
	b, err := l.admin()
	if err != nil {
		return nil, err
	}
	return b.Retained(AccountNamespace(cid), filter)
}

func (l *live) DeleteMQTTRetained(ctx context.Context, cid int64, topics []string) ([]string, error) {
	b, err := l.admin()
	if err != nil {
		return nil, err
	}
	return b.DeleteRetained(ctx, AccountNamespace(cid), topics...)
}

// PublishMQTT publishes in account cid's space, with that account's
// "cid" user property in place of any the caller gave: as for its MQTT
// clients, the broker vouches for it.
func (l *live) PublishMQTT(ctx context.Context, cid int64, m broker.Message) error {
	m.Topic = AccountNamespace(cid) + m.Topic
	props := slices.DeleteFunc(slices.Clone(m.Properties.UserProperties), func(u broker.UserProperty) bool { return u.Key == "cid" })
	m.Properties.UserProperties = append(props, cidProperty(cid)...)
	if err := l.n.Broker.Publish(ctx, m); err != nil {
		return err
	}
	// On a data directory the message reaches the sessions' queues with
	// its commit: the REST answer waits for both.
	if s, ok := l.n.Broker.(interface{ Sync(context.Context) error }); ok {
		return s.Sync(ctx)
	}
	return nil
}
