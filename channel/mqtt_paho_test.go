package channel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
)

// TestMQTTChannelOverExternalBroker runs the MQTT channel on a real
// Mosquitto through the paho adapter: a QoS 1 payload the handler refuses
// is not acknowledged, so the broker delivers it again.
func TestMQTTChannelOverExternalBroker(t *testing.T) {
	addr := testenv.MQTTAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := paho.New(ctx, paho.Config{Server: addr, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	pub, err := paho.New(ctx, paho.Config{Server: addr, SessionExpiry: -1, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	prefix := fmt.Sprintf("gnssgate-test/channel/%d", time.Now().UnixNano())
	var mu sync.Mutex
	var got []protocol.Message
	var calls atomic.Int32
	h := HandlerFunc(func(_ context.Context, c *Conn, msgs []protocol.Message) error {
		if calls.Add(1) == 1 {
			return errors.New("store down")
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range msgs {
			got = append(got, msgs[i].Clone())
		}
		return nil
	})
	ch := &MQTT{Broker: sub, Topics: []string{prefix + "/+/data"}, IdentTopicLevel: 4, Handler: h, Logger: quietLogger()}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- ch.Run(runCtx) }()
	time.Sleep(300 * time.Millisecond) // let the SUBSCRIBE reach the broker

	if err := pub.Publish(ctx, broker.Message{Topic: prefix + "/dev42/data", QoS: 1, Payload: []byte(`[{"speed":10},{"speed":20}]`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages after %d handler calls: %d (a refused QoS 1 message must come again)", calls.Load(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if got[0].Ident() != "dev42" || got[1].Ident() != "dev42" {
		t.Fatalf("idents: %s %s", &got[0], &got[1])
	}
	mu.Unlock()
	stop()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}
