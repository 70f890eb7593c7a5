package wsstream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// frame encodes one client frame; key nil means unmasked.
func frame(fin bool, op byte, key []byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	m := byte(0)
	if key != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, m|byte(n))
	case n <= 0xFFFF:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if key == nil {
		return append(b, payload...)
	}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

var key = []byte{0x37, 0xfa, 0x21, 0x3d}

func bin(p string) []byte { return frame(true, opBinary, key, []byte(p)) }

// rawPair returns a client socket and the ServerConn on the other end of a
// loopback TCP connection (no handshake: these tests speak frames).
func rawPair(t *testing.T, cfg *ServerConfig) (net.Conn, *ServerConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := NewServerConn(nc, cfg)
	t.Cleanup(func() { s.Close() })
	client.SetDeadline(time.Now().Add(10 * time.Second))
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return client, s
}

// readFrame reads one server frame (unmasked) from the client socket.
func readFrame(t *testing.T, r io.Reader) (op byte, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatalf("reading a server frame: %v", err)
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		t.Fatalf("server frame header % x: want FIN and no mask", h)
	}
	n := int(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(r, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(r, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatalf("reading a server frame's payload: %v", err)
	}
	return h[0] & 0x0F, payload
}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// Binary payload is one stream across frames and messages, whatever the
// length encoding, fragmentation, interleaved pings and the reader's
// buffer size; each ping gets its pong.
func TestServerConnStream(t *testing.T) {
	long := strings.Repeat("0123456789", 7000) // 70,000 bytes: a 64-bit length
	mid := strings.Repeat("m", 300)            // a 16-bit length
	in := concat(
		bin("ab"),
		frame(true, opBinary, key, nil), // empty message
		frame(false, opBinary, key, []byte("cd")),
		frame(true, opPing, key, []byte("p1")), // a control frame inside a fragmented message
		frame(false, opContinuation, key, []byte(mid)),
		frame(false, opContinuation, key, nil),
		frame(true, opContinuation, key, []byte("ef")),
		frame(true, opPong, key, []byte("unsolicited")),
		bin(long),
		frame(true, opPing, key, nil),
		bin("gh"),
	)
	want := "ab" + "cd" + mid + "ef" + long + "gh"
	for _, size := range []int{1, 7, 4096, 100_000} {
		client, s := rawPair(t, &ServerConfig{BinaryOnly: true, MaxMessage: 100_000})
		go func() {
			// Dribble the first bytes, then the rest at once.
			for i := range 20 {
				client.Write(in[i : i+1])
				time.Sleep(time.Millisecond)
			}
			client.Write(in[20:])
		}()
		got := make([]byte, 0, len(want))
		buf := make([]byte, size)
		for len(got) < len(want) {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatalf("read size %d after %d bytes: %v", size, len(got), err)
			}
			got = append(got, buf[:n]...)
		}
		if string(got) != want {
			t.Fatalf("read size %d: got %d bytes, want %d", size, len(got), len(want))
		}
		for _, p := range []string{"p1", ""} {
			if op, pl := readFrame(t, client); op != opPong || string(pl) != p {
				t.Fatalf("got op %x %q, want pong %q", op, pl, p)
			}
		}
		if s.raw != nil {
			t.Fatal("a ServerConn with nothing to decode holds a read buffer")
		}
	}
}

