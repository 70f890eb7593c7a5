package embedded

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/internal/idlepoll"
	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/mochi-mqtt/server/v2/packets"
)

// parkNow parks connections as soon as they have nothing to read.
const parkNow = time.Nanosecond

func parkingSupported(t *testing.T) {
	t.Helper()
	a, b := tcpPair(t)
	defer a.Close()
	defer b.Close()
	s := idlepoll.For(a, func() {})
	if s == nil {
		t.Skip("no poller for idle connections on this platform")
	}
	s.Stop()
}

// waitParked waits until the server's one connection with client ID id is
// parked.
func waitParked(t *testing.T, s *Server, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		parked := false
		for c := range s.conns {
			if c.client != nil && c.client.ID == id && c.park != nil && c.park.Parked() {
				parked = true
			}
		}
		s.mu.Unlock()
		if parked {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("connection %q not parked", id)
}

// A parked connection receives deliveries, publishes, pings, and ends
// cleanly when the client goes away.
func TestParkedConnection(t *testing.T) {
	parkingSupported(t)
	states := make(chan ConnState, 4)
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: parkNow,
		ConnState: func(c *Client, st ConnState, err error) { states <- st }})
	in := newCollector()
	mustSub(t, s, "up/#", in)
	r := dialRaw(t, addr)
	r.connect("p", true, 0, nil)
	<-states
	r.subscribe(1, subOpt("down/p", 1))
	for i := range 3 {
		waitParked(t, s, "p")
		// Delivered while parked: the writer does not need the reader.
		if err := s.Publish(context.Background(), broker.Message{Topic: "down/p", QoS: 1, Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
		pk := r.read()
		if pk == nil || pk.FixedHeader.Type != packets.Publish || pk.Payload[0] != byte(i) {
			t.Fatalf("delivery %d: %+v", i, pk)
		}
		waitParked(t, s, "p")
		// Woken by the PUBACK, and parked again.
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
		waitParked(t, s, "p")
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "up/p", PacketID: 7, Payload: []byte{byte(i)}})
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Puback || pk.PacketID != 7 {
			t.Fatalf("PUBACK %d: %+v", i, pk)
		}
		if m := in.next(t); m.Payload[0] != byte(i) {
			t.Fatalf("published %d: %+v", i, m)
		}
		waitParked(t, s, "p")
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
			t.Fatalf("PINGRESP %d: %+v", i, pk)
		}
	}
	waitParked(t, s, "p")
	r.nc.Close()
	select {
	case st := <-states:
		if st != StateDisconnected {
			t.Fatalf("state %v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a parked connection whose client closed it was not detached")
	}
	waitConns(t, s, 0)
}

// released reports whether the parked connection of client id has given
// up its net.Conn (park.go's releaseSocket).
func released(s *Server, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.client != nil && c.client.ID == id {
			c.ncMu.Lock()
			defer c.ncMu.Unlock()
			return c.nc == nil
		}
	}
	return false
}

