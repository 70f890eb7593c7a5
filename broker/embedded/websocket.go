package embedded

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocketHandler returns an http.Handler that upgrades requests to
// WebSocket (subprotocol "mqtt", binary frames, RFC 6455) and serves MQTT
// on them. Mount it on an http.Server for ws://, or on one with TLS for
// wss://. Browsers' Origin headers are not checked: MQTT authentication
// is the client's credentials, not cookies. Connections count against
// MaxConnections like TCP ones.
func (s *Server) WebSocketHandler() http.Handler {
	up := websocket.Upgrader{
		Subprotocols:    []string{"mqtt", "mqttv3.1"},
		CheckOrigin:     func(*http.Request) bool { return true },
		ReadBufferSize:  2048,
		WriteBufferSize: 2048,
		// An idle connection holds no write buffer: one is taken from the
		// pool for each write.
		WriteBufferPool: wsWriteBuffers,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ctx.Err() != nil {
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client
		}
		ws.SetReadLimit(int64(s.lim.maxPacket) + 16)
		s.ServeConn(newWSConn(ws))
	})
}

var wsWriteBuffers = &sync.Pool{}

// wsConn presents a WebSocket as the byte stream MQTT expects: MQTT packets
// may span frames and a frame may hold several packets.
type wsConn struct {
	ws *websocket.Conn
	r  io.Reader
	wm sync.Mutex
}

func newWSConn(ws *websocket.Conn) *wsConn { return &wsConn{ws: ws} }

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, &ProtocolError{Code: 0x82, Packet: "websocket", Err: errTextFrame}
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if err == io.EOF {
			c.r = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wm.Lock()
	defer c.wm.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error                       { return c.ws.Close() }
func (c *wsConn) LocalAddr() net.Addr                { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr               { return c.ws.RemoteAddr() }
func (c *wsConn) SetReadDeadline(t time.Time) error  { return c.ws.SetReadDeadline(t) }
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }
func (c *wsConn) SetDeadline(t time.Time) error {
	c.ws.SetReadDeadline(t)
	return c.ws.SetWriteDeadline(t)
}
