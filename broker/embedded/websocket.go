package embedded

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/internal/wsstream"
)

// WebSocketHandler returns an http.Handler that upgrades requests to
// WebSocket (subprotocol "mqtt", binary frames, RFC 6455) and serves MQTT
// on them. Mount it on an http.Server for ws://, or on one with TLS for
// wss://. Browsers' Origin headers are not checked: MQTT authentication
// is the client's credentials, not cookies. Connections count against
// MaxConnections like TCP ones.
//
// gorilla/websocket answers the handshake; the frames are read by
// internal/wsstream's ServerConn, which holds no buffer between frames and
// hands out the socket, so an idle WebSocket connection is parked like a
// TCP one (park.go).
func (s *Server) WebSocketHandler() http.Handler {
	up := websocket.Upgrader{
		Subprotocols: []string{"mqtt", "mqttv3.1"},
		CheckOrigin:  func(*http.Request) bool { return true },
		// Zero sizes and no pool: gorilla reuses the HTTP server's
		// buffers for the handshake instead of allocating its own, and
		// its Conn is dropped after it.
	}
	cfg := s.wsConfig()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ctx.Err() != nil {
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client
		}
		// Upgrade refuses a client that sent bytes before the handshake
		// was answered, so nothing is buffered past it: the frames are
		// all still in the socket.
		s.ServeConn(wsConn{wsstream.NewServerConn(ws.NetConn(), cfg)})
	})
}

// ServeWebSocket accepts MQTT-over-WebSocket connections on ln (wrap it in
// tls.NewListener for wss://) until ctx ends or the server is closed, like
// Serve. Each connection's opening handshake is read and answered by the
// connection itself (internal/wsstream.Accept) when it starts, within
// Config.ConnectTimeout, with subprotocol "mqtt" (or "mqttv3.1") and any
// request path. Compared with WebSocketHandler on an http.Server, it
// leaves no per-connection garbage from net/http (two 4 KB buffers a
// hijacked connection never gives back, the parsed request), which keeps
// a server accepting thousands of clients at a smaller heap.
func (s *Server) ServeWebSocket(ctx context.Context, ln net.Listener) error {
	return s.Serve(ctx, wsListener{ln, s.wsConfig()})
}

func (s *Server) wsConfig() *wsstream.ServerConfig {
	return &wsstream.ServerConfig{MaxMessage: int64(s.lim.maxPacket) + 16, BinaryOnly: true,
		Subprotocols: []string{"mqtt", "mqttv3.1"}}
}

// wsListener hands out connections whose WebSocket handshake their first
// read performs, so that a slow client does not hold up Accept.
type wsListener struct {
	net.Listener
	cfg *wsstream.ServerConfig
}

func (l wsListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return wsConn{wsstream.Accept(nc, l.cfg)}, nil
}

// wsConn is a WebSocket as the byte stream MQTT expects
// (internal/wsstream); a text frame is the protocol error MQTT 5.0 §6 says
// it is. Its NetConn (the connection under the WebSocket) is what parkable
// watches.
type wsConn struct{ *wsstream.ServerConn }

func (c wsConn) Read(p []byte) (int, error) {
	n, err := c.ServerConn.Read(p)
	if errors.Is(err, wsstream.ErrTextFrame) {
		err = &ProtocolError{Code: 0x82, Packet: "websocket", Err: errTextFrame}
	}
	return n, err
}
