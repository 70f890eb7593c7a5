package paho

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/internal/testproxy"
)

// A stored PUBLISH comes back as the packet that was stored, even after
// the publisher reused its buffers, and in the order stored.
func TestClientStore(t *testing.T) {
	s := newClientStore()
	payload := []byte(`{"a":1}`)
	corr := []byte("corr")
	format := byte(1)
	p := &packets.Publish{Topic: "fleet/1", QoS: 1, PacketID: 9, Payload: payload,
		Properties: &packets.Properties{ContentType: "application/json", PayloadFormat: &format, CorrelationData: corr,
			User: []packets.User{{Key: "message_id", Value: "x:1"}}}}
	var want bytes.Buffer
	if _, err := p.WriteTo(&want); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(9, packets.PUBLISH, p); err != nil {
		t.Fatal(err)
	}
	copy(payload, "XXXXXXX") // the caller reuses its memory
	copy(corr, "YYYY")
	rel := packets.NewControlPacket(packets.PUBREL)
	rel.Content.(*packets.Pubrel).PacketID = 3
	if err := s.Put(3, packets.PUBREL, rel); err != nil {
		t.Fatal(err)
	}
	ids, err := s.List()
	if err != nil || len(ids) != 2 || ids[0] != 9 || ids[1] != 3 {
		t.Fatalf("List = %v, %v; want [9 3]", ids, err)
	}
	r, err := s.Get(9)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(r)
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("Get(9) = % x\nwant      % x", got.Bytes(), want.Bytes())
	}
	cp, err := packets.ReadPacket(&got)
	if err != nil {
		t.Fatal(err)
	}
	if pub := cp.Content.(*packets.Publish); string(pub.Payload) != `{"a":1}` || pub.PacketID != 9 {
		t.Fatalf("decoded %+v", pub)
	}
	r, err = s.Get(3)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := packets.ReadPacket(r); err != nil || cp.Type != packets.PUBREL {
		t.Fatalf("Get(3): %v, %v", cp, err)
	}
	if err := s.Delete(9); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(9); err == nil {
		t.Error("deleting a packet twice succeeded")
	}
	if _, err := s.Get(9); err == nil {
		t.Error("Get of a deleted packet succeeded")
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.List(); len(ids) != 0 {
		t.Fatalf("after Reset: %v", ids)
	}
}

// A PUBLISH whose PUBACK the lost connection took with it is resent from
// the store on the next connection, and Publish returns nil then.
func TestClientStoreResend(t *testing.T) {
	proxy := testproxy.New(t, testenv.MQTTAddr(t))
	pub := newTestBroker(t, Config{Server: proxy.Addr(), ReconnectMin: 20 * time.Millisecond})
	defer pub.Close()
	sub := newTestBroker(t, Config{})
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	topic := "gnssgate-test/" + uuid.NewString() + "/resend"
	got := make(chan string, 4)
	if _, err := sub.Subscribe(ctx, topic, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- string(m.Payload)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	proxy.Pause(true) // the PUBLISH stays in the proxy, no PUBACK comes
	payload := []byte("in flight")
	done := make(chan error, 1)
	go func() { done <- pub.Publish(ctx, broker.Message{Topic: topic, Payload: payload, QoS: 1}) }()
	for {
		pub.store.mu.Lock()
		n := len(pub.store.data)
		pub.store.mu.Unlock()
		if n == 1 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Publish returned %v while the network was silent", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	proxy.SetDown(true) // the bytes in the proxy are lost with the connection
	proxy.Pause(false)
	proxy.SetDown(false)
	if err := <-done; err != nil {
		t.Fatalf("Publish: %v", err)
	}
	select {
	case p := <-got:
		if p != "in flight" {
			t.Fatalf("got %q", p)
		}
	case <-ctx.Done():
		t.Fatal("the stored PUBLISH was not resent")
	}
	if pub.ups.Load() < 2 {
		t.Fatal("no reconnection happened")
	}
}
