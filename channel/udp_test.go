package channel

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func startUDP(t testing.TB, srv *Server) (net.Addr, chan error) {
	t.Helper()
	if srv.Logger == nil {
		srv.Logger = quietLogger()
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServePacket(ctx, pc) }()
	t.Cleanup(func() { cancel(); srv.Close() })
	return pc.LocalAddr(), done
}

func udpExchange(t *testing.T, c net.Conn, send string) string {
	t.Helper()
	if _, err := c.Write([]byte(send)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply to %q: %v", send, err)
	}
	return string(buf[:n])
}

func TestUDPSessionsPerAddressExpire(t *testing.T) {
	k := newSink()
	srv := &Server{Codec: lineCodec{}, Handler: k, IdleTimeout: 200 * time.Millisecond}
	addr, _ := startUDP(t, srv)
	a, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := net.Dial("udp", addr.String())
	defer b.Close()

	// The session keeps the login between datagrams from one address.
	if got := udpExchange(t, a, "Lua\n"); got != "A\n" {
		t.Fatalf("%q", got)
	}
	if got := udpExchange(t, a, "Dpos\n"); got != "K\n" {
		t.Fatalf("%q", got)
	}
	if got := udpExchange(t, b, "Lub\n"); got != "A\n" {
		t.Fatalf("%q", got)
	}
	if n := len(srv.Conns()); n != 2 {
		t.Fatalf("%d sessions", n)
	}
	msgs := k.messages()
	if len(msgs) != 1 || msgs[0].Ident() != "ua" {
		t.Fatalf("messages %v", msgs)
	}
	if p, _ := msgs[0].Str("peer"); p != a.LocalAddr().String() {
		t.Fatalf("peer %q", p)
	}
	// A bad datagram costs only itself.
	a.Write([]byte("Zjunk\n"))
	if got := udpExchange(t, a, "Dagain\n"); got != "K\n" {
		t.Fatalf("%q", got)
	}
	waitFor(t, "sessions to expire", func() bool { return srv.Stats().Conns == 0 })
	if st := srv.Stats(); st.IdleClosed != 2 || st.DecodeErrors != 1 {
		t.Fatalf("stats %+v", st)
	}
	// A new datagram after expiry starts a new session without the login:
	// its message has no ident, so it is dropped, counted and not answered.
	if _, err := a.Write([]byte("Dlate\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new session", func() bool { return srv.Stats().ConnsTotal == 3 })
	waitFor(t, "the refusal to be counted", func() bool { return srv.Stats().Unidentified == 1 })
	expectSilence(t, a, 100*time.Millisecond)
	if n := len(k.messages()); n != 2 {
		t.Fatalf("%d messages stored; the one without ident must not be", n)
	}
}

func TestUDPShutdown(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink()}
	addr, done := startUDP(t, srv)
	a, _ := net.Dial("udp", addr.String())
	defer a.Close()
	udpExchange(t, a, "Lx\n")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("ServePacket: %v", err)
	}
}

func TestUDPMaxConnsAndOversize(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), MaxConns: 1, MaxFrameSize: 32}
	addr, _ := startUDP(t, srv)
	a, _ := net.Dial("udp", addr.String())
	defer a.Close()
	b, _ := net.Dial("udp", addr.String())
	defer b.Close()
	udpExchange(t, a, "La\n")
	b.Write([]byte("Lb\n"))
	a.Write(make([]byte, 100))
	waitFor(t, "drops", func() bool { return srv.Stats().DatagramsDropped == 2 })
	if st := srv.Stats(); st.ConnsRejected != 1 || st.Conns != 1 {
		t.Fatalf("stats %+v", st)
	}
}
