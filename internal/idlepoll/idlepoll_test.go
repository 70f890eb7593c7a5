package idlepoll

import (
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection.
func pair(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func supported(t *testing.T) {
	if shared() == nil {
		t.Skipf("no poller on %s", runtime.GOOS)
	}
}

func waitWoken(t *testing.T, woken chan struct{}, what string) {
	t.Helper()
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatalf("not woken by %s", what)
	}
}

func TestParkWakesWhenReadable(t *testing.T) {
	supported(t)
	srv, cli := pair(t)
	woken := make(chan struct{}, 1)
	s := For(srv, func() { woken <- struct{}{} })
	if s == nil {
		t.Fatal("For(*net.TCPConn) = nil")
	}
	defer s.Stop()
	for round := range 3 {
		if !s.Park() {
			t.Fatal("Park refused")
		}
		if !s.Parked() {
			t.Fatal("not parked after Park")
		}
		select {
		case <-woken:
			t.Fatalf("round %d: woken before anything arrived", round)
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := cli.Write([]byte{byte(round)}); err != nil {
			t.Fatal(err)
		}
		waitWoken(t, woken, "a byte")
		var b [1]byte
		if _, err := io.ReadFull(srv, b[:]); err != nil || b[0] != byte(round) {
			t.Fatalf("read %v %v", b, err)
		}
	}
}

func TestParkWakesOnHangUp(t *testing.T) {
	supported(t)
	srv, cli := pair(t)
	woken := make(chan struct{}, 1)
	s := For(srv, func() { woken <- struct{}{} })
	defer s.Stop()
	if !s.Park() {
		t.Fatal("Park refused")
	}
	cli.Close()
	waitWoken(t, woken, "the peer closing")
	if _, err := srv.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after hang-up: %v, want EOF", err)
	}
}

func TestWakeAndStop(t *testing.T) {
	supported(t)
	srv, cli := pair(t)
	woken := make(chan struct{}, 2)
	s := For(srv, func() { woken <- struct{}{} })
	if s.Wake() {
		t.Fatal("Wake of a socket that is not parked ran the wake function")
	}
	if !s.Park() {
		t.Fatal("Park refused")
	}
	if !s.Wake() {
		t.Fatal("Wake of a parked socket did nothing")
	}
	waitWoken(t, woken, "Wake")
	// The one-shot event still armed must not wake it a second time.
	cli.Write([]byte{1})
	select {
	case <-woken:
		t.Fatal("woken again by an event after Wake")
	case <-time.After(100 * time.Millisecond):
	}
	// Readable already: parking again wakes at once.
	if !s.Park() {
		t.Fatal("Park refused")
	}
	waitWoken(t, woken, "bytes waiting before Park")
	if _, err := srv.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if !s.Park() {
		t.Fatal("Park refused")
	}
	before := Watched()
	s.Stop()
	waitWoken(t, woken, "Stop")
	if s.Park() {
		t.Fatal("Park after Stop succeeded")
	}
	s.Stop()
	if got := Watched(); got != before-1 {
		t.Fatalf("Watched() = %d after Stop, want %d", got, before-1)
	}
}

func TestForNotASocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if s := For(a, func() {}); s != nil {
		t.Fatal("For(net.Pipe) != nil")
	}
}

// TestManySockets parks a few hundred connections at once, wakes them in
// a random order by writing, closing or stopping them, concurrently, and
// checks that each owner is woken exactly once per park.
func TestManySockets(t *testing.T) {
	supported(t)
	const n = 300
	type end struct {
		srv, cli net.Conn
		s        *Socket
		wakes    chan struct{}
	}
	ends := make([]*end, n)
	for i := range ends {
		e := &end{wakes: make(chan struct{}, 4)}
		e.srv, e.cli = pair(t)
		e.s = For(e.srv, func() { e.wakes <- struct{}{} })
		ends[i] = e
	}
	for round := range 3 {
		for _, e := range ends {
			if !e.s.Park() {
				t.Fatal("Park refused")
			}
		}
		var wg sync.WaitGroup
		for i, e := range ends {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch (i + round) % 3 {
				case 0:
					e.cli.Write([]byte{1})
				case 1:
					e.s.Wake()
				case 2:
					e.cli.Write([]byte{1})
					e.s.Wake()
				}
			}()
		}
		wg.Wait()
		for i, e := range ends {
			select {
			case <-e.wakes:
			case <-time.After(5 * time.Second):
				t.Fatalf("round %d: socket %d not woken", round, i)
			}
		}
		time.Sleep(20 * time.Millisecond)
		for i, e := range ends {
			if len(e.wakes) != 0 {
				t.Fatalf("round %d: socket %d woken twice", round, i)
			}
			e.srv.SetReadDeadline(time.Now().Add(time.Millisecond))
			e.srv.Read(make([]byte, 8))
			e.srv.SetReadDeadline(time.Time{})
		}
	}
	for _, e := range ends {
		e.s.Stop()
	}
}

// BenchmarkParkWake: one park and one wake by a byte from the peer, the
// cost a connection pays each time it runs out of input.
func BenchmarkParkWake(b *testing.B) {
	if shared() == nil {
		b.Skip("no poller")
	}
	srv, cli := pair(b)
	woken := make(chan struct{}, 1)
	s := For(srv, func() { woken <- struct{}{} })
	defer s.Stop()
	buf := make([]byte, 1)
	b.ReportAllocs()
	for b.Loop() {
		s.Park()
		cli.Write(buf)
		<-woken
		srv.Read(buf)
	}
}
