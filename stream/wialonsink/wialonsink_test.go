package wialonsink_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/wialonretranslator"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/streamtest"
	"github.com/gnssgate/gnssgate/stream/wialonsink"
)

// action is what the receiver does with one packet.
type action int

const (
	ack     action = iota // store it and answer 0x11
	hangUp                // close the connection without storing or answering
	silent                // store nothing, answer nothing, keep reading
	garbage               // store nothing, answer 0x00
)

// receiver is a real Wialon Retranslator server: it accepts TCP (or TLS)
// connections, decodes packets with the codec and answers 0x11.
type receiver struct {
	streamtest.Collector
	ln      net.Listener
	conns   atomic.Int64 // connections accepted
	packets atomic.Int64 // packets received, stored or not

	mu   sync.Mutex
	open map[net.Conn]bool
	// hook, when set, decides per packet: conn is the connection's number
	// (1 for the first), n the packet's number on it (1 for the first).
	hook func(conn, n int64) action
	// discard acknowledges without keeping the messages (benchmarks).
	discard bool
}

func newReceiver(t testing.TB, cfg *tls.Config) *receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	rc := &receiver{ln: ln, open: map[net.Conn]bool{}}
	go rc.accept()
	t.Cleanup(rc.close)
	return rc
}

func (rc *receiver) addr() string { return rc.ln.Addr().String() }

func (rc *receiver) setHook(h func(conn, n int64) action) {
	rc.mu.Lock()
	rc.hook = h
	rc.mu.Unlock()
}

func (rc *receiver) accept() {
	for {
		c, err := rc.ln.Accept()
		if err != nil {
			return
		}
		n := rc.conns.Add(1)
		rc.mu.Lock()
		rc.open[c] = true
		rc.mu.Unlock()
		go rc.serve(c, n)
	}
}

// SetDown drops every connection and keeps dropping new ones until up.
func (rc *receiver) SetDown(down bool) {
	rc.Collector.SetDown(down)
	if down {
		rc.dropAll()
	}
}

func (rc *receiver) dropAll() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for c := range rc.open {
		c.Close()
	}
}

func (rc *receiver) close() {
	rc.ln.Close()
	rc.dropAll()
}

var errHangUp = errors.New("hang up")

func (rc *receiver) serve(c net.Conn, connNo int64) {
	defer func() {
		c.Close()
		rc.mu.Lock()
		delete(rc.open, c)
		rc.mu.Unlock()
	}()
	d := protocol.NewStreamDecoder(&wialonretranslator.Codec{}, protocol.TCP, 0)
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := c.Read(buf)
		if k > 0 {
			ferr := d.Feed(buf[:k], func(_ []byte, r *protocol.Result) error {
				rc.packets.Add(1)
				n++
				if rc.Down() {
					return errHangUp
				}
				rc.mu.Lock()
				hook := rc.hook
				rc.mu.Unlock()
				act := ack
				if hook != nil {
					act = hook(connNo, n)
				}
				switch act {
				case hangUp:
					return errHangUp
				case silent:
					return nil
				case garbage:
					_, err := c.Write([]byte{0})
					return err
				}
				if !rc.discard {
					rc.Add(streamtest.Received{Message: r.Messages[0].Clone()})
				}
				_, err := c.Write(r.Reply)
				return err
			})
			if ferr != nil {
				return // a decode error or a hang-up: close, as a Wialon server does
			}
		}
		if err != nil {
			return
		}
	}
}

// params are the parameters of the suite's messages; all of them map to
// Wialon blocks and back (ident, time, posinfo, pwr_ext, avl_inputs).
var params = []string{
	protocol.ParamIdent, protocol.ParamTimestamp, protocol.ParamLatitude, protocol.ParamLongitude,
	protocol.ParamAltitude, protocol.ParamSpeed, protocol.ParamDirection, protocol.ParamSatellites,
	"external.powersource.voltage", "din",
}

func TestConformance(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		rc := newReceiver(t, nil)
		sink, err := wialonsink.New(&wialonsink.Config{Addr: rc.addr()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sink.Close() })
		return sink, rc
	}, streamtest.Options{NoIDs: true, NoReject: true, Params: params})
}

func TestConformanceWindow1(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		rc := newReceiver(t, nil)
		sink, err := wialonsink.New(&wialonsink.Config{Addr: rc.addr(), Window: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sink.Close() })
		return sink, rc
	}, streamtest.Options{NoIDs: true, NoReject: true, Params: params})
}

func batchOf(n int) *stream.Batch {
	l := memory.New(nil).Log()
	msgs := make([]protocol.Message, n)
	for i := range msgs {
		msgs[i] = streamtest.Message("356307042441013", i)
	}
	if _, err := l.Append(context.Background(), msgs); err != nil {
		panic(err)
	}
	recs, err := l.Read(context.Background(), 1, n)
	if err != nil {
		panic(err)
	}
	b := &stream.Batch{Stream: "t"}
	for i := range recs {
		b.Messages = append(b.Messages, stream.Message{Seq: recs[i].Seq, Message: &recs[i].Message})
	}
	return b
}

