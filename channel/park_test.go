package channel

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// parkedConns counts the server's connections parked in the poller.
func parkedConns(srv *Server) int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := 0
	for c := range srv.conns {
		if c.park != nil && c.park.Parked() {
			n++
		}
	}
	return n
}

// parkingSupported skips the test where connections cannot park.
func parkingSupported(t *testing.T) {
	t.Helper()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleParkAfter: 10 * time.Millisecond}
	addr := start(t, srv)
	nc := dial(t, addr)
	defer nc.Close()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	deadline := time.Now().Add(3 * time.Second)
	for len(srv.conns) == 0 && time.Now().Before(deadline) {
		srv.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		srv.mu.Lock()
	}
	for c := range srv.conns {
		if c.park == nil {
			t.Skip("connections are not parked on this platform")
		}
	}
}

func TestParkedTrackerGetsItsAck(t *testing.T) {
	parkingSupported(t)
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k, IdleParkAfter: 30 * time.Millisecond}
	c := dial(t, start(t, srv))
	_, avl := tlt(t)
	loginAs(t, c, "356307042441013")
	for round := range 3 {
		sendAVL(t, c, avl)
		waitFor(t, "the connection to park", func() bool { return parkedConns(srv) == 1 })
		if got := len(k.messages()); got != round+1 {
			t.Fatalf("round %d: %d messages stored", round, got)
		}
	}
	// Woken by the bytes, the connection reads and answers them.
	sendAVL(t, c, avl)
	if got := len(k.messages()); got != 4 {
		t.Fatalf("%d messages stored, want 4", got)
	}
	if st := srv.Stats(); st.Conns != 1 || st.MessagesAcked != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPartialFrameIsNotParked(t *testing.T) {
	parkingSupported(t)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleParkAfter: 20 * time.Millisecond}
	c := dial(t, start(t, srv))
	_, avl := tlt(t)
	loginAs(t, c, "356307042441013")
	waitFor(t, "the connection to park", func() bool { return parkedConns(srv) == 1 })
	c.Write(avl[:10])
	waitFor(t, "the connection to wake", func() bool { return parkedConns(srv) == 0 })
	time.Sleep(150 * time.Millisecond)
	if n := parkedConns(srv); n != 0 {
		t.Fatal("parked with a partial frame buffered")
	}
	sendAVL(t, c, avl[10:])
}

func TestParkedConnTimeouts(t *testing.T) {
	parkingSupported(t)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleParkAfter: 20 * time.Millisecond,
		IdleTimeout: 400 * time.Millisecond, LoginTimeout: 200 * time.Millisecond}
	addr := start(t, srv)

	// Silent: parked, then closed at the login timeout.
	silent := dial(t, addr)
	t0 := time.Now()
	waitFor(t, "the connection to park", func() bool { return parkedConns(srv) == 1 })
	expectClosed(t, silent, 3*time.Second)
	if d := time.Since(t0); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("silent connection closed after %v, want about 200ms", d)
	}
	waitFor(t, "the login timeout to count", func() bool { return srv.Stats().LoginTimeouts == 1 })

	// Logged in, then idle: parked, then closed at the idle timeout.
	c := dial(t, addr)
	loginAs(t, c, "356307042441013")
	t0 = time.Now()
	waitFor(t, "the connection to park", func() bool { return parkedConns(srv) == 1 })
	expectClosed(t, c, 3*time.Second)
	if d := time.Since(t0); d < 350*time.Millisecond || d > 2*time.Second {
		t.Fatalf("idle connection closed after %v, want about 400ms", d)
	}
	waitFor(t, "connections to be released", func() bool { return srv.Stats().Conns == 0 })
	if st := srv.Stats(); st.IdleClosed != 1 || st.LoginTimeouts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestShutdownAndCloseEndParkedConns(t *testing.T) {
	parkingSupported(t)
	for _, how := range []string{"Shutdown", "Close"} {
		t.Run(how, func(t *testing.T) {
			srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleParkAfter: 20 * time.Millisecond}
			addr := start(t, srv)
			const n = 20
			for i := range n {
				loginAs(t, dial(t, addr), fmt.Sprintf("35630704244%04d", i))
			}
			waitFor(t, "the connections to park", func() bool { return parkedConns(srv) == n })
			t0 := time.Now()
			switch how {
			case "Shutdown":
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
			case "Close":
				srv.Close()
			}
			if d := time.Since(t0); d > 2*time.Second {
				t.Fatalf("%s took %v", how, d)
			}
			if st := srv.Stats(); st.Conns != 0 {
				t.Fatalf("%d connections left", st.Conns)
			}
		})
	}
}