// Each violation of RFC 6455 ends reading with a *FrameError and a close
// frame carrying its status; payload before it is still delivered.
func TestServerConnViolations(t *testing.T) {
	big := make([]byte, 101)
	cases := []struct {
		name string
		in   []byte
		code uint16
	}{
		{"unmasked", frame(true, opBinary, nil, []byte("x")), 1002},
		{"RSV1", append([]byte{0xC2}, bin("x")[1:]...), 1002},
		{"RSV3", append([]byte{0x92}, bin("x")[1:]...), 1002},
		{"reserved data opcode", frame(true, 0x3, key, []byte("x")), 1002},
		{"reserved control opcode", frame(true, 0xB, key, nil), 1002},
		{"fragmented ping", frame(false, opPing, key, nil), 1002},
		{"long ping", frame(true, opPing, key, make([]byte, 126)), 1002},
		{"continuation first", frame(true, opContinuation, key, []byte("x")), 1002},
		{"binary inside a message", concat(frame(false, opBinary, key, []byte("x")), bin("y")), 1002},
		{"64-bit length MSB", concat([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, key), 1002},
		{"too big", frame(true, opBinary, key, big), 1009},
		{"too big across fragments", concat(frame(false, opBinary, key, big[:60]), frame(true, opContinuation, key, big[:41])), 1009},
		{"huge length", concat([]byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, key), 1009},
		{"close of 1 byte", frame(true, opClose, key, []byte{3}), 1002},
		{"close 999", frame(true, opClose, key, []byte{0x03, 0xE7}), 1002},
		{"close 1005", frame(true, opClose, key, []byte{0x03, 0xED}), 1002},
		{"close 5000", frame(true, opClose, key, []byte{0x13, 0x88}), 1002},
		{"close reason not UTF-8", frame(true, opClose, key, []byte{0x03, 0xE8, 0xff}), 1007},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, s := rawPair(t, &ServerConfig{MaxMessage: 100, BinaryOnly: true})
			client.Write(concat(bin("ok"), c.in))
			buf := make([]byte, 16)
			var payload []byte
			var err error
			for err == nil {
				var n int
				n, err = s.Read(buf)
				payload = append(payload, buf[:n]...)
			}
			if !bytes.HasPrefix(payload, []byte("ok")) {
				t.Fatalf("read %q before the violation, want the payload before it", payload)
			}
			var fe *FrameError
			if !errors.As(err, &fe) || !errors.Is(err, ErrProtocol) || fe.Code != c.code {
				t.Fatalf("error %v, want a FrameError with code %d", err, c.code)
			}
			if _, err2 := s.Read(buf); err2 != err {
				t.Fatalf("the error does not stick: %v", err2)
			}
			op, pl := readFrame(t, client)
			if op != opClose || len(pl) != 2 || binary.BigEndian.Uint16(pl) != c.code {
				t.Fatalf("got op %x % x, want close %d", op, pl, c.code)
			}
			if _, err := s.Write([]byte("x")); !errors.Is(err, ErrCloseSent) {
				t.Fatalf("write after the close frame: %v", err)
			}
		})
	}
}

// The close handshake: the client's status is echoed (an empty close gets
// an empty one) and Read reports the end of the stream.
func TestServerConnClose(t *testing.T) {
	for _, c := range []struct {
		payload, reply []byte
	}{
		{[]byte{0x03, 0xE8, 'b', 'y', 'e'}, []byte{0x03, 0xE8}},
		{[]byte{0x0F, 0xA0}, []byte{0x0F, 0xA0}}, // 4000, an application's code
		{nil, nil},
	} {
		client, s := rawPair(t, nil)
		client.Write(concat(bin("x"), frame(true, opClose, key, c.payload), bin("ignored")))
		b, err := io.ReadAll(s)
		if err != nil || string(b) != "x" {
			t.Fatalf("read %q, %v; want \"x\" then io.EOF", b, err)
		}
		if op, pl := readFrame(t, client); op != opClose || !bytes.Equal(pl, c.reply) {
			t.Fatalf("got op %x % x, want close % x", op, pl, c.reply)
		}
	}
}

