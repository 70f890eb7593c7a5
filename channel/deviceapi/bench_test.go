package deviceapi

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/mochi-mqtt/server/v2/packets"
)

var benchPayload = []byte(`{"temperature":21.5,"humidity":40,"speed":61,"ignition":true}`)

// benchBroker serves the device API (device token "DEV") next to a plain
// token ("APP", everything allowed) on one embedded broker, and counts
// what reaches the channel handler and an in-process subscriber of "in/#".
func benchBroker(b *testing.B) (addr string, telemetry, plain *atomic.Int64) {
	telemetry, plain = new(atomic.Int64), new(atomic.Int64)
	creds := &MemoryCredentials{}
	creds.SetToken("DEV", Device{Ident: "bench-device"})
	api := &API{Credentials: creds, Logger: slog.New(slog.DiscardHandler),
		Handler: channel.HandlerFunc(func(_ context.Context, _ *channel.Conn, msgs []protocol.Message) error {
			telemetry.Add(int64(len(msgs)))
			return nil
		})}
	var tokens embedded.TokenStore
	tokens.Set("APP", &embedded.Token{Name: "app", Publish: []string{"#"}, Subscribe: []string{"#"}})
	srv := embedded.New(&embedded.Config{Authenticator: api.Authenticator(&tokens), MaxQueuedBytes: 1 << 30,
		Logger: slog.New(slog.DiscardHandler)})
	api.Broker = srv
	b.Cleanup(func() { srv.Close() })
	if _, err := srv.Subscribe(context.Background(), "in/#", broker.HandlerFunc(func(context.Context, broker.Message) error {
		plain.Add(1)
		return nil
	})); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(context.Background(), ln)
	return ln.Addr().String(), telemetry, plain
}

// pipelined publishes b.N QoS 1 messages to topic from one MQTT 3.1.1
// connection with 64 unacknowledged at most, and waits until count has
// seen them all.
func pipelined(b *testing.B, addr, user, topic string, count *atomic.Int64) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	cp := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4}
	cp.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, ClientIdentifier: "bench-" + user,
		Username: []byte(user), UsernameFlag: true}
	var buf bytes.Buffer
	cp.ConnectEncode(&buf)
	nc.Write(buf.Bytes())
	br := bufio.NewReader(nc)
	ack := make([]byte, 4)
	if _, err := io.ReadFull(br, ack); err != nil || ack[3] != 0 {
		b.Fatalf("CONNACK % x, %v", ack, err)
	}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: 4,
		TopicName: topic, Payload: benchPayload, PacketID: 1}
	buf.Reset()
	pk.PublishEncode(&buf)
	frame := buf.Bytes()
	idAt := len(frame) - len(benchPayload) - 2

	window := make(chan struct{}, 64)
	go func() {
		for {
			if _, err := io.ReadFull(br, ack); err != nil {
				return
			}
			<-window
		}
	}()
	w := bufio.NewWriter(nc)
	start := count.Load()
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := uint16(i%65535 + 1)
		frame[idAt], frame[idAt+1] = byte(id>>8), byte(id)
		select {
		case window <- struct{}{}:
		default:
			w.Flush()
			window <- struct{}{}
		}
		w.Write(frame)
	}
	w.Flush()
	deadline := time.Now().Add(30 * time.Second)
	for count.Load()-start < int64(b.N) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
	b.StopTimer()
	if got := count.Load() - start; got < int64(b.N) {
		b.Fatalf("%d of %d delivered", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkTelemetryQoS1: a device publishing telemetry (QoS 1, 64 in
// flight) through the device API into a channel handler; each PUBACK
// follows the handler's return.
func BenchmarkTelemetryQoS1(b *testing.B) {
	addr, telemetry, _ := benchBroker(b)
	pipelined(b, addr, "DEV", TopicTelemetry, telemetry)
}

// BenchmarkPlainPublishQoS1: the same payload, QoS 1 and window, published
// by an ordinary client to a normal topic of the same broker and routed to
// an in-process subscriber.
func BenchmarkPlainPublishQoS1(b *testing.B) {
	addr, _, plain := benchBroker(b)
	pipelined(b, addr, "APP", "in/1", plain)
}

// BenchmarkParseTelemetry: the parser alone, on the same payload.
func BenchmarkParseTelemetry(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	now := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := ParseTelemetry(benchPayload, now); err != nil {
			b.Fatal(err)
		}
	}
}
