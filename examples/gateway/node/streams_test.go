package node_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/wialonretranslator"
)

// counter counts messages that arrive somewhere.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add(k int) { c.mu.Lock(); c.n += k; c.mu.Unlock() }
func (c *counter) get() int  { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// sendPositions has a Teltonika tracker send n records and returns the
// channel's id.
func sendPositions(t *testing.T, g *gateway, n int) int64 {
	t.Helper()
	tr := dial(t, device.Teltonika, g.channelAddr(device.Teltonika), 42)
	for range n {
		if _, err := send(tr); err != nil {
			t.Fatal(err)
		}
	}
	id, _ := g.Registry.Channels.Lookup("name=" + device.Teltonika)
	return id
}

func createStream(t *testing.T, g *gateway, s map[string]any) {
	t.Helper()
	if status, out := g.rest("POST", "/gw/streams", []map[string]any{s}); status != 200 {
		t.Fatalf("POST /gw/streams %v: %d %v", s, status, out)
	}
}

// Streams of every protocol the gateway offers, each to its real target.
func TestStreamProtocols(t *testing.T) {
	const n = 5
	t.Run("mqtt on the gateway's broker", func(t *testing.T) {
		g := start(t, testConfig(t))
		var got counter
		sub, err := g.Broker.Subscribe(context.Background(), "fleet/#", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
			got.add(1)
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe(context.Background())
		createStream(t, g, map[string]any{"name": "m", "protocol_name": "mqtt", "channels": []int{1},
			"configuration": map[string]any{"topic": "fleet/%ident%"}})
		sendPositions(t, g, n)
		waitFor(t, "MQTT messages", func() bool { return got.get() >= n })
	})
	t.Run("mqtt on an external broker", func(t *testing.T) {
		addr := testenv.MQTTAddr(t)
		g := start(t, testConfig(t))
		sub, err := paho.New(context.Background(), paho.Config{Server: addr, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		topic := fmt.Sprintf("gnssgate-test/%d", time.Now().UnixNano())
		var got counter
		if _, err := sub.Subscribe(context.Background(), topic+"/#", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
			got.add(1)
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		createStream(t, g, map[string]any{"name": "x", "protocol_name": "mqtt", "channels": []int{1},
			"configuration": map[string]any{"uri": "mqtt://" + addr, "topic": topic + "/%ident%"}})
		sendPositions(t, g, n)
		waitFor(t, "messages on the external broker", func() bool { return got.get() >= n })
	})
	t.Run("wialon-retranslator", func(t *testing.T) {
		g := start(t, testConfig(t))
		var got counter
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &channel.Server{Codec: &wialonretranslator.Codec{}, Logger: quiet,
			Handler: channel.HandlerFunc(func(_ context.Context, _ *channel.Conn, msgs []protocol.Message) error {
				got.add(len(msgs))
				return nil
			})}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go srv.Serve(ctx, ln)
		createStream(t, g, map[string]any{"name": "w", "protocol_name": "wialon-retranslator", "channels": []int{1},
			"configuration": map[string]any{"uri": ln.Addr().String()}})
		sendPositions(t, g, n)
		waitFor(t, "Wialon packets", func() bool { return got.get() >= n })
	})
	t.Run("amqp", func(t *testing.T) {
		url := testenv.AMQPURL(t)
		conn, err := amqp.Dial(url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got counter
		go func() {
			for range deliveries {
				got.add(1)
			}
		}()
		g := start(t, testConfig(t))
		createStream(t, g, map[string]any{"name": "a", "protocol_name": "amqp", "channels": []int{1},
			"configuration": map[string]any{"uri": url, "routing_key": q.Name}})
		sendPositions(t, g, n)
		waitFor(t, "AMQP messages", func() bool { return got.get() >= n })
	})
}
