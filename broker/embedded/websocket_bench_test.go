package embedded

import (
	"bufio"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/broker"
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
	timePublishQoS1(b, r, inflight)
}
