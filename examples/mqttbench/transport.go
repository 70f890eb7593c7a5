package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/internal/wsstream"
)

func checkTransport(t string) error {
	switch t {
	case "", "tcp", "tls", "ws":
		return nil
	}
	return fmt.Errorf("mqttbench: unknown transport %q (tcp, tls, ws)", t)
}

// wrapTransport runs the idle scenario's TLS or WebSocket handshake on a
// dialled TCP connection. TLS does not verify the broker's certificate:
// the scenario measures the broker's memory, not its identity.
func wrapTransport(ctx context.Context, cfg idleConfig, c net.Conn) (net.Conn, error) {
	switch cfg.Transport {
	case "", "tcp":
		return c, nil
	case "tls":
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	case "ws":
		d := websocket.Dialer{
			NetDialContext:   func(context.Context, string, string) (net.Conn, error) { return c, nil },
			Subprotocols:     []string{"mqtt"},
			HandshakeTimeout: 10 * time.Second,
			ReadBufferSize:   256,
			WriteBufferSize:  256,
		}
		ws, resp, err := d.DialContext(ctx, "ws://"+cfg.Addr+"/mqtt", http.Header{})
		if err != nil {
			c.Close()
			return nil, err
		}
		resp.Body.Close()
		return wsClient{wsstream.New(ws, false)}, nil
	}
	c.Close()
	return nil, fmt.Errorf("mqttbench: unknown transport %q (tcp, tls, ws)", cfg.Transport)
}

// wsClient is the client end of MQTT over WebSocket as a byte stream
// (internal/wsstream) whose read timeouts are os.ErrDeadlineExceeded, what
// countAlive looks for.
type wsClient struct{ *wsstream.Conn }

func (c wsClient) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		// The WebSocket is unusable after it (gorilla's read errors
		// stick), which is fine at the end of a run.
		return n, os.ErrDeadlineExceeded
	}
	return n, err
}
