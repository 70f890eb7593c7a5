package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

func TestProtocolErrorsDisconnect(t *testing.T) {
	_, addr := startServer(t, &Config{AllowAnonymous: true, MaxPacketSize: 1024})
	connect311 := []byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 0}
	cases := []struct {
		name  string
		bytes []byte
	}{
		{"first packet not CONNECT", []byte{0xC0, 0}},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n")},
		{"remaining length over 4 bytes", []byte{0x10, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"oversize CONNECT", append([]byte{0x10, 0x80, 0x10}, make([]byte, 2048)...)},
		{"bad protocol name", []byte{0x10, 12, 0, 4, 'M', 'Q', 'X', 'X', 4, 2, 0, 30, 0, 0}},
		{"truncated CONNECT", []byte{0x10, 4, 0, 4, 'M', 'Q'}},
		{"reserved connect flag", []byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 3, 0, 30, 0, 0}},
		{"second CONNECT", append(append([]byte{}, connect311...), connect311...)},
		{"PUBLISH QoS 3", append(append([]byte{}, connect311...), 0x36, 5, 0, 1, 'a', 0, 1)},
		{"SUBSCRIBE bad flags", append(append([]byte{}, connect311...), 0x80, 6, 0, 1, 0, 1, 'a', 0)},
		{"PUBLISH wildcard topic", append(append([]byte{}, connect311...), 0x30, 3, 0, 1, '#')},
		{"PUBLISH QoS 1 id 0", append(append([]byte{}, connect311...), 0x32, 5, 0, 1, 'a', 0, 0)},
		{"oversize PUBLISH", append(append([]byte{}, connect311...), append([]byte{0x30, 0x80, 0x10, 0, 1, 'a'}, make([]byte, 2045)...)...)},
		{"PINGREQ with body", append(append([]byte{}, connect311...), 0xC0, 1, 0)},
		{"reserved type 0", append(append([]byte{}, connect311...), 0x00, 0)},
		{"SUBSCRIBE no filters", append(append([]byte{}, connect311...), 0x82, 2, 0, 1)},
		{"SUBSCRIBE invalid UTF-8", append(append([]byte{}, connect311...), 0x82, 7, 0, 1, 0, 2, 0xff, 0xfe, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, addr)
			r.send(tc.bytes)
			// Whatever the server answers (CONNACK, DISCONNECT), it must close.
			r.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 4096)
			for {
				_, err := r.nc.Read(buf)
				if err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						t.Fatal("connection still open")
					}
					return
				}
			}
		})
	}
}

func TestMQTT5DisconnectReasons(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, &Config{AllowAnonymous: true, MaxPacketSize: 256})
	r := dialRaw(t, addr)
	r.v = 5
	ca := r.connect("big", true, 30, nil)
	if ca.Properties.MaximumPacketSize != 256 || ca.Properties.ReceiveMaximum != 1024 {
		t.Fatalf("CONNACK properties %+v", ca.Properties)
	}
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "a", Payload: make([]byte, 300)})
	if code := r.expectClosed(); code != 0x95 {
		t.Fatalf("DISCONNECT reason 0x%x, want 0x95 packet too large", code)
	}
	r = dialRaw(t, addr)
	r.v = 5
	r.connect("alias", true, 30, nil)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "", Payload: []byte("x")}
	pk.Properties.TopicAlias, pk.Properties.TopicAliasFlag = 7, true
	r.sendPacket(pk)
	if code := r.expectClosed(); code != 0x82 {
		t.Fatalf("unknown alias: reason 0x%x, want 0x82", code)
	}
}

func TestTopicAliases(t *testing.T) {
	_, addr := startServer(t, nil)
	sub := dialRaw(t, addr)
	sub.v = 5
	sub.connect("alias-sub", true, 30, func(pk *packets.Packet) { pk.Properties.TopicAliasMaximum = 4 })
	sub.subscribe(1, packets.Subscription{Filter: "long/topic/name", Qos: 0})
	pub := dialRaw(t, addr)
	pub.v = 5
	pub.connect("alias-pub", true, 30, nil)
	for i, topic := range []string{"long/topic/name", ""} {
		pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: topic, Payload: []byte{byte(i)}}
		pk.Properties.TopicAlias, pk.Properties.TopicAliasFlag = 3, true
		pub.sendPacket(pk)
	}
	a, b := sub.read(), sub.read()
	if a.TopicName != "long/topic/name" || a.Properties.TopicAlias != 1 {
		t.Fatalf("first delivery: topic %q alias %d", a.TopicName, a.Properties.TopicAlias)
	}
	if b.TopicName != "" || b.Properties.TopicAlias != 1 || !bytes.Equal(b.Payload, []byte{1}) {
		t.Fatalf("second delivery should use the alias alone: topic %q alias %d", b.TopicName, b.Properties.TopicAlias)
	}
}

