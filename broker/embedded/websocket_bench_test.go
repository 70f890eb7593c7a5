package embedded

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/internal/wsstream"
)

// BenchmarkWSPublishQoS1: BenchmarkTCPPublishQoS1 over WebSocket, one
// MQTT 3.1.1 client publishing QoS 1, 64 publishes in flight, each flush
// of the client's writer one binary message.
func BenchmarkWSPublishQoS1(b *testing.B) { benchWSPublishQoS1(b, 64) }

// BenchmarkWSPublishQoS1InFlight1: the same with one publish in flight.
func BenchmarkWSPublishQoS1InFlight1(b *testing.B) { benchWSPublishQoS1(b, 1) }

func benchWSPublishQoS1(b *testing.B, inflight int) {
	srv := New(&Config{AllowAnonymous: true, MaxQueuedBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	hs := httptest.NewServer(srv.WebSocketHandler())
	defer hs.Close()
	var n atomic.Int64
	mustSub(b, srv, "in/+", broker.HandlerFunc(func(context.Context, broker.Message) error {
		n.Add(1)
		return nil
	}))
	ws, _, err := (&websocket.Dialer{Subprotocols: []string{"mqtt"}}).Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	nc := wsstream.New(ws, false)
	defer nc.Close()
	r := &rawClient{t: b, nc: nc, br: bufio.NewReader(nc), v: 4}
	r.connect("pub", true, 0, nil)
	pkt := []byte{0x32, byte(2 + 4 + 2 + len(payload16)), 0, 4, 'i', 'n', '/', '1', 0, 0}
	pkt = append(pkt, payload16...)
	acks := make(chan struct{}, inflight)
	go func() {
		buf := make([]byte, 4)
		for {
			if _, err := io.ReadFull(r.br, buf); err != nil {
				return
			}
			<-acks
		}
	}()
	w := bufio.NewWriter(nc)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		id := uint16(i%65535 + 1)
		pkt[8], pkt[9] = byte(id>>8), byte(id)
		select {
		case acks <- struct{}{}:
		default:
			w.Flush()
			acks <- struct{}{}
		}
		w.Write(pkt)
	}
	w.Flush()
	for len(acks) > 0 {
		runtimeGosched()
	}
	b.StopTimer()
	// The client and the broker share the process: this is the CPU of both.
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
}
