package channel

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// Server behaviour, with the Teltonika codec over real sockets. The
// session in testdata/teltonika-tcp.hex is: login (000f + IMEI) -> 01,
// one Codec 8 packet of one record -> 00000001.

// tlt returns the documented login and AVL packet.
func tlt(t testing.TB) (login, avl []byte) {
	t.Helper()
	s := loadTraffic(t, "teltonika-tcp.hex")
	return s[0].Data, s[2].Data
}

func imeiLogin(imei string) []byte { return append([]byte{0, 15}, imei...) }

// loginAs logs c in as imei and checks the 01.
func loginAs(t testing.TB, c net.Conn, imei string) {
	t.Helper()
	c.Write(imeiLogin(imei))
	if got := readN(t, c, 1); got[0] != 1 {
		t.Fatalf("login reply %x", got)
	}
}

func sendAVL(t testing.TB, c net.Conn, avl []byte) {
	t.Helper()
	c.Write(avl)
	if got := readN(t, c, 4); !bytes.Equal(got, []byte{0, 0, 0, 1}) {
		t.Fatalf("ack %x", got)
	}
}

func TestStampsRegistryAndStates(t *testing.T) {
	k := newSink()
	stateCh := make(chan ConnState, 10)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k, ChannelID: 7, ProtocolID: 14,
		ConnState: func(c *Conn, s ConnState) { stateCh <- s }}
	c := dial(t, start(t, srv))
	login, avl := tlt(t)
	loginAs(t, c, "356307042441013")
	sendAVL(t, c, avl)
	msgs := k.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := &msgs[0]
	if m.Ident() != "356307042441013" {
		t.Errorf("ident %q", m.Ident())
	}
	if peer, _ := m.Str("peer"); peer != c.LocalAddr().String() {
		t.Errorf("peer %q, want %q", peer, c.LocalAddr())
	}
	if id, _ := m.Int("channel.id"); id != 7 {
		t.Errorf("channel.id %d", id)
	}
	if id, _ := m.Int("protocol.id"); id != 14 {
		t.Errorf("protocol.id %d", id)
	}
	ts, _ := m.Float("server.timestamp")
	if d := time.Since(time.Unix(0, int64(ts*1e9))); d < 0 || d > 5*time.Second {
		t.Errorf("server.timestamp %v is %v off", ts, d)
	}
	if dev, _ := m.Float("timestamp"); dev != 1720003694 {
		t.Errorf("device timestamp %v", dev)
	}

	// The server counts a write once it returns, which may be after the
	// device has read it.
	waitFor(t, "the ACK to be counted", func() bool { return srv.Conns()[0].MessagesOut == 2 })
	infos := srv.Conns()
	want := ConnInfo{Ident: "356307042441013", Network: "tcp", Peer: c.LocalAddr().String(),
		BytesIn: uint64(len(login) + len(avl)), BytesOut: 5, MessagesIn: 1, MessagesOut: 2}
	if len(infos) != 1 {
		t.Fatalf("conns %+v", infos)
	}
	got := infos[0]
	if got.Since.IsZero() || got.LastActivity.Before(got.Since) {
		t.Errorf("times %+v", got)
	}
	got.ID, got.Since, got.LastActivity = 0, time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("conn info\n got %+v\nwant %+v", got, want)
	}
	if srv.Conn("356307042441013") == nil {
		t.Fatal("Conn(ident) is nil")
	}
	if n := srv.CloseIdent("356307042441013"); n != 1 {
		t.Fatalf("CloseIdent closed %d", n)
	}
	expectClosed(t, c, 2*time.Second)
	waitFor(t, "the registry to empty", func() bool { return len(srv.Conns()) == 0 })
	var states []string
	for range 3 {
		select {
		case s := <-stateCh:
			states = append(states, s.String())
		case <-time.After(2 * time.Second):
			t.Fatalf("states so far %v", states)
		}
	}
	if strings.Join(states, ",") != "new,identified,closed" {
		t.Fatalf("states %v", states)
	}
	st := srv.Stats()
	if st.FramesIn != 2 || st.MessagesIn != 1 || st.MessagesAcked != 1 || st.ConnsTotal != 1 || st.Conns != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRejectedLoginClosesAfterReply(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink()}
	c := dial(t, start(t, srv))
	c.Write(imeiLogin("35630704244101X")) // not an IMEI: the codec answers 00 and asks to close
	if got := readN(t, c, 1); got[0] != 0 {
		t.Fatalf("reply %x", got)
	}
	expectClosed(t, c, 2*time.Second)
}

func TestHandlerPanicIsContained(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: HandlerFunc(func(context.Context, *Conn, []protocol.Message) error {
		panic("handler bug")
	})}
	var panics atomic.Int32
	srv.OnError = func(_ *Conn, err error) {
		var pe *PanicError
		if errors.As(err, &pe) && pe.Frame == nil {
			panics.Add(1)
		}
	}
	addr := start(t, srv)
	_, avl := tlt(t)
	c := dial(t, addr)
	loginAs(t, c, "356307042441013")
	c.Write(avl)
	expectClosed(t, c, 2*time.Second)
	// The server still serves.
	loginAs(t, dial(t, addr), "356307042441014")
	if panics.Load() != 1 || srv.Stats().Panics != 1 {
		t.Fatalf("panics reported %d, counted %d", panics.Load(), srv.Stats().Panics)
	}
}

