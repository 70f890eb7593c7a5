package metrics

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
)

// brokerSource is a node without channels or store: the Snapshot of an
// embedded broker, as the node builds it (node.Snapshot.Broker).
type brokerSource struct{ s *embedded.Server }

func (b brokerSource) Snapshot(context.Context) (node.Snapshot, error) {
	st := b.s.Stats()
	return node.Snapshot{Broker: &st}, nil
}

// The broker's sessions and messages reach /metrics from a real broker.
func TestBrokerMetrics(t *testing.T) {
	s := embedded.New(&embedded.Config{AllowAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(context.Background(), ln)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	got := make(chan broker.Message, 10)
	if _, err := s.Subscribe(ctx, "m/#", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- m
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	for _, p := range []broker.Message{{Topic: "m/1", Payload: []byte("a")}, {Topic: "m/2", Payload: []byte("bb"), Retain: true}} {
		if err := s.Publish(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("message not delivered")
		}
	}
	// One network client (MQTT 3.1.1 CONNECT, client ID "m").
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte("\x10\x0d\x00\x04MQTT\x04\x02\x00\x1e\x00\x01m")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(nc, make([]byte, 4)); err != nil {
		t.Fatalf("no CONNACK: %v", err)
	}
	reg, _ := New(brokerSource{s})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				values[mf.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				values[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"gnssgate_broker_messages_received_total": 2, "gnssgate_broker_messages_sent_total": 2,
		"gnssgate_broker_retained_messages": 1, "gnssgate_broker_retained_bytes": float64(len("m/2bb")),
		"gnssgate_broker_sessions": 1, "gnssgate_broker_subscriptions": 1, "gnssgate_broker_clients_connected": 1,
		"gnssgate_broker_filter_over_budget_total": 0, "gnssgate_broker_messages_dropped_total": 0,
	} {
		if got, ok := values[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
}
