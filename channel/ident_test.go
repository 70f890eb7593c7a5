package channel

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/gt06"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// errorLog collects what a server reports to OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(_ *Conn, err error) { l.mu.Lock(); l.errs = append(l.errs, err); l.mu.Unlock() }

func (l *errorLog) has(target error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// readAll reads what the server sends until it closes the connection,
// failing when it stays open longer than d.
func readUntilClosed(t *testing.T, c net.Conn, d time.Duration) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	var got []byte
	buf := make([]byte, 256)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection still open after %v (got %x)", d, got)
		}
		return got
	}
}

// A data frame on a connection that never logged in is neither stored nor
// acknowledged, for each protocol, over a real socket: the device gets
// the protocol's refusal (when its session has one) and the connection is
// closed. The same frame after the login is stored and acknowledged, so
// the refusal is the missing login's doing and nothing else's.
func TestNoIdentNoAck(t *testing.T) {
	login, avl := tlt(t)
	gt := loadTraffic(t, "codecs/gt06.hex")
	wi := loadTraffic(t, "codecs/wialonips.hex")
	for _, tc := range []struct {
		name  string
		codec protocol.Codec
		login []byte
		hello []byte // the reply to the login
		data  []byte
		ack   []byte // the reply to data after the login
	}{
		{"teltonika", &teltonika.Codec{}, login, []byte{1}, avl, []byte{0, 0, 0, 1}},
		{"gt06", &gt06.Codec{}, gt[0].Data, gt[1].Data, gt[2].Data, nil}, // GT06 locations are not acknowledged
		{"wialon-ips", &wialonips.Codec{}, wi[0].Data, wi[1].Data, wi[2].Data, wi[3].Data},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newSink()
			var errs errorLog
			srv := &Server{Codec: tc.codec, Handler: k, OnError: errs.add}
			addr := start(t, srv)

			c := dial(t, addr)
			if _, err := c.Write(tc.data); err != nil {
				t.Fatal(err)
			}
			got := readUntilClosed(t, c, 2*time.Second)
			want := []byte(nil)
			if rf, ok := tc.codec.NewSession(protocol.TCP).(protocol.Refuser); ok {
				want = rf.Refusal()
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("the unidentified device got %x, want the refusal %x and nothing else", got, want)
			}
			if n := len(k.messages()); n != 0 {
				t.Fatalf("%d messages stored without an ident", n)
			}
			waitFor(t, "the refusal to be counted", func() bool { return srv.Stats().Unidentified == 1 })
			if st := srv.Stats(); st.MessagesAcked != 0 || st.MessagesIn != 0 {
				t.Fatalf("stats %+v", st)
			}
			if !errs.has(ErrNoIdent) {
				t.Fatalf("OnError did not get ErrNoIdent: %v", errs.errs)
			}

			// The control: logged in, the same frame is stored with the ident.
			c = dial(t, addr)
			c.Write(tc.login)
			if got := readN(t, c, len(tc.hello)); !bytes.Equal(got, tc.hello) {
				t.Fatalf("login reply %x, want %x", got, tc.hello)
			}
			c.Write(tc.data)
			if len(tc.ack) > 0 {
				if got := readN(t, c, len(tc.ack)); !bytes.Equal(got, tc.ack) {
					t.Fatalf("ACK after login %x, want %x", got, tc.ack)
				}
			}
			waitFor(t, "the message", func() bool { return len(k.messages()) > 0 })
			if id := k.messages()[0].Ident(); id == "" {
				t.Fatalf("stored message without ident: %v", k.messages()[0].String())
			}
		})
	}
}

// refusingCodec is lineCodec whose sessions implement protocol.Refuser.
type refusingCodec struct{ lineCodec }

func (refusingCodec) NewSession(protocol.Transport) protocol.Session {
	return &refusingSession{}
}

type refusingSession struct{ lineSession }

func (*refusingSession) Refusal() []byte { return []byte("N\n") }

func TestNoIdentRefusal(t *testing.T) {
	k := newSink()
	srv := &Server{Codec: refusingCodec{}, Handler: k}
	c := dial(t, start(t, srv))
	c.Write([]byte("Dposition\n"))
	if got := readUntilClosed(t, c, 2*time.Second); string(got) != "N\n" {
		t.Fatalf("got %q, want the refusal N and a close", got)
	}
	if len(k.messages()) != 0 {
		t.Fatal("stored a message without ident")
	}
}

// A message that carries its own ident (protocols that put the ident in
// every frame) needs no login.
type selfIdentCodec struct{ lineCodec }

