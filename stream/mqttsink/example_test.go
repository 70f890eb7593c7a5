package mqttsink_test

import (
	"context"
	"fmt"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/mqttsink"
)

// A stream publishes a log's messages to a topic per device. The broker
// here is the embedded one, in process; broker/paho connects the same
// sink to any external MQTT 5 broker.
func Example() {
	srv := embedded.New(nil)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	got := make(chan broker.Message)
	srv.Subscribe(ctx, "fleet/+/messages", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- m
		return nil
	}))

	log := memory.New(nil).Log()
	var m protocol.Message
	m.SetString("ident", "356307042441013")
	m.SetInt("timestamp", 1700000000)
	m.SetFloat("position.speed", 42)
	log.Append(ctx, []protocol.Message{m})

	sink, err := mqttsink.New(&mqttsink.Config{Broker: srv, Topic: "fleet/%ident%/messages"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := stream.New(log, sink, &stream.Config{Name: "fleet", StartAt: stream.StartOldest, LogID: "log-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	go s.Run(ctx)

	msg := <-got
	id, _ := msg.Properties.UserProperty(mqttsink.PropertyMessageID)
	fmt.Println(msg.Topic, string(msg.Payload), id)
	// Output:
	// fleet/356307042441013/messages {"ident":"356307042441013","timestamp":1700000000,"position.speed":42} log-1:1
}