func TestReceiveMaximumFlowControl(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("flow", true, 30, func(pk *packets.Packet) { pk.Properties.ReceiveMaximum = 2 })
	r.subscribe(1, packets.Subscription{Filter: "f", Qos: 1})
	for i := 0; i < 5; i++ {
		s.Publish(context.Background(), broker.Message{Topic: "f", QoS: 1, Payload: []byte{byte(i)}})
	}
	a, b := r.read(), r.read()
	r.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := r.br.ReadByte(); err == nil {
		t.Fatal("third message sent beyond Receive Maximum 2")
	}
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: a.PacketID})
	if c := r.read(); c.FixedHeader.Type != packets.Publish || c.Payload[0] != 2 {
		t.Fatalf("after one PUBACK want message 2, got %+v", c)
	}
	_ = b
}

func TestMaximumPacketSizeOutbound(t *testing.T) {
	s, addr := startServer(t, nil)
	c, _ := dialPaho(t, addr, &paho.Connect{CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{MaximumPacketSize: u32(100)}})
	c.sub(t, paho.SubscribeOptions{Topic: "m", QoS: 1})
	s.Publish(context.Background(), broker.Message{Topic: "m", QoS: 1, Payload: make([]byte, 200)})
	s.Publish(context.Background(), broker.Message{Topic: "m", QoS: 1, Payload: []byte("small")})
	if m := c.next(t); string(m.Payload) != "small" {
		t.Fatalf("got %d bytes; the oversize message must be skipped", len(m.Payload))
	}
}

func TestServerKeepAlive(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, &Config{AllowAnonymous: true, ServerKeepAlive: time.Second})
	r := dialRaw(t, addr)
	r.v = 5
	ca := r.connect("ka", true, 120, nil)
	if !ca.Properties.ServerKeepAliveFlag || ca.Properties.ServerKeepAlive != 1 {
		t.Fatalf("server keep alive %+v", ca.Properties)
	}
	start := time.Now()
	code := r.expectClosed()
	if d := time.Since(start); d < time.Second || d > 3*time.Second || code != 0x8D {
		t.Fatalf("idle client closed after %v with 0x%x, want ~1.5 s and 0x8D", d, code)
	}
}

func TestMaxConnections(t *testing.T) {
	_, addr := startServer(t, &Config{AllowAnonymous: true, MaxConnections: 2})
	dialPaho(t, addr, nil)
	dialPaho(t, addr, nil)
	r := dialRaw(t, addr)
	r.nc.Write([]byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 0})
	if pk := r.read(); pk != nil {
		t.Fatalf("third connection got %+v", pk)
	}
}

func TestMaxSubscriptions(t *testing.T) {
	_, addr := startServer(t, &Config{AllowAnonymous: true, MaxSubscriptions: 2})
	c, _ := dialPaho(t, addr, nil)
	sa := c.sub(t, paho.SubscribeOptions{Topic: "a"}, paho.SubscribeOptions{Topic: "b"}, paho.SubscribeOptions{Topic: "c"})
	if sa.Reasons[0] != 0 || sa.Reasons[1] != 0 || sa.Reasons[2] != 0x97 {
		t.Fatalf("reasons %v", sa.Reasons)
	}
}

