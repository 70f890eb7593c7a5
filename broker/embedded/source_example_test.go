package embedded_test

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
)

// levels is a program's own state: the latest level of each tank, which it
// keeps anyway. As a RetainedSource it serves "tanks/{name}/level" to
// subscribers without the broker storing a copy of each.
type levels struct {
	mu sync.Mutex
	m  map[string]string
}

func (l *levels) Owns(topic string) bool {
	return strings.HasPrefix(topic, "tanks/") && strings.HasSuffix(topic, "/level")
}

func (l *levels) Retained(_ context.Context, filter string, yield func(broker.Message) bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, v := range l.m {
		// Yielding a topic the filter does not match is harmless (the
		// broker drops it); a large source narrows by the filter first.
		if !yield(broker.Message{Topic: "tanks/" + name + "/level", Payload: []byte(v), QoS: 1}) {
			return nil
		}
	}
	return nil
}

// set commits a new level, then publishes it only if some subscription
// may receive it: later subscribers get it from the source.
func (l *levels) set(ctx context.Context, srv *embedded.Server, name, v string) error {
	l.mu.Lock()
	l.m[name] = v
	l.mu.Unlock()
	topic := "tanks/" + name + "/level"
	if !srv.Subscribed(topic) {
		return nil
	}
	return srv.Publish(ctx, broker.Message{Topic: topic, Payload: []byte(v), QoS: 1, Retain: true})
}

func ExampleRetainedSource() {
	src := &levels{m: map[string]string{}}
	srv := embedded.New(&embedded.Config{RetainedSource: src})
	defer srv.Close()
	ctx := context.Background()

	src.set(ctx, srv, "north", "71") // nobody subscribed: not published
	fmt.Println("received:", srv.Stats().MessagesReceived)

	got := make(chan broker.Message, 1)
	sub, err := srv.Subscribe(ctx, "tanks/+/level", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- m
		return nil
	}))
	if err != nil {
		panic(err)
	}
	defer sub.Unsubscribe(ctx)
	m := <-got // from the source, as a retained message
	fmt.Println(m.Topic, string(m.Payload), m.Retain)

	src.set(ctx, srv, "north", "68") // subscribed now: published live
	m = <-got
	fmt.Println(m.Topic, string(m.Payload), "retained:", srv.Stats().Retained)
	// Output:
	// received: 0
	// tanks/north/level 71 true
	// tanks/north/level 68 retained: 0
}
