package deviceapi_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/channel/deviceapi"
	"github.com/gnssgate/gnssgate/protocol"
)

// A ThingsBoard device publishes telemetry with its access token; the
// message reaches the channel handler, and the device's PUBACK waits for
// it.
func Example() {
	devices := &deviceapi.MemoryCredentials{}
	devices.SetToken("A1_TEST_TOKEN", deviceapi.Device{Ident: "356307042441013"})

	got := make(chan protocol.Message, 1)
	api := &deviceapi.API{
		Credentials: devices,
		ChannelID:   1,
		Handler: channel.HandlerFunc(func(_ context.Context, _ *channel.Conn, msgs []protocol.Message) error {
			for _, m := range msgs {
				got <- m.Clone() // a real handler stores them: channel.LogHandler
			}
			return nil
		}),
	}
	srv := embedded.New(&embedded.Config{Authenticator: api.Authenticator(nil)})
	defer srv.Close()
	api.Broker = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(context.Background(), ln)

	// The device, as any ThingsBoard SDK does it.
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	dev := paho.NewClient(paho.ClientConfig{Conn: nc})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := dev.Connect(ctx, &paho.Connect{ClientID: "tracker", CleanStart: true, KeepAlive: 30,
		Username: "A1_TEST_TOKEN", UsernameFlag: true}); err != nil {
		panic(err)
	}
	defer dev.Disconnect(&paho.Disconnect{})
	if _, err := dev.Publish(ctx, &paho.Publish{Topic: "v1/devices/me/telemetry", QoS: 1,
		Payload: []byte(`{"ts":1700000000000,"values":{"temperature":21.5,"door":"open"}}`)}); err != nil {
		panic(err)
	}
	m := <-got
	ts, _ := m.Timestamp()
	temp, _ := m.Float("temperature")
	door, _ := m.Str("door")
	fmt.Println(m.Ident(), ts, temp, door)
	// Output: 356307042441013 1.7e+09 21.5 open
}

// The embedding program calls a device's RPC method and awaits the answer.
func ExampleAPI_Call() {
	api := &deviceapi.API{RPCTimeout: 50 * time.Millisecond}
	srv := embedded.New(&embedded.Config{Authenticator: api.Authenticator(nil)})
	defer srv.Close()
	api.Broker = srv
	// No device is connected: the request waits in no session and the
	// call times out.
	_, err := api.Call(context.Background(), "356307042441013", "setGpio", map[string]any{"pin": 4, "value": 1})
	fmt.Println(err)
	// Output: deviceapi: RPC call timed out
}