// TestSlowConsumerBounded: a subscriber that never reads must not make the
// broker buffer more than MaxQueuedBytes (plus what the kernel holds).
func TestSlowConsumerBounded(t *testing.T) {
	const maxQueued = 1 << 20
	s, addr := startServer(t, &Config{AllowAnonymous: true, MaxQueuedBytes: maxQueued})
	r := dialRaw(t, addr)
	r.connect("slow", true, 0, nil)
	r.subscribe(1, packets.Subscription{Filter: "flood", Qos: 1})
	if tc, ok := r.nc.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	payload := make([]byte, 1024)
	ctx := context.Background()
	for i := 0; i < 50_000; i++ { // 50 MB offered
		s.Publish(ctx, broker.Message{Topic: "flood", QoS: byte(i % 2), Payload: payload})
	}
	s.mu.Lock()
	se := s.sessions["slow"]
	s.mu.Unlock()
	se.mu.Lock()
	queued, dropped := se.queuedBytes, se.dropped
	se.mu.Unlock()
	if queued > maxQueued {
		t.Fatalf("queued %d bytes > MaxQueuedBytes %d", queued, maxQueued)
	}
	if dropped == 0 {
		t.Fatal("nothing dropped although the consumer never reads")
	}
	if n := s.Stats().MessagesDropped; n != uint64(dropped) {
		t.Fatalf("Stats().MessagesDropped = %d, the session dropped %d", n, dropped)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 16<<20 {
		t.Fatalf("heap grew by %d MiB for a stalled consumer", grow>>20)
	}
}

func TestAuthentication(t *testing.T) {
	var store TokenStore
	store.Set("secret-token", &Token{Name: "t1", Publish: []string{"dev/+/up"}, Subscribe: []string{"dev/#"}})
	_, addr := startServer(t, &Config{Authenticator: &store})
	cases := []struct {
		name string
		cp   paho.Connect
		code byte
	}{
		{"token as username", paho.Connect{Username: "secret-token", UsernameFlag: true}, 0},
		{"token as password", paho.Connect{Username: "x", UsernameFlag: true, Password: []byte("secret-token"), PasswordFlag: true}, 0},
		{"bad token", paho.Connect{Username: "nope", UsernameFlag: true}, 0x86},
		{"anonymous refused", paho.Connect{}, 0x87},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			c := paho.NewClient(paho.ClientConfig{Conn: nc})
			tc.cp.CleanStart, tc.cp.KeepAlive = true, 30
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			ca, err := c.Connect(ctx, &tc.cp)
			if tc.code == 0 && err != nil {
				t.Fatalf("connect: %v", err)
			}
			if tc.code != 0 && (ca == nil || ca.ReasonCode != tc.code) {
				t.Fatalf("connack %+v err %v, want 0x%x", ca, err, tc.code)
			}
		})
	}
	c, _ := dialPaho(t, addr, &paho.Connect{Username: "secret-token", UsernameFlag: true, CleanStart: true, KeepAlive: 30})
	sa := c.sub(t, paho.SubscribeOptions{Topic: "dev/+/up", QoS: 1}, paho.SubscribeOptions{Topic: "other/#", QoS: 1},
		paho.SubscribeOptions{Topic: "#", QoS: 1})
	if sa.Reasons[0] != 1 || sa.Reasons[1] != 0x87 || sa.Reasons[2] != 0x87 {
		t.Fatalf("suback %v", sa.Reasons)
	}
	ctx := context.Background()
	pr, err := c.Publish(ctx, &paho.Publish{Topic: "dev/1/down", QoS: 1, Payload: []byte("x")})
	if err == nil && pr.ReasonCode != 0x87 {
		t.Fatalf("unauthorized publish: %+v", pr)
	}
	c.pub(t, &paho.Publish{Topic: "dev/1/up", QoS: 1, Payload: []byte("ok")})
	if m := c.next(t); m.Topic != "dev/1/up" {
		t.Fatalf("got %s", m.Topic)
	}
}

func TestAuthorizerRefusalCodes(t *testing.T) {
	_, addr := startServer(t, &Config{AllowAnonymous: true, Authorizer: AuthorizerFunc(
		func(_ context.Context, _ *Client, topic string, write bool) error {
			if !write && topic == "test/nosubscribe" {
				return errors.New("refused")
			}
			return nil
		})})
	c, _ := dialPaho(t, addr, nil)
	if sa := c.sub(t, paho.SubscribeOptions{Topic: "test/nosubscribe", QoS: 2}); sa.Reasons[0] != 0x80 {
		t.Fatalf("reason 0x%x, want 0x80", sa.Reasons[0])
	}
	r := dialRaw(t, addr)
	r.connect("v3refused", true, 30, nil)
	if sa := r.subscribe(1, packets.Subscription{Filter: "test/nosubscribe", Qos: 1}); sa.ReasonCodes[0] != 0x80 {
		t.Fatalf("3.1.1 reason 0x%x", sa.ReasonCodes[0])
	}
}

