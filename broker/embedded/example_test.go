package embedded_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
)

// The in-process path: no socket, the Server is a broker.Broker.
func ExampleServer_Subscribe() {
	srv := embedded.New(nil)
	defer srv.Close()
	ctx := context.Background()

	got := make(chan broker.Message)
	sub, err := srv.Subscribe(ctx, "flespi/state/gw/devices/+/telemetry/#",
		broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
			got <- m
			return nil
		}))
	if err != nil {
		panic(err)
	}
	defer sub.Unsubscribe(ctx)

	srv.Publish(ctx, broker.Message{Topic: "flespi/state/gw/devices/7/telemetry/position.speed",
		Payload: []byte("42"), QoS: 1, Retain: true})
	m := <-got
	fmt.Println(m.Topic, string(m.Payload))
	// Output: flespi/state/gw/devices/7/telemetry/position.speed 42
}

// Serving MQTT on TCP, with tokens as credentials, and a client using it.
func ExampleServer_Serve() {
	var tokens embedded.TokenStore
	tokens.Set("secret", &embedded.Token{Name: "tracker-app",
		Publish: []string{"devices/+/up"}, Subscribe: []string{"devices/#"}})
	srv := embedded.New(&embedded.Config{Authenticator: &tokens})
	defer srv.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, ln)

	// An MQTT 5 client presenting the token as its username.
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	got := make(chan *paho.Publish, 1)
	c := paho.NewClient(paho.ClientConfig{Conn: nc,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			got <- pr.Packet
			return true, nil
		}}})
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	defer ccancel()
	if _, err := c.Connect(cctx, &paho.Connect{Username: "secret", UsernameFlag: true, CleanStart: true, KeepAlive: 30}); err != nil {
		panic(err)
	}
	defer c.Disconnect(&paho.Disconnect{})
	c.Subscribe(cctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "devices/#", QoS: 1}}})
	c.Publish(cctx, &paho.Publish{Topic: "devices/7/up", QoS: 1, Payload: []byte("hello")})
	m := <-got
	fmt.Println(m.Topic, string(m.Payload))

	// Outside the token's rights: refused with reason 0x87.
	sa, _ := c.Subscribe(cctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "other/#"}}})
	fmt.Printf("0x%x\n", sa.Reasons[0])
	// Output:
	// devices/7/up hello
	// 0x87
}

// A broker on a data directory: a retained message published before a
// restart is there after it.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "mqtt-data")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	srv, err := embedded.Open(&embedded.Config{DataDir: dir})
	if err != nil {
		panic(err)
	}
	srv.Publish(ctx, broker.Message{Topic: "fleet/7/state", Payload: []byte("parked"), QoS: 1, Retain: true})
	// Sync returns once what was published before it is on disk.
	if err := srv.Sync(ctx); err != nil {
		panic(err)
	}
	srv.Close()

	srv, err = embedded.Open(&embedded.Config{DataDir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	got := make(chan broker.Message, 1)
	sub, _ := srv.Subscribe(ctx, "fleet/#", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- m
		return nil
	}))
	defer sub.Unsubscribe(ctx)
	m := <-got
	fmt.Println(m.Topic, string(m.Payload))
	// Output: fleet/7/state parked
}

// Stats is what the "$SYS/broker/…" topics publish and what a program
// exports to its metrics.
func ExampleServer_Stats() {
	srv := embedded.New(&embedded.Config{SysInterval: -1})
	defer srv.Close()
	ctx := context.Background()
	srv.Publish(ctx, broker.Message{Topic: "a/b", Payload: []byte("kept"), Retain: true})
	st := srv.Stats()
	fmt.Println(st.MessagesReceived, st.Retained, st.RetainedBytes, st.ClientsConnected)
	// Output: 1 1 7 0
}
