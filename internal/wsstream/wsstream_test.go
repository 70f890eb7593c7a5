package wsstream

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// pair returns the two ends of a real WebSocket over loopback.
func pair(t *testing.T) (client, server *websocket.Conn) {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		got <- ws
	}))
	t.Cleanup(srv.Close)
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case s := <-got:
		t.Cleanup(func() { s.Close() })
		return c, s
	case <-time.After(5 * time.Second):
		t.Fatal("no server end")
	}
	return nil, nil
}

// Read runs on across messages (a packet split over two, two packets in
// one), and each Write is one binary message.
func TestStreamAcrossMessages(t *testing.T) {
	c, s := pair(t)
	for _, m := range []string{"ab", "cd", ""} {
		if err := c.WriteMessage(websocket.BinaryMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	c.WriteMessage(websocket.BinaryMessage, []byte("ef"))
	conn := New(s, true)
	buf := make([]byte, 6)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "abcdef" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if n, err := New(c, false).Write([]byte("xyz")); n != 3 || err != nil {
		t.Fatalf("write %d, %v", n, err)
	}
	typ, m, err := s.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage || string(m) != "xyz" {
		t.Fatalf("server got %d %q %v", typ, m, err)
	}
}

// A text message is refused where binaryOnly says so, and read like any
// other where it does not.
func TestTextFrame(t *testing.T) {
	c, s := pair(t)
	c.WriteMessage(websocket.TextMessage, []byte("hi"))
	if _, err := New(s, true).Read(make([]byte, 4)); !errors.Is(err, ErrTextFrame) {
		t.Fatalf("binaryOnly read of a text frame: %v", err)
	}
	c2, s2 := pair(t)
	c2.WriteMessage(websocket.TextMessage, []byte("hi"))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(New(s2, false), buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v", buf, err)
	}
}