func TestReservedPrefixAndREST(t *testing.T) {
	var got RESTRequest
	s, addr := startServer(t, &Config{AllowAnonymous: true, REST: RESTHandlerFunc(func(_ context.Context, r RESTRequest) RESTResponse {
		got = r
		return RESTResponse{Status: 200, Body: []byte(`{"result":[]}`)}
	})})
	col := newCollector()
	mustSub(t, s, "flespi/#", col)
	c, _ := dialPaho(t, addr, nil)
	c.sub(t, paho.SubscribeOptions{Topic: "my/resp", QoS: 1})
	c.pub(t, &paho.Publish{Topic: "flespi/state/gw/devices/1/x", QoS: 1, Payload: []byte("spoof"), Retain: true})
	select {
	case m := <-col.ch:
		t.Fatalf("client publish under flespi/ delivered: %s", m.Topic)
	case <-time.After(100 * time.Millisecond):
	}
	if s.retained.len() != 0 {
		t.Fatal("client publish under flespi/ retained")
	}
	c.pub(t, &paho.Publish{Topic: "flespi/rest/get/gw/devices/all", QoS: 1, Payload: []byte("{}"),
		Properties: &paho.PublishProperties{ResponseTopic: "my/resp", CorrelationData: []byte("c1")}})
	m := c.next(t)
	if string(m.Payload) != `{"result":[]}` || string(m.Properties.CorrelationData) != "c1" || m.Properties.User.Get("http_code") != "200" {
		t.Fatalf("REST answer %q %+v", m.Payload, m.Properties)
	}
	if got.Method != "get" || got.URI != "gw/devices/all" || got.Client == nil {
		t.Fatalf("REST request %+v", got)
	}
	// In-process publishes under flespi/ are the platform's own.
	s.Publish(context.Background(), broker.Message{Topic: "flespi/state/gw/devices/1/connected", Payload: []byte("true")})
	if m := col.next(t); !strings.HasSuffix(m.Topic, "connected") {
		t.Fatalf("got %s", m.Topic)
	}
}