// runStream streams msgs through sink until all are committed.
func runStream(t *testing.T, sink stream.Sink, msgs []protocol.Message, cfg stream.Config) *stream.Stream {
	t.Helper()
	return streamtest.Deliver(t, sink, msgs, cfg)
}

func messages(n int) []protocol.Message {
	msgs := make([]protocol.Message, n)
	for i := range msgs {
		msgs[i] = streamtest.Message("356307042441013", i)
	}
	return msgs
}

// distinct returns how many different messages (by time) the receiver
// stored, and how many it stored in all.
func distinct(rc *receiver) (unique, total int) {
	seen := map[float64]bool{}
	got := rc.Received()
	for _, r := range got {
		ts, _ := r.Message.Float(protocol.ParamTimestamp)
		seen[ts] = true
	}
	return len(seen), len(got)
}

// The receiver hangs up in the middle of a batch: Write reports the
// acknowledged messages as accepted and only the rest as failed, so the
// retry does not send the acknowledged ones again.
func TestHangUpMidBatch(t *testing.T) {
	rc := newReceiver(t, nil)
	rc.setHook(func(conn, n int64) action {
		if conn == 1 && n == 31 {
			return hangUp
		}
		return ack
	})
	sink, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr(), Window: 1})
	defer sink.Close()
	b := batchOf(50)
	err := sink.Write(context.Background(), b)
	var be *stream.BatchError
	if !errors.As(err, &be) || be.Len() != 20 {
		t.Fatalf("Write = %v, want a BatchError naming the 20 unacknowledged messages", err)
	}
	for i := range b.Messages {
		if failed := be.Err(i) != nil; failed != (i >= 30) || failed && stream.IsPermanent(be.Err(i)) {
			t.Fatalf("message %d: %v", i, be.Err(i))
		}
	}
	// Through a stream: nothing lost, nothing acknowledged sent twice.
	rc2 := newReceiver(t, nil)
	rc2.setHook(func(conn, n int64) action {
		if conn <= 2 && n == 17 {
			return hangUp
		}
		return ack
	})
	sink2, _ := wialonsink.New(&wialonsink.Config{Addr: rc2.addr(), Window: 1})
	defer sink2.Close()
	s := runStream(t, sink2, messages(100), stream.Config{MaxBatch: 100})
	if u, total := distinct(rc2); u != 100 || total != 100 {
		t.Fatalf("receiver stored %d distinct of %d, want 100 of 100", u, total)
	}
	if st := s.Stats(); st.Retries != 2 || st.Accepted != 100 {
		t.Fatalf("stats %+v, want 2 retries", st)
	}
}

// With a window, a hang-up can lose acknowledgements of packets the
// receiver stored: those are sent again (at least once), never lost.
func TestHangUpWithWindow(t *testing.T) {
	rc := newReceiver(t, nil)
	rc.setHook(func(conn, n int64) action {
		if conn == 1 && n == 40 {
			return hangUp
		}
		return ack
	})
	sink, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr(), Window: 16})
	defer sink.Close()
	runStream(t, sink, messages(200), stream.Config{MaxBatch: 200})
	if u, _ := distinct(rc); u != 200 {
		t.Fatalf("receiver stored %d distinct messages, want 200", u)
	}
}

// The receiver reads but never answers: the stream's write timeout ends
// the Write, the connection is dropped (a late 0x11 must not count for a
// later packet) and the retry goes through a new one.
func TestNoAnswerTimesOut(t *testing.T) {
	rc := newReceiver(t, nil)
	rc.setHook(func(conn, n int64) action {
		if conn == 1 {
			return silent
		}
		return ack
	})
	sink, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr()})
	defer sink.Close()
	s := runStream(t, sink, messages(30), stream.Config{WriteTimeout: 100 * time.Millisecond})
	if st := s.Stats(); st.Retries != 1 || rc.conns.Load() != 2 {
		t.Fatalf("stats %+v over %d connections, want 1 retry over 2", st, rc.conns.Load())
	}
	if u, total := distinct(rc); u != 30 || total != 30 {
		t.Fatalf("stored %d distinct of %d", u, total)
	}

	// AckTimeout bounds the wait below the stream's write timeout.
	rc2 := newReceiver(t, nil)
	rc2.setHook(func(conn, n int64) action {
		if conn == 1 {
			return silent
		}
		return ack
	})
	sink2, _ := wialonsink.New(&wialonsink.Config{Addr: rc2.addr(), AckTimeout: 50 * time.Millisecond})
	defer sink2.Close()
	start := time.Now()
	err := sink2.Write(context.Background(), batchOf(5))
	if err == nil || stream.IsPermanent(err) || time.Since(start) > 5*time.Second {
		t.Fatalf("Write against a silent receiver = %v after %v", err, time.Since(start))
	}
	if err := sink2.Write(context.Background(), batchOf(5)); err != nil {
		t.Fatalf("Write on a new connection: %v", err)
	}
}

