package channel

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

func TestLineRoundTripStampsAndRegistry(t *testing.T) {
	k := newSink()
	var states []string
	stateCh := make(chan ConnState, 10)
	srv := &Server{Codec: lineCodec{}, Handler: k, ChannelID: 7, ProtocolID: 3,
		ConnState: func(c *Conn, s ConnState) { stateCh <- s }}
	addr := start(t, srv)
	c := dial(t, addr)
	r := bufio.NewReader(c)
	c.Write([]byte("Ldev1\nDhello\n"))
	if got := readLine(t, r, c) + readLine(t, r, c); got != "A\nK\n" {
		t.Fatalf("replies %q", got)
	}
	msgs := k.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := &msgs[0]
	for _, p := range []string{"ident", "timestamp", "server.timestamp", "channel.id", "protocol.id", "peer"} {
		if !m.Has(p) {
			t.Errorf("message lacks %s: %s", p, m)
		}
	}
	if m.Ident() != "dev1" {
		t.Errorf("ident %q", m.Ident())
	}
	if peer, _ := m.Str("peer"); peer != c.LocalAddr().String() {
		t.Errorf("peer %q, want %q", peer, c.LocalAddr())
	}
	if id, _ := m.Int("channel.id"); id != 7 {
		t.Errorf("channel.id %d", id)
	}
	ts, _ := m.Float("server.timestamp")
	if d := time.Since(time.Unix(0, int64(ts*1e9))); d < 0 || d > 5*time.Second {
		t.Errorf("server.timestamp %v is %v off", ts, d)
	}

	infos := srv.Conns()
	if len(infos) != 1 || infos[0].Ident != "dev1" || infos[0].MessagesIn != 1 || infos[0].BytesIn != 13 || infos[0].BytesOut != 4 || infos[0].MessagesOut != 2 {
		t.Fatalf("conns %+v", infos)
	}
	if srv.Conn("dev1") == nil {
		t.Fatal("Conn(dev1) is nil")
	}
	if n := srv.CloseIdent("dev1"); n != 1 {
		t.Fatalf("CloseIdent closed %d", n)
	}
	expectClosed(t, c, 2*time.Second)
	waitFor(t, "the registry to empty", func() bool { return len(srv.Conns()) == 0 })
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
	if st.MessagesIn != 1 || st.MessagesAcked != 1 || st.ConnsTotal != 1 || st.Conns != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHandlerErrorSendsNoAckAndKeepsConnection(t *testing.T) {
	k := newSink()
	var errs atomic.Int32
	srv := &Server{Codec: lineCodec{}, Handler: k, OnError: func(*Conn, error) { errs.Add(1) }}
	c := dial(t, start(t, srv))
	r := bufio.NewReader(c)
	c.Write([]byte("Ldev\n"))
	readLine(t, r, c)
	k.setErr(errors.New("store is down"))
	c.Write([]byte("Done\n"))
	expectSilence(t, c, 200*time.Millisecond)
	// The device resends: this time the store accepts, and the ACK comes.
	k.setErr(nil)
	c.Write([]byte("Done\n"))
	if got := readLine(t, r, c); got != "K\n" {
		t.Fatalf("reply %q", got)
	}
	if n := len(k.messages()); n != 1 {
		t.Fatalf("%d messages stored", n)
	}
	if st := srv.Stats(); st.HandlerErrors != 1 || st.MessagesAcked != 1 || errs.Load() != 1 {
		t.Fatalf("stats %+v, OnError calls %d", st, errs.Load())
	}
}

func TestCodecCloseAfterReply(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink()}
	c := dial(t, start(t, srv))
	c.Write([]byte("Lbad\n"))
	if got := readN(t, c, 2); string(got) != "N\n" {
		t.Fatalf("reply %q", got)
	}
	expectClosed(t, c, 2*time.Second)
}

func TestCodecPanicClosesOnlyThatConnection(t *testing.T) {
	k := newSink()
	var perr atomic.Pointer[PanicError]
	srv := &Server{Codec: lineCodec{}, Handler: k, OnError: func(_ *Conn, err error) {
		var pe *PanicError
		if errors.As(err, &pe) {
			perr.Store(pe)
		}
	}}
	addr := start(t, srv)
	good, bad := dial(t, addr), dial(t, addr)
	gr := bufio.NewReader(good)
	good.Write([]byte("Lgood\n"))
	readLine(t, gr, good)
	bad.Write([]byte("Lbad-device\nP\n"))
	readN(t, bad, 2)
	expectClosed(t, bad, 2*time.Second)
	pe := perr.Load()
	if pe == nil || string(pe.Frame) != "P" || len(pe.Stack) == 0 {
		t.Fatalf("panic error %+v", pe)
	}
	good.Write([]byte("Dstill here\n"))
	if got := readLine(t, gr, good); got != "K\n" {
		t.Fatalf("good connection: %q", got)
	}
	if st := srv.Stats(); st.Panics != 1 {
		t.Fatalf("panics %d", st.Panics)
	}
}