func waitReleased(t *testing.T, s *Server, id string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !released(s, id); {
		if time.Now().After(deadline) {
			t.Fatalf("parked connection %q kept its net.Conn", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

// TestParkedReleasesSocket: a parked TCP connection holds only its
// descriptor (no net.Conn) from its CONNACK on, and again after deliveries
// and its own packets; it still gets deliveries, and its keep-alive still
// ends it. Closed every way, the connections leave no descriptor open.
func TestParkedReleasesSocket(t *testing.T) {
	parkingSupported(t)
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: parkNow})
	waitConns(t, s, 0)
	before := openFDs(t)
	const n = 30
	clients := make([]*rawClient, n)
	for i := range clients {
		id := fmt.Sprintf("rel-%d", i)
		clients[i] = dialRaw(t, addr)
		ka := uint16(0)
		if i%3 == 2 {
			ka = 1 // ends by its keep-alive
		}
		clients[i].connect(id, true, ka, nil)
		waitParked(t, s, id)
		waitReleased(t, s, id)
	}
	r := clients[0]
	r.subscribe(1, subOpt("down/rel", 0))
	waitReleased(t, s, "rel-0")
	for i := range 3 {
		if err := s.Publish(context.Background(), broker.Message{Topic: "down/rel", Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Publish || pk.Payload[0] != byte(i) {
			t.Fatalf("delivery %d to a released connection: %+v", i, pk)
		}
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
			t.Fatalf("PINGRESP %d: %+v", i, pk)
		}
		waitReleased(t, s, "rel-0")
	}
	// The ends: the client closes (i%3 == 0), disconnects politely
	// (1), or is silent past its keep-alive (2); rel-5 is kicked by a
	// takeover of its client ID.
	for i, c := range clients {
		switch i % 3 {
		case 0:
			c.nc.Close()
		case 1:
			c.send([]byte{0xe0, 0})
		}
	}
	taker := dialRaw(t, addr)
	taker.connect("rel-5", true, 0, nil)
	taker.nc.Close()
	for _, c := range clients {
		if c.nc != nil {
			c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			io.Copy(io.Discard, c.nc) // until the server closes it
			c.nc.Close()
		}
	}
	waitConns(t, s, 0)
	deadline := time.Now().Add(5 * time.Second)
	for openFDs(t) > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := openFDs(t); after > before {
		t.Fatalf("%d descriptors open after the connections ended, %d before", after, before)
	}
}

// TestParkedKeepsSocketOfBusyClient: a client that sends again soon after
// its connection parked (within keepSocketGap, ten park delays) keeps its
// net.Conn at the next park; after a longer silence the socket is
// released again.
func TestParkedKeepsSocketOfBusyClient(t *testing.T) {
	parkingSupported(t)
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: 20 * time.Millisecond})
	r := dialRaw(t, addr)
	r.connect("busy", true, 0, nil)
	waitReleased(t, s, "busy")
	ping := func() {
		t.Helper()
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
			t.Fatalf("PINGRESP: %+v", pk)
		}
	}
	ping() // the first packet after CONNACK: nothing to compare with
	waitReleased(t, s, "busy")
	time.Sleep(60 * time.Millisecond) // parked for ~40 ms: a short gap
	ping()
	waitParked(t, s, "busy")
	time.Sleep(50 * time.Millisecond)
	if released(s, "busy") {
		t.Fatal("socket released although the client sent again within keepSocketGap")
	}
	time.Sleep(300 * time.Millisecond) // longer than keepSocketGap (200 ms)
	ping()
	waitReleased(t, s, "busy")
}

func waitConns(t *testing.T, s *Server, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.nconns.Load() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections, want %d", s.nconns.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The keep-alive deadline ends a parked connection: nobody reads its
// socket, so a timer wakes it.
func TestParkedKeepAlive(t *testing.T) {
	parkingSupported(t)
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: parkNow})
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("ka", true, 1, func(pk *packets.Packet) { pk.ProtocolVersion = 5 })
	waitParked(t, s, "ka")
	start := time.Now()
	code := r.expectClosed()
	if d := time.Since(start); d > 3*time.Second || code != 0x8D {
		t.Fatalf("closed after %v with 0x%x, want ~1.5 s and 0x8D", d, code)
	}
}

// TestParkedKeepAliveMany: parked connections with different keep-alives
// share the poller's deadline heap; each is closed at its own deadline
// (1.5 × keep-alive after its last packet), never before, and a client
// that pings moves its deadline on.
func TestParkedKeepAliveMany(t *testing.T) {
	parkingSupported(t)
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: parkNow})
	type client struct {
		r       *rawClient
		ka      time.Duration
		pings   int // PINGREQs 400 ms apart before going silent
		last    time.Time
		closed  chan time.Time
		pingsMu sync.Mutex
	}
	var clients []*client
	for i := range 24 {
		c := &client{ka: time.Second, closed: make(chan time.Time, 1)}
		switch i % 3 {
		case 1:
			c.ka = 2 * time.Second
		case 2:
			c.pings = 5
		}
		c.r = dialRaw(t, addr)
		id := fmt.Sprintf("ka-%d", i)
		c.last = time.Now()
		c.r.connect(id, true, uint16(c.ka/time.Second), nil)
		waitParked(t, s, id)
		clients = append(clients, c)
	}
	for _, c := range clients {
		go func() {
			io.Copy(io.Discard, c.r.br)
			c.closed <- time.Now()
		}()
		if c.pings > 0 {
			go func() {
				for range c.pings {
					time.Sleep(400 * time.Millisecond)
					c.pingsMu.Lock()
					c.last = time.Now()
					c.pingsMu.Unlock()
					if _, err := c.r.nc.Write([]byte{0xc0, 0}); err != nil {
						return
					}
				}
			}()
		}
	}
	for i, c := range clients {
		var at time.Time
		select {
		case at = <-c.closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("client %d (keep-alive %v) not closed", i, c.ka)
		}
		c.pingsMu.Lock()
		due := c.last.Add(c.ka * 3 / 2)
		c.pingsMu.Unlock()
		// The deadline is refreshed at most every keep-alive/4 and runs
		// on the server's 5 ms clock.
		if early := due.Sub(at); early > c.ka/4+10*time.Millisecond {
			t.Errorf("client %d (keep-alive %v, %d pings) closed %v before its deadline", i, c.ka, c.pings, early)
		}
		if late := at.Sub(due); late > time.Second {
			t.Errorf("client %d (keep-alive %v, %d pings) closed %v after its deadline", i, c.ka, c.pings, late)
		}
	}
}