func TestCommandToParkedConn(t *testing.T) {
	parkingSupported(t)
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), IdleParkAfter: 20 * time.Millisecond}
	c := dial(t, start(t, srv))
	r := bufio.NewReader(c)
	c.Write([]byte("Ldev\n"))
	if got := readLine(t, r, c); got != "A\n" {
		t.Fatalf("login reply %q", got)
	}
	for i := range 3 {
		waitFor(t, "the connection to park", func() bool { return parkedConns(srv) == 1 })
		call := srv.Send("dev", protocol.Command{ID: uint32(i + 1), Text: "ping"}, time.Minute)
		want := fmt.Sprintf("X%d:ping\n", i+1)
		if got := readLine(t, r, c); got != want {
			t.Fatalf("command %q, want %q", got, want)
		}
		fmt.Fprintf(c, "R%d:pong\n", i+1)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := call.Wait(ctx)
		cancel()
		if err != nil || resp.Text != "pong" {
			t.Fatalf("resp %+v err %v", resp, err)
		}
	}
}

func TestNeverPark(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleParkAfter: -1}
	c := dial(t, start(t, srv))
	loginAs(t, c, "356307042441013")
	srv.mu.Lock()
	for c := range srv.conns {
		if c.park != nil {
			t.Error("IdleParkAfter < 0 and the connection is parkable")
		}
	}
	srv.mu.Unlock()
	_, avl := tlt(t)
	sendAVL(t, c, avl)
}

// TestParkedConnsHoldNoGoroutine: fifty logged-in, silent connections,
// once parked, leave no goroutine behind. (Their buffers are not looked at
// here: a wake at the test's end, when the clients close, would race with
// the look; BenchmarkConnections measures the memory.)
func TestParkedConnsHoldNoGoroutine(t *testing.T) {
	parkingSupported(t)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleParkAfter: 20 * time.Millisecond}
	addr := start(t, srv)
	const n = 50
	base := runtime.NumGoroutine()
	for i := range n {
		loginAs(t, dial(t, addr), fmt.Sprintf("35630704245%04d", i))
	}
	waitFor(t, "the connections to park", func() bool { return parkedConns(srv) == n })
	if d := runtime.NumGoroutine() - base; d > n/5 {
		t.Fatalf("%d more goroutines with %d parked connections", d, n)
	}
}

// wrappedConn is what a listener wrapper (PROXY protocol, say) returns: it
// passes the socket's SyscallConn through, but may buffer bytes of its own.
type wrappedConn struct{ *net.TCPConn }

type wrappingListener struct{ net.Listener }

func (l wrappingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return wrappedConn{c.(*net.TCPConn)}, nil
}

func TestWrappedConnsAreNotParked(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleParkAfter: 10 * time.Millisecond, Logger: quietLogger()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(context.Background(), wrappingListener{ln})
	defer srv.Close()
	c := dial(t, ln.Addr().String())
	loginAs(t, c, "356307042441013")
	time.Sleep(50 * time.Millisecond)
	srv.mu.Lock()
	for c := range srv.conns {
		if c.park != nil {
			t.Error("a wrapped connection is parkable")
		}
	}
	srv.mu.Unlock()
	_, avl := tlt(t)
	sendAVL(t, c, avl)
}

// TestParkedRightAfterLogin: a device that is silent after its login parks
// at once, whatever the park delay; once it reports, the delay applies
// again.
func TestParkedRightAfterLogin(t *testing.T) {
	parkingSupported(t)
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k, IdleParkAfter: time.Hour}
	addr := start(t, srv)
	c := dial(t, addr)
	_, avl := tlt(t)
	time.Sleep(50 * time.Millisecond)
	if n := parkedConns(srv); n != 0 {
		t.Fatal("parked before its login")
	}
	loginAs(t, c, "356307042441013")
	waitFor(t, "the connection to park after its login", func() bool { return parkedConns(srv) == 1 })
	sendAVL(t, c, avl) // wakes it
	time.Sleep(100 * time.Millisecond)
	if n := parkedConns(srv); n != 0 {
		t.Fatal("parked again within the park delay")
	}
	sendAVL(t, c, avl)
	if got := len(k.messages()); got != 2 {
		t.Fatalf("%d messages stored, want 2", got)
	}
}