// A text frame is ErrTextFrame with BinaryOnly (the caller closes with
// MQTT's reason code, so no close frame is sent) and data without.
func TestServerConnText(t *testing.T) {
	client, s := rawPair(t, &ServerConfig{BinaryOnly: true})
	client.Write(frame(true, opText, key, []byte("hi")))
	if _, err := s.Read(make([]byte, 4)); !errors.Is(err, ErrTextFrame) {
		t.Fatalf("text frame read with BinaryOnly: %v", err)
	}
	if _, err := s.Write([]byte("bye")); err != nil {
		t.Fatalf("a write after ErrTextFrame: %v", err)
	}
	client2, s2 := rawPair(t, nil)
	client2.Write(frame(true, opText, key, []byte("hi")))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(s2, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

// A read with a deadline in the past returns what has been decoded, or the
// timeout, keeping a partial frame for the next read: what the broker does
// before parking a connection.
func TestServerConnPastDeadline(t *testing.T) {
	client, s := rawPair(t, nil)
	f := concat(bin("hello"), frame(true, opPing, key, []byte("p")))
	client.Write(f[:4]) // half a header
	time.Sleep(20 * time.Millisecond)
	s.SetReadDeadline(time.Unix(1, 0))
	buf := make([]byte, 1)
	if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read of half a header: %v", err)
	}
	client.Write(f[4:])
	time.Sleep(20 * time.Millisecond)
	s.SetReadDeadline(time.Time{})
	got := ""
	for len(got) < 5 {
		n, err := s.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got += string(buf[:n])
	}
	if got != "hello" {
		t.Fatalf("read %q", got)
	}
	s.SetReadDeadline(time.Unix(1, 0))
	if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with only a ping left: %v", err)
	}
	if op, pl := readFrame(t, client); op != opPong || string(pl) != "p" {
		t.Fatalf("got op %x %q", op, pl)
	}
	if s.raw != nil {
		t.Fatal("read buffer held with nothing to decode")
	}
}

// Writes are single unmasked binary frames, small or large.
func TestServerConnWrite(t *testing.T) {
	client, s := rawPair(t, nil)
	for _, n := range []int{0, 1, 125, 126, 4000, 65535, 65536, 200_000} {
		p := bytes.Repeat([]byte{byte(n)}, n)
		go s.Write(p)
		if op, pl := readFrame(t, client); op != opBinary || !bytes.Equal(pl, p) {
			t.Fatalf("write of %d: got op %x and %d bytes", n, op, len(pl))
		}
	}
}

// End to end with gorilla/websocket's client (paho's and mqttbench's): the
// handshake by gorilla's Upgrader, then frames through ServerConn, with
// gorilla fragmenting large messages, pinging and closing.
func TestServerConnGorilla(t *testing.T) {
	got := make(chan *ServerConn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		got <- NewServerConn(ws.NetConn(), &ServerConfig{BinaryOnly: true})
	}))
	defer hs.Close()
	d := websocket.Dialer{WriteBufferSize: 256} // messages over 256 bytes go in several frames
	c, _, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-got
	defer s.Close()
	msg := bytes.Repeat([]byte("abcdefg"), 1000)
	w, _ := c.NextWriter(websocket.BinaryMessage)
	w.Write(msg[:3000])
	w.Write(msg[3000:])
	w.Close()
	pong := make(chan string, 1)
	c.SetPongHandler(func(p string) error { pong <- p; return nil })
	c.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
	c.WriteMessage(websocket.BinaryMessage, []byte("tail"))
	buf := make([]byte, len(msg)+4)
	if _, err := io.ReadFull(s, buf); err != nil || !bytes.Equal(buf, append(msg, "tail"...)) {
		t.Fatalf("server read: %v", err)
	}
	s.Write([]byte("reply"))
	if typ, m, err := c.ReadMessage(); err != nil || typ != websocket.BinaryMessage || string(m) != "reply" {
		t.Fatalf("client read %d %q %v", typ, m, err)
	}
	select {
	case p := <-pong: // the pong came before the reply
		if p != "hi" {
			t.Fatalf("pong %q", p)
		}
	default:
		t.Fatal("no pong")
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"))
	if _, err := s.Read(buf); err != io.EOF {
		t.Fatalf("read after the client's close: %v", err)
	}
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("client got %v, want the echoed close 1000", err)
	}
}

// CloseWrite sends close 1000 and half-closes; the client's answering
// close ends Read, and nothing more may be written.
func TestServerConnCloseWrite(t *testing.T) {
	client, s := rawPair(t, nil)
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if op, pl := readFrame(t, client); op != opClose || binary.BigEndian.Uint16(pl) != CloseNormal {
		t.Fatalf("got op %x % x, want close 1000", op, pl)
	}
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the close frame: %v, want the half-close", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, ErrCloseSent) {
		t.Fatalf("write after CloseWrite: %v", err)
	}
	client.Write(frame(true, opClose, key, []byte{0x03, 0xE8}))
	if n, err := s.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Fatalf("read %d, %v after the client's close", n, err)
	}
}

