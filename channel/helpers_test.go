package channel

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// lineCodec is a tiny text protocol for the tests that need behaviour no
// real codec has on demand (a panic, command answers with and without IDs):
//
//	L<ident>\n      login; reply "A\n" ("N\n" and close for ident "bad")
//	D<text>\n       one message {"text": ...}; reply "K\n"
//	R<id>:<text>\n  answer to command <id>; "R:<text>" has no id
//	P\n             panics in Decode
//
// Commands are encoded as "X<id>:<text>\n".
type lineCodec struct{}

func (lineCodec) Name() string { return "line" }
func (lineCodec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if len(data) > 1024 {
		return 0, nil, protocol.Errorf("line", 0, protocol.ErrFrameTooLarge, "")
	}
	return 0, nil, nil
}
func (lineCodec) NewSession(protocol.Transport) protocol.Session { return &lineSession{} }

type lineSession struct{ ident string }

func (s *lineSession) Decode(f []byte, r *protocol.Result) error {
	f = bytes.TrimSuffix(f, []byte("\n")) // a UDP datagram is a whole frame, newline included
	if len(f) == 0 {
		return protocol.Errorf("line", 0, protocol.ErrMalformed, "empty line")
	}
	switch f[0] {
	case 'L':
		if string(f[1:]) == "bad" {
			r.SetReply([]byte("N\n"))
			r.Close = true
			return nil
		}
		s.ident = string(f[1:])
		r.Ident = s.ident
		r.SetReply([]byte("A\n"))
	case 'D':
		m := r.NewMessage()
		m.SetString("text", string(f[1:]))
		r.SetReply([]byte("K\n"))
	case 'R':
		id, text, _ := strings.Cut(string(f[1:]), ":")
		resp := protocol.CommandResponse{Text: text}
		if n, err := strconv.ParseUint(id, 10, 32); err == nil {
			resp.ID, resp.HasID = uint32(n), true
		}
		r.Responses = append(r.Responses, resp)
	case 'P':
		var m map[string]int
		m["boom"]++ // a nil-map write: a real-looking codec bug
	default:
		return protocol.Errorf("line", 0, protocol.ErrUnsupported, "unknown line")
	}
	return nil
}

func (s *lineSession) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	dst = append(dst, 'X')
	dst = strconv.AppendUint(dst, uint64(c.ID), 10)
	dst = append(dst, ':')
	dst = append(dst, c.Text...)
	return append(dst, '\n'), nil
}

// sink is an in-memory Handler that can be told to fail.
type sink struct {
	mu   sync.Mutex
	msgs []protocol.Message
	err  error
	got  chan struct{}
}

func newSink() *sink { return &sink{got: make(chan struct{}, 1000)} }

func (k *sink) HandleMessages(_ context.Context, _ *Conn, msgs []protocol.Message) error {
	k.mu.Lock()
	err := k.err
	if err == nil {
		for i := range msgs {
			k.msgs = append(k.msgs, msgs[i].Clone())
		}
	}
	k.mu.Unlock()
	select {
	case k.got <- struct{}{}:
	default:
	}
	return err
}

func (k *sink) setErr(err error) { k.mu.Lock(); k.err = err; k.mu.Unlock() }

func (k *sink) messages() []protocol.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]protocol.Message(nil), k.msgs...)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start serves srv on a fresh 127.0.0.1 listener and returns its address;
// the server is closed when the test ends.
func start(t testing.TB, srv *Server) string {
	t.Helper()
	if srv.Logger == nil {
		srv.Logger = quietLogger()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readN reads exactly n bytes within two seconds.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v (got %x)", n, err, b)
	}
	return b
}

// readLine reads one line within two seconds.
func readLine(t testing.TB, r *bufio.Reader, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	s, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a line: %v (got %q)", err, s)
	}
	return s
}

// expectClosed checks that the server closes c within d.
func expectClosed(t testing.TB, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 64)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection still open after %v", d)
		}
		return
	}
}

// expectSilence checks that nothing arrives on c for d.
func expectSilence(t testing.TB, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if n > 0 {
		t.Fatalf("got %q; expected nothing", buf[:n])
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("read: %v; expected a timeout", err)
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
