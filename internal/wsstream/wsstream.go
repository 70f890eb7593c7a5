// Package wsstream presents a WebSocket as the byte stream MQTT runs over
// (MQTT over WebSocket, MQTT 5.0 §6): each Write is one binary message, and
// Read goes on across messages, since an MQTT packet may span several and
// a message may hold several.
//
// Two ends: Conn wraps a gorilla/websocket connection and serves the
// clients (the paho adapter's ws:// dialer, mqttbench's WebSocket clients);
// ServerConn reads a server's frames itself, from the connection under a
// handshake gorilla's Upgrader has answered, so that an idle connection
// holds no buffer and can be parked (the embedded broker's listener).
package wsstream

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ErrTextFrame is Read's error for a text message on a BinaryOnly Conn.
var ErrTextFrame = errors.New("wsstream: WebSocket text frame; MQTT needs binary frames")

// Conn is a WebSocket as a net.Conn. Writes are serialised (gorilla allows
// one writer at a time); Read is for one goroutine, as on any net.Conn.
type Conn struct {
	ws *websocket.Conn
	// binaryOnly refuses text messages: a server must close a client that
	// sends one [MQTT-6.0.0-1].
	binaryOnly bool
	r          io.Reader // the message being read, nil between messages
	wm         sync.Mutex
}

// New returns ws as a byte stream. With binaryOnly a text message ends
// reading with ErrTextFrame.
func New(ws *websocket.Conn, binaryOnly bool) *Conn {
	return &Conn{ws: ws, binaryOnly: binaryOnly}
}

// Read implements io.Reader across the WebSocket's messages.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if c.binaryOnly && typ != websocket.BinaryMessage {
				return 0, ErrTextFrame
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// Write sends p as one binary message.
func (c *Conn) Write(p []byte) (int, error) {
	c.wm.Lock()
	defer c.wm.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *Conn) Close() error                       { return c.ws.Close() }
func (c *Conn) LocalAddr() net.Addr                { return c.ws.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr               { return c.ws.RemoteAddr() }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.ws.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.ws.SetWriteDeadline(t)
}
