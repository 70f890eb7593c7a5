package channel

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/protocol"
)

func TestMQTTChannelOverEmbeddedBroker(t *testing.T) {
	b := embedded.New(&embedded.Config{Logger: quietLogger()})
	defer b.Close()

	var mu sync.Mutex
	var got []protocol.Message
	var conns []string
	calls := 0
	failFirst := true
	h := HandlerFunc(func(_ context.Context, c *Conn, msgs []protocol.Message) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if failFirst {
			failFirst = false
			return errors.New("store down") // no ack: the broker redelivers
		}
		conns = append(conns, c.Network()+" "+c.RemoteAddr().String()+" "+c.Ident())
		for i := range msgs {
			got = append(got, msgs[i].Clone())
		}
		return nil
	})
	byTopic := &MQTT{Broker: b, Topics: []string{"devices/+/data"}, IdentTopicLevel: 2, Handler: h, ChannelID: 9, Logger: quietLogger()}
	byField := &MQTT{Broker: b, Topics: []string{"fleet/#"}, IdentField: "imei", Handler: h, Logger: quietLogger()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- byTopic.Run(ctx) }()
	go func() { errc <- byField.Run(ctx) }()
	// Run subscribes asynchronously: publish until the first delivery lands.
	waitFor(t, "subscriptions", func() bool {
		b.Publish(ctx, broker.Message{Topic: "devices/probe/data", QoS: 0, Payload: []byte(`{"probe":true}`)})
		b.Publish(ctx, broker.Message{Topic: "fleet/probe", QoS: 0, Payload: []byte(`{"probe":true}`)})
		time.Sleep(10 * time.Millisecond)
		return byTopic.Stats().Requests > 0 && byField.Stats().Requests > 0
	})
	mu.Lock()
	got, conns, calls, failFirst = nil, nil, 0, true
	mu.Unlock()
	base, fieldBase := byTopic.Stats(), byField.Stats()

	pub := func(topic, payload string) {
		t.Helper()
		if err := b.Publish(ctx, broker.Message{Topic: topic, QoS: 1, Payload: []byte(payload)}); err != nil {
			t.Fatal(err)
		}
	}
	pub("devices/abc/data", `{"timestamp":"2024-01-02T03:04:05Z","temp":21.5,"ident":"ignored"}`)
	waitFor(t, "the redelivered message", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	mu.Lock()
	if calls != 2 || got[0].Ident() != "abc" || conns[0] != "mqtt devices/abc/data abc" {
		t.Fatalf("calls %d, message %s, conns %v", calls, &got[0], conns)
	}
	if ts, _ := got[0].Float("timestamp"); ts != 1704164645 {
		t.Fatalf("timestamp %v", ts)
	}
	if id, _ := got[0].Int("channel.id"); id != 9 || !got[0].Has("server.timestamp") {
		t.Fatalf("stamps: %s", &got[0])
	}
	mu.Unlock()

	pub("fleet/x", `[{"imei":"356307042441013","speed":1},{"imei":356307042441014,"speed":2}]`)
	waitFor(t, "the array", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	mu.Lock()
	if got[1].Ident() != "356307042441013" || got[2].Ident() != "356307042441014" {
		t.Fatalf("idents %s %s", &got[1], &got[2])
	}
	mu.Unlock()

	pub("fleet/bad", `{"speed":1}`) // no imei: dropped, acknowledged
	pub("fleet/bad", `not json`)
	waitFor(t, "rejections", func() bool { return byField.Stats().Rejected-fieldBase.Rejected == 2 })
	if st := byTopic.Stats(); st.MessagesAcked-base.MessagesAcked != 1 || st.HandlerErrors-base.HandlerErrors != 1 {
		t.Fatalf("stats %+v base %+v", st, base)
	}
	cancel()
	for range 2 {
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
	}
}

func TestMQTTRunNeedsConfig(t *testing.T) {
	if err := (&MQTT{}).Run(context.Background()); !errors.Is(err, ErrNoHandler) {
		t.Fatal(err)
	}
}
