package embedded

import (
	"errors"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/internal/wsstream"
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

// wsConn presents a WebSocket as the byte stream MQTT expects
// (internal/wsstream); a text frame is the protocol error MQTT 5.0 §6 says
// it is.
type wsConn struct{ *wsstream.Conn }

func newWSConn(ws *websocket.Conn) wsConn { return wsConn{wsstream.New(ws, true)} }

func (c wsConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if errors.Is(err, wsstream.ErrTextFrame) {
		err = &ProtocolError{Code: 0x82, Packet: "websocket", Err: errTextFrame}
	}
	return n, err
}
