package platform_test

import (
	"context"
	"fmt"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/examples/gateway/platform"
)

// A parameter name as a topic level: flespi's "din#1" is no wildcard.
func ExampleTopicLevel() {
	fmt.Println(platform.StatePrefix + "devices/7/telemetry/" + platform.TopicLevel("din#1"))
	// Output: flespi/state/gw/devices/7/telemetry/din%231
}

// An object's state as retained topics, one per property.
func ExampleState_Object() {
	b := embedded.New(nil)
	defer b.Close()
	ctx := context.Background()
	s := &platform.State{Broker: b}
	s.Object(ctx, "channels", 1, nil, []byte(`{"name":"fleet"}`))

	got := make(chan broker.Message, 1)
	sub, _ := b.Subscribe(ctx, "flespi/state/gw/channels/1/#", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- m
		return nil
	}))
	defer sub.Unsubscribe(ctx)
	m := <-got
	fmt.Println(m.Topic, string(m.Payload), m.Retain)
	// Output: flespi/state/gw/channels/1/name "fleet" true
}
