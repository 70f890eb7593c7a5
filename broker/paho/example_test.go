package paho_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
)

// Connect to an MQTT 5 broker, subscribe with a flespi comma list and
// publish. (Needs a broker on 127.0.0.1:1883, so it has no Output.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := paho.New(ctx, paho.Config{
		Server:   "mqtt://127.0.0.1:1883",
		ClientID: "gateway-1", // resume this session after a restart
	})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	got := make(chan broker.Message, 1)
	_, err = b.Subscribe(ctx, "example/devices/1,2,3/telemetry/+", broker.HandlerFunc(
		func(ctx context.Context, m broker.Message) error {
			got <- m
			return nil // a non-nil error withholds the PUBACK: the broker redelivers
		}))
	if err != nil {
		log.Fatal(err)
	}
	// QoS 1: Publish returns after the broker's PUBACK.
	if err := b.Publish(ctx, broker.Message{Topic: "example/devices/2/telemetry/speed", Payload: []byte("42"), QoS: 1}); err != nil {
		log.Fatal(err)
	}
	m := <-got
	fmt.Println(m.Topic, string(m.Payload))
}
