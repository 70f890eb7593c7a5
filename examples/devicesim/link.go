package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// message is an application message the device received.
type message struct {
	topic   string
	payload []byte
}

// link is the device's MQTT connection: MQTT 3.1.1 (internal/mqtt311) or
// 5 (paho.golang). Publishes are QoS 1 and return after the PUBACK.
type link interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, filters ...string) error
	Messages() <-chan message
	// Done is closed when the connection has ended.
	Done() <-chan struct{}
	Close() error
}

// dialOptions say how the device connects.
type dialOptions struct {
	addr      string
	version   byte // 4 or 5
	clientID  string
	username  string // the access token, or the basic user name
	password  string
	tls       *tls.Config // nil: plain TCP
	keepAlive time.Duration
}

// refusedError is a CONNACK refusal, with its code.
type refusedError struct {
	version byte
	code    byte
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("connection refused: MQTT %d code 0x%02x", e.version, e.code)
}

func dial(ctx context.Context, o dialOptions) (link, error) {
	var nc net.Conn
	var err error
	d := net.Dialer{Timeout: 10 * time.Second}
	if o.tls != nil {
		nc, err = (&tls.Dialer{NetDialer: &d, Config: o.tls}).DialContext(ctx, "tcp", o.addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", o.addr)
	}
	if err != nil {
		return nil, err
	}
	var pw []byte
	if o.password != "" {
		pw = []byte(o.password)
	}
	if o.version == 4 {
		c, _, err := mqtt311.Connect(ctx, nc, mqtt311.Options{ClientID: o.clientID, Username: o.username,
			Password: pw, KeepAlive: o.keepAlive})
		var re *mqtt311.RefusedError
		if errors.As(err, &re) {
			return nil, &refusedError{4, re.Code}
		}
		if err != nil {
			return nil, err
		}
		l := &link311{c: c, msgs: make(chan message, 64)}
		go func() {
			defer close(l.msgs)
			for m := range c.Messages() {
				l.msgs <- message{m.Topic, m.Payload}
			}
		}()
		return l, nil
	}
	l := &link5{msgs: make(chan message, 64), done: make(chan struct{})}
	// paho writes a packet in several Writes, and its pinger writes from
	// another goroutine: over TLS they would interleave without the lock.
	l.c = paho.NewClient(paho.ClientConfig{Conn: packets.NewThreadSafeConn(nc),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			l.msgs <- message{pr.Packet.Topic, pr.Packet.Payload}
			return true, nil
		}},
		OnClientError:      func(error) { l.end() },
		OnServerDisconnect: func(*paho.Disconnect) { l.end() },
	})
	ca, err := l.c.Connect(ctx, &paho.Connect{ClientID: o.clientID, CleanStart: true,
		KeepAlive: uint16(o.keepAlive / time.Second), Username: o.username, UsernameFlag: o.username != "",
		Password: pw, PasswordFlag: pw != nil})
	if err != nil {
		nc.Close()
		if ca != nil {
			return nil, &refusedError{5, ca.ReasonCode}
		}
		return nil, err
	}
	return l, nil
}

type link311 struct {
	c    *mqtt311.Client
	msgs chan message
}

func (l *link311) Publish(ctx context.Context, topic string, payload []byte) error {
	return l.c.Publish(ctx, topic, payload, 1, false)
}

func (l *link311) Subscribe(ctx context.Context, filters ...string) error {
	subs := make([]mqtt311.Subscription, len(filters))
	for i, f := range filters {
		subs[i] = mqtt311.Subscription{Filter: f, QoS: 1}
	}
	codes, err := l.c.Subscribe(ctx, subs...)
	if err != nil {
		return err
	}
	for i, c := range codes {
		if c >= 0x80 {
			return fmt.Errorf("subscription to %s refused", filters[i])
		}
	}
	return nil
}

func (l *link311) Messages() <-chan message { return l.msgs }
func (l *link311) Done() <-chan struct{}    { return l.c.Done() }
func (l *link311) Close() error             { return l.c.Disconnect() }

type link5 struct {
	c       *paho.Client
	msgs    chan message
	done    chan struct{}
	endOnce sync.Once
}

func (l *link5) end() { l.endOnce.Do(func() { close(l.done) }) }

func (l *link5) Publish(ctx context.Context, topic string, payload []byte) error {
	pr, err := l.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload})
	if err != nil {
		return err
	}
	if pr != nil && pr.ReasonCode >= 0x80 {
		return fmt.Errorf("publish to %s refused: reason 0x%02x", topic, pr.ReasonCode)
	}
	return nil
}

func (l *link5) Subscribe(ctx context.Context, filters ...string) error {
	opts := make([]paho.SubscribeOptions, len(filters))
	for i, f := range filters {
		opts[i] = paho.SubscribeOptions{Topic: f, QoS: 1}
	}
	sa, err := l.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: opts})
	if sa == nil {
		return err
	}
	for i, c := range sa.Reasons {
		if c >= 0x80 {
			return fmt.Errorf("subscription to %s refused: reason 0x%02x", filters[i], c)
		}
	}
	return nil
}

func (l *link5) Messages() <-chan message { return l.msgs }
func (l *link5) Done() <-chan struct{}    { return l.done }
func (l *link5) Close() error             { return l.c.Disconnect(&paho.Disconnect{}) }
