package channel_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// A Teltonika device logs in with its IMEI, sends one Codec 8 record, and
// gets its ACK (the number of records) because the handler accepted it.
func Example_gateway() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &channel.Server{Codec: &teltonika.Codec{},
		Handler: channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
			for _, m := range msgs {
				lat, _ := m.Float("position.latitude")
				lon, _ := m.Float("position.longitude")
				fmt.Println(c.Ident(), lat, lon)
			}
			return nil // nil: the messages are stored, the device gets its ACK
		})}
	go srv.Serve(ctx, ln)
	defer srv.Close()

	dev, _ := net.Dial("tcp", ln.Addr().String())
	defer dev.Close()
	dev.Write(unhex("000f333536333037303432343431303133")) // IMEI 356307042441013
	fmt.Printf("login % x\n", readN(dev, 1))
	dev.Write(unhex("000000000000003008010000019078358db0011941b81a1941b81a02db0106050000ef0603ef01f00101000342314a43103109002b0000010000c897"))
	fmt.Printf("ack % x\n", readN(dev, 4))
	// Output:
	// login 01
	// 356307042441013 42.373737 42.373737
	// ack 00 00 00 01
}

func unhex(s string) []byte { b, _ := hex.DecodeString(s); return b }

func readN(c net.Conn, n int) []byte {
	b := make([]byte, n)
	io.ReadFull(c, b)
	return b
}

// A command queued for a device that is not connected yet is sent right
// after its login; the device's Codec 12 answer completes the call.
func ExampleServer_Send() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &channel.Server{Codec: &teltonika.Codec{}, Handler: channel.HandlerFunc(
		func(context.Context, *channel.Conn, []protocol.Message) error { return nil })}
	go srv.Serve(ctx, ln)
	defer srv.Close()

	call := srv.Send("356307042441013", protocol.Command{Text: "getio"}, time.Minute)

	dev, _ := net.Dial("tcp", ln.Addr().String())
	defer dev.Close()
	dev.Write(unhex("000f333536333037303432343431303133"))
	readN(dev, 1)                                        // 01: login accepted
	fmt.Printf("device got %s\n", readN(dev, 25)[15:20]) // the Codec 12 packet carries "getio"
	dev.Write(unhex("00000000000000370c01060000002f4449313a31204449323a30204449333a302041494e313a302041494e323a313639323420444f313a3020444f323a3101000066e3"))
	resp, err := call.Wait(ctx)
	fmt.Println(resp.Text, err)
	// Output:
	// device got getio
	// DI1:1 DI2:0 DI3:0 AIN1:0 AIN2:16924 DO1:0 DO2:1 <nil>
}

// The HTTP channel takes flespi's JSON and answers 200 once the handler
// has accepted the messages, 400 with the reason otherwise.
func ExampleHTTP() {
	h := &channel.HTTP{ChannelID: 1, Handler: channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
		for _, m := range msgs {
			v, _ := m.Str("message.type")
			fmt.Println(m.Ident(), v)
		}
		return nil
	})}
	ts := httptest.NewServer(h)
	defer ts.Close()
	for _, body := range []string{
		`[{"ident":"device-ident","timestamp":1702366832.965264,"message.type":"example"}]`,
		`{"timestamp":1702366832}`,
	} {
		resp, _ := http.Post(ts.URL, "application/json", strings.NewReader(body))
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(answer))
	}
	// Output:
	// device-ident example
	// 200 {"accepted":1}
	// 400 {"error":"message 0: channel: bad message: \"ident\" is required"}
}

// The MQTT channel on the embedded broker: the ident is the second level
// of the topic.
func ExampleMQTT() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := embedded.New(&embedded.Config{})
	defer b.Close()
	done := make(chan struct{})
	var once sync.Once
	ch := &channel.MQTT{Broker: b, Topics: []string{"trackers/+/json"}, IdentTopicLevel: 2,
		Handler: channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
			once.Do(func() { // the loop below may publish twice
				speed, _ := msgs[0].Float("position.speed")
				fmt.Println(msgs[0].Ident(), speed)
				close(done)
			})
			return nil // acknowledges the QoS 1 message
		})}
	go ch.Run(ctx)
	for {
		b.Publish(ctx, broker.Message{Topic: "trackers/356307042441013/json", QoS: 1,
			Payload: []byte(`{"timestamp":1702366832,"position.speed":42}`)})
		select {
		case <-done:
			return
		case <-time.After(50 * time.Millisecond): // until Run has subscribed
		}
	}
	// Output:
	// 356307042441013 42
}