// Server.Close, and a client taking over the session, end parked
// connections with the DISCONNECT MQTT 5 asks for.
func TestParkedClosedByServer(t *testing.T) {
	parkingSupported(t)
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: parkNow})
	v5 := func(pk *packets.Packet) { pk.ProtocolVersion = 5 }
	old := dialRaw(t, addr)
	old.v = 5
	old.connect("same", true, 0, v5)
	waitParked(t, s, "same")
	taker := dialRaw(t, addr)
	taker.v = 5
	taker.connect("same", true, 0, v5)
	if code := old.expectClosed(); code != 0x8E {
		t.Fatalf("taken-over connection closed with 0x%x, want 0x8E", code)
	}
	waitParked(t, s, "same")
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	if code := taker.expectClosed(); code != 0x8B {
		t.Fatalf("closed with 0x%x, want 0x8B (server shutting down)", code)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close does not return with a parked connection")
	}
}

// Many clients, each with one QoS 1 publish in flight, park after every
// packet: no wake is lost (the test would hang), over TCP and TLS.
func TestParkedManyRoundTrips(t *testing.T) {
	parkingSupported(t)
	const clients, rounds = 30, 100
	ca := testcert.NewCA(t)
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", secure), func(t *testing.T) {
			s := New(&Config{AllowAnonymous: true, IdleParkAfter: parkNow, Logger: slog.New(slog.DiscardHandler)})
			defer s.Close()
			var got sync.WaitGroup
			got.Add(clients * rounds)
			mustSub(t, s, "rt/#", broker.HandlerFunc(func(context.Context, broker.Message) error { got.Done(); return nil }))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var sl net.Listener = ln
			if secure {
				sl = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{ca.Server().TLS}})
			}
			go s.Serve(context.Background(), sl)
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- roundTrips(ln.Addr().String(), secure, ca, i, rounds)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got.Wait()
		})
	}
}

// roundTrips connects client i and publishes rounds QoS 1 messages, each
// after the PUBACK of the one before, pausing now and then so that the
// connection parks with and without bytes on the way.
func roundTrips(addr string, secure bool, ca *testcert.CA, i, rounds int) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	if secure {
		nc = tls.Client(nc, &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"})
	}
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	id := fmt.Sprintf("rt%d", i)
	connect := append([]byte{0x10, byte(12 + len(id)), 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, byte(len(id))}, id...)
	if _, err := nc.Write(connect); err != nil {
		return err
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(nc, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		return fmt.Errorf("client %d CONNACK % x: %v", i, ack, err)
	}
	topic := "rt/" + id
	for k := range rounds {
		pid := uint16(k + 1)
		pkt := []byte{0x32, byte(2 + len(topic) + 2 + 1), 0, byte(len(topic))}
		pkt = append(append(pkt, topic...), byte(pid>>8), byte(pid), byte(k))
		if k%10 == 3 {
			// Split the packet: the connection parks between the halves.
			nc.Write(pkt[:3])
			time.Sleep(2 * time.Millisecond)
			pkt = pkt[3:]
		}
		if _, err := nc.Write(pkt); err != nil {
			return err
		}
		if _, err := io.ReadFull(nc, ack); err != nil || ack[0] != 0x40 || ack[2] != byte(pid>>8) || ack[3] != byte(pid) {
			return fmt.Errorf("client %d round %d PUBACK % x: %v", i, k, ack, err)
		}
		if k%7 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// A packet whose bytes straddle the deadline of the wait before parking is
// read whole: the deadline is the broker's, not the client's.
func TestParkDeadlineMidPacket(t *testing.T) {
	parkingSupported(t)
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: 100 * time.Millisecond})
	in := newCollector()
	mustSub(t, s, "mid/#", in)
	r := dialRaw(t, addr)
	r.connect("mid", true, 0, nil)
	for i := range 3 {
		// A packet first, so that the connection waits in Go's poller
		// with the deadline, then one that arrives in two halves.
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
			t.Fatalf("PINGRESP: %+v", pk)
		}
		pkt := []byte{0x32, 2 + 5 + 2 + 1, 0, 5, 'm', 'i', 'd', '/', '1', 0, 9, byte(i)}
		r.send(pkt[:4])
		time.Sleep(300 * time.Millisecond)
		r.send(pkt[4:])
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Puback || pk.PacketID != 9 {
			t.Fatalf("round %d: PUBACK: %+v", i, pk)
		}
		if m := in.next(t); m.Payload[0] != byte(i) {
			t.Fatalf("round %d: %+v", i, m)
		}
	}
}