// acceptPair returns a client socket and an Accept ServerConn on the other
// end; the handshake happens at the server's first Read.
func acceptPair(t *testing.T) (net.Conn, *ServerConn) {
	t.Helper()
	client, s := rawPair(t, nil)
	a := Accept(s.nc, &ServerConfig{BinaryOnly: true, Subprotocols: []string{"mqtt", "mqttv3.1"}})
	return client, a
}

const upgradeRequest = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: other, mqttv3.1\r\nSec-WebSocket-Protocol: mqtt\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"

// Accept answers the handshake itself (the RFC 6455 §1.3 sample key), and
// frames the client sent right behind its request are not lost.
func TestAccept(t *testing.T) {
	client, s := acceptPair(t)
	client.Write(append([]byte(upgradeRequest), bin("pipelined")...))
	buf := make([]byte, 9)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "pipelined" {
		t.Fatalf("read %q, %v", buf, err)
	}
	resp := make([]byte, 512)
	n, _ := client.Read(resp)
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqttv3.1\r\n\r\n"
	if string(resp[:n]) != want {
		t.Fatalf("response %q, want %q", resp[:n], want)
	}
	s.Write([]byte("ok"))
	if op, pl := readFrame(t, client); op != opBinary || string(pl) != "ok" {
		t.Fatalf("got op %x %q", op, pl)
	}
	if s.raw != nil {
		t.Fatal("read buffer held after the handshake")
	}
}

// A request that is not a WebSocket upgrade gets an HTTP error and
// ErrHandshake.
func TestAcceptRefused(t *testing.T) {
	for _, c := range []struct{ name, req, status string }{
		{"POST", strings.Replace(upgradeRequest, "GET", "POST", 1), "400"},
		{"no key", strings.Replace(upgradeRequest, "Sec-WebSocket-Key", "X-Key", 1), "400"},
		{"no upgrade", strings.Replace(upgradeRequest, "Upgrade: WebSocket", "Upgrade: h2c", 1), "400"},
		{"version 8", strings.Replace(upgradeRequest, "Version: 13", "Version: 8", 1), "426"},
		{"too long", "GET / HTTP/1.1\r\nX: " + strings.Repeat("x", 5000) + "\r\n\r\n", "431"},
	} {
		t.Run(c.name, func(t *testing.T) {
			client, s := acceptPair(t)
			go client.Write([]byte(c.req))
			if _, err := s.Read(make([]byte, 1)); !errors.Is(err, ErrHandshake) {
				t.Fatalf("read: %v", err)
			}
			resp, _ := bufioReadLine(client)
			if !strings.HasPrefix(resp, "HTTP/1.1 "+c.status) {
				t.Fatalf("response %q, want %s", resp, c.status)
			}
			if s.raw != nil {
				t.Fatal("read buffer held after a refusal")
			}
		})
	}
}

func bufioReadLine(r io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for !bytes.HasSuffix(line, []byte("\r\n")) {
		if _, err := r.Read(b); err != nil {
			return string(line), err
		}
		line = append(line, b[0])
	}
	return string(line), nil
}

// gorilla/websocket's client (paho's, mqttbench's) completes Accept's
// handshake, choosing the subprotocol it asked for.
func TestAcceptGorilla(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		s := Accept(nc, &ServerConfig{Subprotocols: []string{"mqtt"}})
		defer s.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 5)
		_, err = io.ReadFull(s, b)
		s.Write(b)
		got <- fmt.Sprint(string(b), err)
	}()
	c, resp, err := (&websocket.Dialer{Subprotocols: []string{"mqtt"}}).Dial("ws://"+ln.Addr().String()+"/any/path", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "mqtt" {
		t.Fatalf("subprotocol %q", p)
	}
	c.WriteMessage(websocket.BinaryMessage, []byte("hello"))
	if r := <-got; r != "hello<nil>" {
		t.Fatalf("server read %s", r)
	}
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "hello" {
		t.Fatalf("echo %q %v", m, err)
	}
}