func TestConnState(t *testing.T) {
	events := make(chan string, 10)
	_, addr := startServer(t, &Config{AllowAnonymous: true, ConnState: func(c *Client, st ConnState, err error) {
		events <- c.ID + " " + st.String()
	}})
	c, _ := dialPaho(t, addr, &paho.Connect{ClientID: "ev", CleanStart: true, KeepAlive: 30})
	c.Disconnect(&paho.Disconnect{})
	for _, want := range []string{"ev connected", "ev disconnected"} {
		select {
		case e := <-events:
			if e != want {
				t.Fatalf("event %q, want %q", e, want)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no %q event", want)
		}
	}
}

func TestCloseDisconnectsClients(t *testing.T) {
	s := New(&Config{AllowAnonymous: true})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(context.Background(), ln)
	c, _ := dialPaho(t, ln.Addr().String(), nil)
	s.Close()
	select {
	case d := <-c.disc:
		if d.ReasonCode != 0x8B {
			t.Fatalf("reason 0x%x", d.ReasonCode)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no DISCONNECT on Close")
	}
	if err := s.Publish(context.Background(), broker.Message{Topic: "x"}); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestZeroLengthClientID(t *testing.T) {
	_, addr := startServer(t, nil)
	for _, v := range []byte{4, 5} {
		r := dialRaw(t, addr)
		r.v = v
		// 3.1.1 refuses it with return code 2 [MQTT-3.1.3-8]; MQTT 5 assigns
		// an ID (see TestMQTT5EmptyClientIDPersistent).
		if ca := r.connect("", false, 30, nil); v == 4 && ca.ReasonCode != 2 {
			t.Fatalf("v%d: empty client ID with a persistent session: %+v", v, ca)
		}
		r = dialRaw(t, addr)
		r.v = v
		ca := r.connect("", true, 30, nil)
		if ca.ReasonCode != 0 || (v == 5 && !strings.HasPrefix(ca.Properties.AssignedClientID, "auto-")) {
			t.Fatalf("v%d: clean connect with empty ID: %+v", v, ca)
		}
	}
}

// A client pinging just inside a short keep-alive stays connected.
func TestKeepAliveHonoured(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.connect("pinger", true, 1, nil)
	for i := 0; i < 3; i++ {
		time.Sleep(900 * time.Millisecond)
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
			t.Fatalf("ping %d: %+v", i, pk)
		}
	}
}

func TestTopicAliasZeroRefused(t *testing.T) {
	_, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("alias0", true, 30, nil)
	// PUBLISH QoS 1 "a", id 1, properties: Topic Alias 0, payload "x".
	r.send([]byte{0x32, 10, 0, 1, 'a', 0, 1, 3, 0x23, 0, 0, 'x'})
	if code := r.expectClosed(); code != 0x94 {
		t.Fatalf("reason 0x%x, want 0x94 topic alias invalid", code)
	}
}

// Many offline persistent sessions cannot add up to more than
// MaxTotalQueuedBytes, and the counters return to zero.
func TestTotalQueuedBound(t *testing.T) {
	const total = 256 << 10
	s, addr := startServer(t, &Config{AllowAnonymous: true, MaxTotalQueuedBytes: total})
	for i := 0; i < 20; i++ {
		r := dialRaw(t, addr)
		r.connect(fmt.Sprintf("offline-%d", i), false, 0, nil)
		r.subscribe(1, subOpt("bulk", 1))
		r.nc.Close()
	}
	time.Sleep(100 * time.Millisecond)
	for i := 0; i < 2000; i++ {
		s.Publish(context.Background(), broker.Message{Topic: "bulk", QoS: 1, Payload: make([]byte, 512)})
	}
	if q := s.queuedTotal.Load(); q > total || q < total/2 {
		t.Fatalf("queued %d bytes in total, bound %d", q, total)
	}
	s.mu.Lock()
	var sum int
	for _, se := range s.sessions {
		se.mu.Lock()
		sum += se.queuedBytes
		se.mu.Unlock()
	}
	s.mu.Unlock()
	if int64(sum) != s.queuedTotal.Load() {
		t.Fatalf("sessions hold %d bytes, total counter says %d", sum, s.queuedTotal.Load())
	}
	// A client resuming its session drains its share.
	s.mu.Lock()
	se := s.sessions["offline-0"]
	s.mu.Unlock()
	se.mu.Lock()
	n := se.queue.len()
	se.mu.Unlock()
	r := dialRaw(t, addr)
	r.connect("offline-0", false, 0, nil)
	for i := 0; i < n; i++ {
		pk := r.read()
		if pk == nil || pk.FixedHeader.Type != packets.Publish {
			t.Fatalf("message %d of %d: %+v", i, n, pk)
		}
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		se.mu.Lock()
		left := se.queuedBytes
		se.mu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still accounted after every message was acknowledged", left)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A client that publishes QoS 1 without ever reading, while subscribed to
// its own topic: the writer blocks on the socket, PUBACKs pile up until the
// reader waits for room, and once the write times out the connection must
// be torn down completely (reader released, session ended), not hang.
func TestNonReadingPublisherIsDropped(t *testing.T) {
	s, addr := startServer(t, &Config{AllowAnonymous: true, WriteTimeout: 300 * time.Millisecond})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	nc.Write([]byte{0x10, 15, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 3, 'n', 'r', 'p'})
	nc.Write([]byte{0x82, 6, 0, 1, 0, 1, 'x', 0})
	pub := append([]byte{0x32, 0x85, 0x08, 0, 1, 'x', 0, 0}, make([]byte, 1024)...)
	go func() {
		for i := 1; i <= 200_000; i++ {
			pub[6], pub[7] = byte(i>>8), byte(i)
			if pub[6] == 0 && pub[7] == 0 {
				pub[7] = 1
			}
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := nc.Write(pub); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		_, still := s.sessions["nrp"]
		s.mu.Unlock()
		if !still && s.nconns.Load() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection still served (%d) or session kept (%v) 15 s after its writes stalled", s.nconns.Load(), still)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStreamIntegrity pipelines QoS 1 publishes to a topic the same client
// subscribes to: the writer interleaves PUBACKs and deliveries, and every
// PUBACK id and every delivered payload must come back intact and in order.
func TestStreamIntegrity(t *testing.T) {
	_, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.connect("integrity", true, 0, nil)
	r.subscribe(1, subOpt("echo", 0))
	const n = 20_000
	errc := make(chan error, 1)
	go func() {
		var buf []byte
		for i := 1; i <= n; i++ {
			id := uint16(i%65000 + 1)
			buf = append(buf, 0x32, 2+4+2+8, 0, 4, 'e', 'c', 'h', 'o', byte(id>>8), byte(id))
			buf = binary.BigEndian.AppendUint64(buf, uint64(i))
			if len(buf) > 16<<10 || i == n {
				r.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := r.nc.Write(buf); err != nil {
					errc <- err
					return
				}
				buf = buf[:0]
			}
		}
		errc <- nil
	}()
	acks, msgs := 0, 0
	for acks < n || msgs < n {
		pk := r.read()
		if pk == nil {
			t.Fatalf("connection ended after %d acks, %d messages", acks, msgs)
		}
		switch pk.FixedHeader.Type {
		case packets.Puback:
			acks++
			if want := uint16(acks%65000 + 1); pk.PacketID != want {
				t.Fatalf("PUBACK %d has id %d, want %d", acks, pk.PacketID, want)
			}
		case packets.Publish:
			msgs++
			if pk.TopicName != "echo" || len(pk.Payload) != 8 || binary.BigEndian.Uint64(pk.Payload) != uint64(msgs) {
				t.Fatalf("message %d: topic %q payload % x", msgs, pk.TopicName, pk.Payload)
			}
		default:
			t.Fatalf("unexpected packet %d", pk.FixedHeader.Type)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