// event is a connection's done and wdone: its channel is made on first wait.
func TestEvent(t *testing.T) {
	t.Parallel()
	var before, after event
	w := before.wait()
	select {
	case <-w:
		t.Fatal("fired before fire")
	default:
	}
	if before.wait() != w {
		t.Fatal("two waits got two channels")
	}
	before.fire()
	before.fire() // idempotent
	<-w
	after.fire()
	<-after.wait()

	// Waiters and the firer race.
	for range 100 {
		var e event
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); <-e.wait() }()
		}
		go e.fire()
		wg.Wait()
	}
}

// A SUBSCRIBE does not make a connection busy: a subscriber parks at once
// even with a long IdleParkAfter (thousands subscribing at once held a
// goroutine each for the whole delay), and gets its deliveries parked.
func TestSubscriberParksAtOnce(t *testing.T) {
	parkingSupported(t)
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, IdleParkAfter: time.Hour})
	r := dialRaw(t, addr)
	r.connect("quiet", true, 0, nil)
	r.subscribe(1, subOpt("quiet/+", 1))
	waitParked(t, s, "quiet")
	s.Publish(context.Background(), broker.Message{Topic: "quiet/1", QoS: 1, Payload: []byte("x")})
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Publish || pk.TopicName != "quiet/1" {
		t.Fatalf("want the PUBLISH, got %+v", pk)
	}
}

// countingConn is a pass-through wrapper like a connection bound's: it
// buffers nothing and counts its Close.
type countingConn struct {
	net.Conn
	closed *atomic.Int32
}

func (c *countingConn) BareConn() net.Conn { return c.Conn }
func (c *countingConn) Close() error {
	c.closed.Add(1)
	return c.Conn.Close()
}

type countingListener struct {
	net.Listener
	closed *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{nc, l.closed}, nil
}

// A pass-through wrapper (BareConn) does not keep a parked connection's
// socket: the broker parks and releases the connection beneath, still
// delivers to it, and closes the wrapper once when the client leaves.
// (The gateway's connection bound wraps every accepted connection.)
func TestParkedReleasesBeneathPassThrough(t *testing.T) {
	parkingSupported(t)
	s := New(&Config{AllowAnonymous: true, IdleParkAfter: parkNow, Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var closed atomic.Int32
	go s.Serve(context.Background(), countingListener{ln, &closed})
	t.Cleanup(func() { s.Close() })
	r := dialRaw(t, ln.Addr().String())
	r.connect("pass", true, 0, nil)
	waitParked(t, s, "pass")
	waitReleased(t, s, "pass")
	r.subscribe(1, subOpt("down/pass", 0))
	if err := s.Publish(context.Background(), broker.Message{Topic: "down/pass", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Publish {
		t.Fatalf("delivery through a released socket: %+v", pk)
	}
	// The socket a delivery revived goes at the reader's next park.
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
		t.Fatalf("PINGRESP: %+v", pk)
	}
	waitReleased(t, s, "pass")
	if n := closed.Load(); n != 0 {
		t.Fatalf("wrapper closed %d times while the client is connected", n)
	}
	r.nc.Close()
	waitConns(t, s, 0)
	for deadline := time.Now().Add(5 * time.Second); closed.Load() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("wrapper closed %d times after the client left, want 1", closed.Load())
		}
	}
}