func TestHandlerPanicIsContained(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: HandlerFunc(func(context.Context, *Conn, []protocol.Message) error {
		panic("handler bug")
	})}
	addr := start(t, srv)
	c := dial(t, addr)
	c.Write([]byte("Lx\nDy\n"))
	readN(t, c, 2)
	expectClosed(t, c, 2*time.Second)
	// The server still accepts.
	c2 := dial(t, addr)
	c2.Write([]byte("Lz\n"))
	if got := readN(t, c2, 2); string(got) != "A\n" {
		t.Fatalf("%q", got)
	}
}

func TestIdleTimeoutAndSlowClients(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), IdleTimeout: 150 * time.Millisecond, ReadTimeout: 100 * time.Millisecond}
	addr := start(t, srv)

	silent := dial(t, addr) // connects and says nothing
	start := time.Now()
	expectClosed(t, silent, 2*time.Second)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}

	// A device trickling half a frame is closed by ReadTimeout even though
	// it keeps sending within IdleTimeout.
	slow := dial(t, addr)
	slow.Write([]byte("Ltrickle\n"))
	readN(t, slow, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 { // two seconds of trickling, if the server let it
			if _, err := slow.Write([]byte("D")); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t0 := time.Now()
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
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), MaxConns: 2}
	addr := start(t, srv)
	a, b := dial(t, addr), dial(t, addr)
	for _, c := range []net.Conn{a, b} {
		c.Write([]byte("Lok\n"))
		readN(t, c, 2)
	}
	over := dial(t, addr)
	expectClosed(t, over, 2*time.Second)
	a.Close()
	waitFor(t, "a slot to free", func() bool { return srv.Stats().Conns == 1 })
	c := dial(t, addr)
	c.Write([]byte("Lagain\n"))
	if got := readN(t, c, 2); string(got) != "A\n" {
		t.Fatalf("%q", got)
	}
	if st := srv.Stats(); st.ConnsRejected != 1 {
		t.Fatalf("rejected %d", st.ConnsRejected)
	}
}

func TestShutdownDrainsBusyConnections(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := &Server{Codec: lineCodec{}, Logger: quietLogger(), Handler: HandlerFunc(func(ctx context.Context, c *Conn, msgs []protocol.Message) error {
		close(entered)
		<-release
		return nil
	})}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()

	busy := dial(t, ln.Addr().String())
	idle := dial(t, ln.Addr().String())
	idle.Write([]byte("Lidle\n"))
	readN(t, idle, 2)
	busy.Write([]byte("Lbusy\nDwork\n"))
	readN(t, busy, 2)
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
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still accepts")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a handler was busy", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := readN(t, busy, 2); string(got) != "K\n" { // the busy frame still gets its ACK
		t.Fatalf("busy reply %q", got)
	}
	expectClosed(t, busy, 2*time.Second)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownDeadlineClosesStuckHandlers(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: HandlerFunc(func(ctx context.Context, c *Conn, msgs []protocol.Message) error {
		<-ctx.Done() // a handler that only stops when its context ends
		return ctx.Err()
	})}
	c := dial(t, start(t, srv))
	c.Write([]byte("Lx\nDy\n"))
	readN(t, c, 2)
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	expectClosed(t, c, time.Second)
}

func TestServeContextEnds(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), Logger: quietLogger()}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	c := dial(t, ln.Addr().String())
	c.Write([]byte("La\n"))
	readN(t, c, 2)
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
	srv := &Server{Codec: lineCodec{}, Handler: newSink()}
	c := dial(t, start(t, srv))
	c.Write([]byte("Zjunk\n"))
	expectClosed(t, c, 2*time.Second)
	waitFor(t, "the decode error to be counted", func() bool { return srv.Stats().DecodeErrors == 1 })
}

func TestMaxFrameSize(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), MaxFrameSize: 100}
	c := dial(t, start(t, srv))
	c.Write([]byte("D" + strings.Repeat("x", 300))) // no newline: a frame that never ends
	expectClosed(t, c, 2*time.Second)
}

func TestShutdownWaitsForAPartialFrameOnlyUntilReadTimeout(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), ReadTimeout: 200 * time.Millisecond}
	c := dial(t, start(t, srv))
	c.Write([]byte("Lx\nDhalf a frame")) // and then nothing
	readN(t, c, 2)
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