func TestIdleTimeoutAndSlowClients(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), IdleTimeout: 150 * time.Millisecond, ReadTimeout: 100 * time.Millisecond}
	addr := start(t, srv)

	silent := dial(t, addr) // connects and says nothing
	t0 := time.Now()
	expectClosed(t, silent, 2*time.Second)
	if d := time.Since(t0); d < 100*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}

	// A device trickling a packet, a byte every 20 ms, stays within the
	// idle timeout but not within ReadTimeout for the whole packet.
	_, avl := tlt(t)
	slow := dial(t, addr)
	loginAs(t, slow, "356307042441013")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range avl {
			if _, err := slow.Write(avl[i : i+1]); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t0 = time.Now()
	expectClosed(t, slow, 2*time.Second)
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("trickling device held the connection for %v", d)
	}
	<-done
	waitFor(t, "connections to be released", func() bool { return srv.Stats().Conns == 0 })
	if st := srv.Stats(); st.IdleClosed < 1 || st.ReadTimeouts < 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMaxConns(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), MaxConns: 2}
	addr := start(t, srv)
	a, b := dial(t, addr), dial(t, addr)
	loginAs(t, a, "356307042441013")
	loginAs(t, b, "356307042441014")
	over := dial(t, addr)
	expectClosed(t, over, 2*time.Second)
	a.Close()
	waitFor(t, "a slot to free", func() bool { return srv.Stats().Conns == 1 })
	loginAs(t, dial(t, addr), "356307042441015")
	if st := srv.Stats(); st.ConnsRejected != 1 {
		t.Fatalf("rejected %d", st.ConnsRejected)
	}
}

func TestShutdownDrainsBusyConnections(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := &Server{Codec: &teltonika.Codec{}, Logger: quietLogger(), Handler: HandlerFunc(func(ctx context.Context, c *Conn, msgs []protocol.Message) error {
		close(entered)
		<-release
		return nil
	})}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()

	_, avl := tlt(t)
	busy := dial(t, ln.Addr().String())
	idle := dial(t, ln.Addr().String())
	loginAs(t, idle, "356307042441013")
	loginAs(t, busy, "356307042441014")
	busy.Write(avl)
	<-entered

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	expectClosed(t, idle, 2*time.Second) // idle: closed at once
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("listener still accepts")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a handler was busy", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := readN(t, busy, 4); !bytes.Equal(got, []byte{0, 0, 0, 1}) { // the busy packet still gets its ACK
		t.Fatalf("busy ack %x", got)
	}
	expectClosed(t, busy, 2*time.Second)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownDeadlineClosesStuckHandlers(t *testing.T) {
	entered := make(chan struct{}, 1)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: HandlerFunc(func(ctx context.Context, c *Conn, msgs []protocol.Message) error {
		entered <- struct{}{}
		<-ctx.Done() // a handler that only stops when its context ends
		return ctx.Err()
	})}
	c := dial(t, start(t, srv))
	_, avl := tlt(t)
	loginAs(t, c, "356307042441013")
	c.Write(avl)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	expectClosed(t, c, time.Second)
}

func TestShutdownWaitsForAPartialFrameOnlyUntilReadTimeout(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), ReadTimeout: 200 * time.Millisecond}
	c := dial(t, start(t, srv))
	_, avl := tlt(t)
	loginAs(t, c, "356307042441013")
	c.Write(avl[:20]) // and then nothing
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	expectClosed(t, c, time.Second)
	if st := srv.Stats(); st.ReadTimeouts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestServeContextEnds(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Logger: quietLogger()}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	c := dial(t, ln.Addr().String())
	loginAs(t, c, "356307042441013")
	cancel()
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve: %v", err)
	}
	expectClosed(t, c, time.Second)
	if n := srv.Stats().Conns; n != 0 {
		t.Fatalf("%d connections left", n)
	}
}

func TestZeroServerNeedsCodecAndHandler(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	var srv Server
	if err := srv.Serve(context.Background(), ln); !errors.Is(err, ErrNoHandler) {
		t.Fatalf("Serve: %v", err)
	}
}

func TestDecodeErrorClosesConnection(t *testing.T) {
	var errc = make(chan error, 1)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), OnError: func(_ *Conn, err error) { errc <- err }}
	c := dial(t, start(t, srv))
	c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	expectClosed(t, c, 2*time.Second)
	var de *protocol.DecodeError
	if err := <-errc; !errors.As(err, &de) || de.Protocol != "teltonika" {
		t.Fatalf("error %v", err)
	}
	waitFor(t, "the decode error to be counted", func() bool { return srv.Stats().DecodeErrors == 1 })
}

func TestMaxFrameSize(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), MaxFrameSize: 200}
	c := dial(t, start(t, srv))
	loginAs(t, c, "356307042441013")
	// A packet announcing 1000 bytes of data: more than the server holds.
	c.Write(append([]byte{0, 0, 0, 0, 0, 0, 0x03, 0xe8}, make([]byte, 400)...))
	expectClosed(t, c, 2*time.Second)
}

func TestWriteTimeoutDropsADeviceThatDoesNotRead(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), WriteTimeout: 200 * time.Millisecond}
	c := dial(t, start(t, srv))
	c.(*net.TCPConn).SetReadBuffer(4096)
	c.Write([]byte("Lsleepy\n"))
	readN(t, c, 2)
	waitFor(t, "registration", func() bool { return srv.Conn("sleepy") != nil })
	// A command far larger than the socket buffers; the device never reads.
	call := srv.Send("sleepy", protocol.Command{Text: strings.Repeat("x", 16<<20)}, time.Minute)
	waitFor(t, "the connection to be dropped", func() bool { return srv.Stats().Conns == 0 })
	// The command never got through whole: it waits for the next connection.
	if _, err := call.Result(); err != ErrPending {
		t.Fatal("the call completed")
	}
	if st := srv.Stats(); st.QueuedCommands != 1 {
		t.Fatalf("stats %+v", st)
	}
}