// releasedConns counts the server's parked connections that have given up
// their net.Conn (park.go's releaseSocket).
func releasedConns(srv *Server) int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := 0
	for c := range srv.conns {
		c.ncMu.Lock()
		if c.park != nil && c.park.Parked() && c.nc == nil {
			n++
		}
		c.ncMu.Unlock()
	}
	return n
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

// TestParkedReleasesSocket: parked connections hold only their descriptor
// (no net.Conn); they still get their ACKs, commands and timeouts, and,
// ended every way, leave no descriptor open.
func TestParkedReleasesSocket(t *testing.T) {
	parkingSupported(t)
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k, IdleParkAfter: 20 * time.Millisecond,
		IdleTimeout: 600 * time.Millisecond}
	addr := start(t, srv)
	waitFor(t, "no connections", func() bool { return srv.Stats().Conns == 0 })
	before := openFDs(t)
	_, avl := tlt(t)
	const n = 12
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial(t, addr)
		loginAs(t, conns[i], fmt.Sprintf("35630704244%04d", i))
	}
	waitFor(t, "the connections to park released", func() bool { return releasedConns(srv) == n })
	for round := range 2 {
		// Woken after more than keepSocketGap (200 ms here) of silence,
		// they release their sockets again when they park.
		time.Sleep(250 * time.Millisecond)
		for _, c := range conns[:4] {
			sendAVL(t, c, avl) // woken, revived, answered
		}
		waitFor(t, "the connections to park released again", func() bool { return releasedConns(srv) == n })
		if got := len(k.messages()); got != 4*(round+1) {
			t.Fatalf("%d messages stored, want %d", got, 4*(round+1))
		}
	}
	// A device that reports again soon after parking keeps its socket at
	// the next park (no Release and Revive per message).
	sendAVL(t, conns[0], avl)
	waitFor(t, "the connection to park", func() bool { return parkedConns(srv) == n })
	if got := releasedConns(srv); got != n-1 {
		t.Fatalf("%d connections released, want %d (a device reporting again within keepSocketGap keeps its socket)", got, n-1)
	}
	// The ends: the device closes (0–3), the server closes it by ident
	// (4–7), the idle timeout (8–11, which stay silent).
	for i := range 4 {
		conns[i].Close()
		srv.CloseIdent(fmt.Sprintf("35630704244%04d", 4+i))
	}
	waitFor(t, "every connection to end", func() bool { return srv.Stats().Conns == 0 })
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for openFDs(t) > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := openFDs(t); after > before {
		t.Fatalf("%d descriptors open after the connections ended, %d before", after, before)
	}
	if st := srv.Stats(); st.IdleClosed != 4 {
		t.Fatalf("idle closed %d, want 4", st.IdleClosed)
	}
}

// passThrough is a PassThroughConn: a wrapper that counts its closes, as a
// connection bound counts its connections.
type passThrough struct {
	net.Conn
	closes *atomic.Int32
}

func (p passThrough) BareConn() net.Conn { return p.Conn }
func (p passThrough) Close() error {
	p.closes.Add(1)
	return p.Conn.Close()
}

type passThroughListener struct {
	net.Listener
	closes *atomic.Int32
}

func (l passThroughListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return passThrough{nc, l.closes}, nil
}

// A connection a listener wraps in a PassThroughConn parks like a bare
// one (its socket released between packets), answers after every wake,
// and its wrapper is closed once when the connection ends.
func TestPassThroughConnParks(t *testing.T) {
	parkingSupported(t)
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k, IdleParkAfter: 20 * time.Millisecond, Logger: quietLogger()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var closes atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, passThroughListener{ln, &closes}) }()
	defer func() { cancel(); srv.Close(); <-done }()
	c := dial(t, ln.Addr().String())
	_, avl := tlt(t)
	loginAs(t, c, "356307042441013")
	for round := range 3 {
		waitFor(t, "the connection to park", func() bool { return parkedConns(srv) == 1 })
		time.Sleep(300 * time.Millisecond) // past keepSocketGap: the socket is released
		sendAVL(t, c, avl)
		if got := len(k.messages()); got != round+1 {
			t.Fatalf("round %d: %d messages stored", round, got)
		}
	}
	if n := closes.Load(); n != 0 {
		t.Fatalf("the wrapper was closed %d times while the connection lives", n)
	}
	c.Close()
	waitFor(t, "the wrapper to be closed", func() bool { return closes.Load() == 1 })
	time.Sleep(50 * time.Millisecond)
	if n := closes.Load(); n != 1 {
		t.Fatalf("the wrapper was closed %d times, want once", n)
	}
}