func (selfIdentCodec) NewSession(protocol.Transport) protocol.Session { return &selfIdentSession{} }

type selfIdentSession struct{ lineSession }

func (s *selfIdentSession) Decode(f []byte, r *protocol.Result) error {
	if err := s.lineSession.Decode(f, r); err != nil {
		return err
	}
	for i := range r.Messages {
		r.Messages[i].SetString(protocol.ParamIdent, "in-frame")
	}
	return nil
}

func TestIdentInFrameAccepted(t *testing.T) {
	k := newSink()
	srv := &Server{Codec: selfIdentCodec{}, Handler: k}
	c := dial(t, start(t, srv))
	c.Write([]byte("Dposition\n"))
	if got := readN(t, c, 2); string(got) != "K\n" {
		t.Fatalf("reply %q", got)
	}
	if ms := k.messages(); len(ms) != 1 || ms[0].Ident() != "in-frame" {
		t.Fatalf("messages %v", ms)
	}
}

// A connection that sends no login within LoginTimeout is closed, whether
// it sends nothing or frames that carry no message; one that logged in
// stays.
func TestLoginTimeout(t *testing.T) {
	var errs errorLog
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), LoginTimeout: 150 * time.Millisecond, OnError: errs.add}
	addr := start(t, srv)
	silent := dial(t, addr)
	chatty := dial(t, addr)
	chatty.Write([]byte("R:no message in this frame\n"))
	good := dial(t, addr)
	good.Write([]byte("Lok\n"))
	if got := readN(t, good, 2); string(got) != "A\n" {
		t.Fatalf("login reply %q", got)
	}
	start := time.Now()
	expectClosed(t, silent, 2*time.Second)
	expectClosed(t, chatty, 2*time.Second)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("closed after %v", d)
	}
	waitFor(t, "the timeouts to be counted", func() bool { return srv.Stats().LoginTimeouts == 2 })
	if !errs.has(ErrLoginTimeout) {
		t.Fatalf("OnError: %v", errs.errs)
	}
	// Well past the login timeout, the identified connection still works.
	time.Sleep(200 * time.Millisecond)
	good.Write([]byte("Dstill here\n"))
	if got := readN(t, good, 2); string(got) != "K\n" {
		t.Fatalf("reply %q", got)
	}
	if st := srv.Stats(); st.LoginTimeouts != 2 || st.IdleClosed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLoginTimeoutDefault(t *testing.T) {
	if got := (&Server{}).loginTimeout(); got != DefaultLoginTimeout || got >= DefaultIdleTimeout {
		t.Fatalf("default login timeout %v", got)
	}
	if got := (&Server{LoginTimeout: -1}).loginTimeout(); got > 0 {
		t.Fatalf("negative login timeout %v", got)
	}
}

// Over UDP a datagram without ident is dropped and counted, and a session
// that never identifies ends at LoginTimeout.
func TestUDPNoIdent(t *testing.T) {
	k := newSink()
	srv := &Server{Codec: &gt06.Codec{}, Handler: k, LoginTimeout: 150 * time.Millisecond}
	addr, _ := startUDP(t, srv)
	dev, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	gt := loadTraffic(t, "codecs/gt06.hex")
	// A heartbeat wants an ACK once logged in; without a login it gets
	// nothing and is not stored.
	heartbeat := []byte{0x78, 0x78, 0x0a, 0x13, 0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x15, 0x3d, 0xc2, 0x0d, 0x0a}
	dev.Write(heartbeat)
	dev.Write(gt[2].Data)
	waitFor(t, "two refusals", func() bool { return srv.Stats().Unidentified == 2 })
	expectSilence(t, dev, 50*time.Millisecond)
	waitFor(t, "the session to end", func() bool { return srv.Stats().Conns == 0 })
	if st := srv.Stats(); st.LoginTimeouts != 1 || st.MessagesIn != 0 || len(k.messages()) != 0 {
		t.Fatalf("stats %+v, %d stored", st, len(k.messages()))
	}
	// Logged in, the heartbeat is stored and acknowledged.
	if got := udpExchange(t, dev, string(gt[0].Data)); got != string(gt[1].Data) {
		t.Fatalf("login reply %x", got)
	}
	if got := udpExchange(t, dev, string(heartbeat)); len(got) != 10 || got[3] != 0x13 {
		t.Fatalf("heartbeat reply %x", got)
	}
	waitFor(t, "the login and heartbeat messages", func() bool { return len(k.messages()) == 2 })
}
