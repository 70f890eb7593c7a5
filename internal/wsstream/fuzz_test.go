package wsstream

import (
	"bytes"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// chunkConn is a net.Conn whose reads return in at most chunk bytes at a
// time, with a timeout every other read when timeouts is set (a caller
// asking with a deadline in the past before parking), and whose writes are
// collected.
type chunkConn struct {
	in       []byte
	chunk    int
	timeouts bool
	tick     bool
	out      bytes.Buffer
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if c.timeouts {
		if c.tick = !c.tick; c.tick {
			return 0, os.ErrDeadlineExceeded
		}
	}
	if len(c.in) == 0 {
		return 0, errEOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.in)
	c.in = c.in[n:]
	return n, nil
}

var errEOF = errors.New("eof") // io.EOF is mapped; keep the fake's end distinct from a close

func (c *chunkConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *chunkConn) Close() error                     { return nil }
func (c *chunkConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *chunkConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *chunkConn) SetDeadline(time.Time) error      { return nil }
func (c *chunkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chunkConn) SetWriteDeadline(time.Time) error { return nil }

// decodeAll reads data from a ServerConn over in until an error, returning
// the payload, the error and what the server wrote (pongs, close frames).
func decodeAll(t *testing.T, in []byte, chunk, readSize int, timeouts bool) ([]byte, error, []byte) {
	cc := &chunkConn{in: in, chunk: chunk, timeouts: timeouts}
	s := NewServerConn(cc, &ServerConfig{MaxMessage: 1 << 16, BinaryOnly: true})
	var got []byte
	buf := make([]byte, readSize)
	for {
		n, err := s.Read(buf)
		if n < 0 || n > len(buf) {
			t.Fatalf("Read returned %d for a buffer of %d", n, len(buf))
		}
		if n > 0 && err != nil {
			t.Fatalf("Read returned %d bytes and %v", n, err)
		}
		got = append(got, buf[:n]...)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			if s.raw != nil {
				t.Fatal("a ServerConn that has ended holds a read buffer")
			}
			return got, err, cc.out.Bytes()
		}
		if n == 0 {
			t.Fatal("Read returned 0 bytes and no error")
		}
	}
}

// The frame reader decodes the same payload, reaches the same end and
// answers the same control frames however its input is split and however
// large the reads it serves are: a frame's state survives every boundary,
// including a timeout in the middle of a header. It never panics and holds
// no more than its pooled buffer (the fake conn hands out whatever it is
// asked for, up to the chunk, so a huge declared length allocates nothing).
func FuzzServerConn(f *testing.F) {
	k := key
	f.Add(concat(bin("ab"), frame(false, opBinary, k, []byte("cd")), frame(true, opPing, k, []byte("p")),
		frame(true, opContinuation, k, []byte("ef"))), uint16(1), uint16(3))
	f.Add(concat(bin(string(make([]byte, 300))), frame(true, opClose, k, []byte{0x03, 0xE8})), uint16(7), uint16(4096))
	f.Add(frame(true, opBinary, nil, []byte("x")), uint16(2), uint16(1))
	f.Add(concat([]byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, k), uint16(5), uint16(600))
	f.Fuzz(func(t *testing.T, in []byte, chunk, readSize uint16) {
		if len(in) > 1<<20 {
			return
		}
		c, r := int(chunk%2048)+1, int(readSize%5000)+1
		wantData, wantErr, wantOut := decodeAll(t, in, len(in)+1, 4096, false)
		data, err, out := decodeAll(t, in, c, r, c%3 == 0)
		if !bytes.Equal(data, wantData) {
			t.Fatalf("chunk %d, read %d: payload %q, whole: %q", c, r, data, wantData)
		}
		if err != wantErr {
			t.Fatalf("chunk %d, read %d: ended with %v, whole: %v", c, r, err, wantErr)
		}
		if !bytes.Equal(out, wantOut) {
			t.Fatalf("chunk %d, read %d: wrote % x, whole: % x", c, r, out, wantOut)
		}
	})
}

// Accept reads any opening handshake without panicking or holding a buffer
// once it has refused it; after a handshake it accepted, the frames behind
// the request decode exactly as they do on a connection without one, however
// the input is split.
func FuzzAccept(f *testing.F) {
	req := []byte("GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	f.Add(req, []byte(nil), uint16(5))
	f.Add(req, concat(bin("ab"), frame(true, opPing, key, []byte("p"))), uint16(1))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), bin("x"), uint16(100))
	f.Add([]byte("\r\n\r\n"), []byte(nil), uint16(2))
	f.Fuzz(func(t *testing.T, head, frames []byte, chunk uint16) {
		if len(head)+len(frames) > 1<<16 {
			return
		}
		c := int(chunk%512) + 1
		cc := &chunkConn{in: concat(head, frames), chunk: c}
		s := Accept(cc, &ServerConfig{MaxMessage: 1 << 16, BinaryOnly: true, Subprotocols: []string{"mqtt"}})
		var got []byte
		buf := make([]byte, 100)
		var err error
		for err == nil {
			var n int
			n, err = s.Read(buf)
			got = append(got, buf[:n]...)
		}
		if s.raw != nil {
			t.Fatal("a ServerConn that has ended holds a read buffer")
		}
		if errors.Is(err, ErrHandshake) {
			if len(got) != 0 {
				t.Fatalf("payload %q from a refused handshake", got)
			}
			return
		}
		out := cc.out.Bytes()
		if !bytes.HasPrefix(out, []byte("HTTP/1.1 101 ")) {
			if len(got) != 0 || len(out) != 0 {
				t.Fatalf("no 101 but read %q, wrote %q (%v)", got, out, err)
			}
			return // the input ended inside the request
		}
		// The request ends at its first blank line; what follows is frames.
		end := bytes.Index(concat(head, frames), []byte("\r\n\r\n")) + 4
		rest := concat(head, frames)[end:]
		want, wantErr, _ := decodeAll(t, rest, len(rest)+1, 4096, false)
		if !bytes.Equal(got, want) || err != wantErr {
			t.Fatalf("after the handshake: %q, %v; without one: %q, %v", got, err, want, wantErr)
		}
	})
}
