package broker

import (
	"context"
	"time"
)

// Broker is a publish/subscribe bus. Implementations: the embedded MQTT
// broker (broker/embedded), the adapter to an external MQTT 5 broker
// (broker/paho). Every implementation passes broker/brokertest.
//
// All methods are safe for concurrent use.
type Broker interface {
	// Publish sends m. For QoS 1 and 2 it returns after the broker has taken
	// responsibility for the message (PUBACK / PUBCOMP from an external
	// broker; routed to subscribers and queued for offline sessions in the
	// embedded one). It returns ErrClosed after Close.
	Publish(ctx context.Context, m Message) error
	// Subscribe delivers messages matching filter to h until the
	// subscription is removed or the broker closed. filter is an MQTT topic
	// filter, optionally with "$share/group/" and flespi's "$filter/spec/"
	// prefixes and comma lists inside a level (see ParseFilter). Retained
	// messages matching the filter are delivered first.
	Subscribe(ctx context.Context, filter string, h Handler) (Subscription, error)
	// Close releases the broker's resources; later calls return ErrClosed.
	Close() error
}

// Handler receives messages of a subscription. For QoS 1 and 2 messages, a
// nil error acknowledges the message and a non-nil error withholds the
// acknowledgement, so the broker redelivers (where the implementation can:
// an external broker redelivers to a persistent session on reconnect).
//
// A subscription's handler is called from one goroutine at a time, in order;
// different subscriptions' handlers may run concurrently.
type Handler interface {
	HandleMessage(ctx context.Context, m Message) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, m Message) error

// HandleMessage calls f.
func (f HandlerFunc) HandleMessage(ctx context.Context, m Message) error { return f(ctx, m) }

// Subscription is one active subscription.
type Subscription interface {
	// Filter returns the filter as given to Subscribe.
	Filter() string
	// Unsubscribe stops delivery. It is safe to call more than once.
	Unsubscribe(ctx context.Context) error
}

// Message is one MQTT application message.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte // 0, 1 or 2
	Retain  bool
	// Properties are MQTT 5 properties; brokers speaking 3.1.1 drop them.
	Properties Properties
}

// Properties are the MQTT 5 publish properties an application sets or reads.
type Properties struct {
	UserProperties  []UserProperty // ordered; a key may repeat
	ContentType     string
	ResponseTopic   string
	CorrelationData []byte
	// PayloadFormat is 1 when the payload is UTF-8 text.
	PayloadFormat byte
	// Expiry is the message expiry interval; zero means none.
	Expiry time.Duration
}

// UserProperty is one MQTT 5 user property.
type UserProperty struct {
	Key, Value string
}

// UserProperty returns the first value of the user property key.
func (p *Properties) UserProperty(key string) (string, bool) {
	for _, u := range p.UserProperties {
		if u.Key == key {
			return u.Value, true
		}
	}
	return "", false
}