// The receiver answers something other than 0x11: the connection is out
// of step and is replaced; the message is sent again.
func TestGarbageAnswer(t *testing.T) {
	rc := newReceiver(t, nil)
	rc.setHook(func(conn, n int64) action {
		if conn == 1 && n == 3 {
			return garbage
		}
		return ack
	})
	sink, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr(), Window: 1})
	defer sink.Close()
	err := sink.Write(context.Background(), batchOf(10))
	var be *stream.BatchError
	if !errors.As(err, &be) || be.Len() != 8 || !errors.Is(be.Err(2), wialonsink.ErrBadAck) {
		t.Fatalf("Write = %v, want messages 2..9 failed with ErrBadAck", err)
	}
	s := runStream(t, sink, messages(10), stream.Config{})
	if st := s.Stats(); st.Accepted != 10 {
		t.Fatalf("stats %+v", st)
	}
}

// A message that cannot be a packet (no ident) is refused for good; the
// others are delivered.
func TestUnencodableIsPermanent(t *testing.T) {
	rc := newReceiver(t, nil)
	sink, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr()})
	defer sink.Close()
	msgs := messages(20)
	msgs[7].Delete(protocol.ParamIdent)
	msgs[12].SetString("custom.note", "zero\x00byte")
	dl := memory.New(nil).Log()
	s := runStream(t, sink, msgs, stream.Config{DeadLetter: dl})
	if st := s.Stats(); st.Accepted != 18 || st.DeadLettered != 2 || st.Retries != 0 {
		t.Fatalf("stats %+v, want 18 accepted and 2 dead-lettered", st)
	}
	if u, _ := distinct(rc); u != 18 {
		t.Fatalf("receiver stored %d", u)
	}
	recs, _ := dl.Read(context.Background(), 1, 5)
	if len(recs) != 2 {
		t.Fatalf("dead letters: %d", len(recs))
	}
	if r, _ := recs[0].Message.Str(stream.ParamRejectReason); !strings.Contains(r, "no ident") {
		t.Fatalf("reason %q", r)
	}
}

// A receiver that closes idle connections costs no failed batch: the sink
// notices before writing and connects again.
func TestIdleConnectionClosedByReceiver(t *testing.T) {
	rc := newReceiver(t, nil)
	sink, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr()})
	defer sink.Close()
	if err := sink.Write(context.Background(), batchOf(3)); err != nil {
		t.Fatal(err)
	}
	rc.dropAll()
	time.Sleep(20 * time.Millisecond) // let the FIN arrive
	if err := sink.Write(context.Background(), batchOf(3)); err != nil {
		t.Fatalf("Write after the receiver closed the idle connection: %v", err)
	}
	if n := rc.conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

func TestTLS(t *testing.T) {
	ca := testcert.NewCA(t)
	srv, cli := ca.Server(), ca.Client("gateway")
	scfg, err := tlsconf.Files{CA: ca.File, Cert: srv.CertFile, Key: srv.KeyFile}.Server()
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, scfg)
	ccfg, err := tlsconf.Files{CA: ca.File, Cert: cli.CertFile, Key: cli.KeyFile}.Client()
	if err != nil {
		t.Fatal(err)
	}
	sink, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr(), TLS: ccfg})
	defer sink.Close()
	runStream(t, sink, messages(25), stream.Config{MaxBatch: 10})
	if u, _ := distinct(rc); u != 25 || rc.conns.Load() != 1 {
		t.Fatalf("stored %d over TLS in %d connections, want 25 in 1 (the server's session tickets do not count as unasked bytes)", u, rc.conns.Load())
	}
	// Without the client certificate the handshake fails: retried, never
	// accepted.
	bare, _ := tlsconf.Files{CA: ca.File}.Client()
	sink2, _ := wialonsink.New(&wialonsink.Config{Addr: rc.addr(), TLS: bare})
	defer sink2.Close()
	if err := sink2.Write(context.Background(), batchOf(1)); err == nil || stream.IsPermanent(err) {
		t.Fatalf("Write without a client certificate = %v, want a retried error", err)
	}
}

func TestNewRejectsBadAddr(t *testing.T) {
	for _, a := range []string{"", "no-port", "host:1:2"} {
		if _, err := wialonsink.New(&wialonsink.Config{Addr: a}); err == nil {
			t.Errorf("New(%q) accepted", a)
		}
	}
}
