package channel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// The proxy tests play a Teltonika device against a proxy channel whose
// upstream is a second channel.Server with the same codec: the "old
// platform", answering and storing as a platform does.

const proxyIMEI = "356307042441013"

// avlPacket is a Codec 8 packet with one record at Unix time sec (each
// test message is told apart by its time).
func avlPacket(sec int64) []byte {
	body := []byte{0x08, 1}
	body = binary.BigEndian.AppendUint64(body, uint64(sec)*1000)
	body = append(body, 0)                                        // priority
	body = binary.BigEndian.AppendUint32(body, uint32(254000000)) // longitude 25.4
	body = binary.BigEndian.AppendUint32(body, uint32(547000000)) // latitude 54.7
	body = append(body, 0, 100, 0, 90, 7, 0, 30)                  // altitude, angle, satellites, speed
	body = append(body, 0, 0, 0, 0, 0, 0)                         // event id, IO count, no IO of 1, 2, 4, 8 bytes
	body = append(body, 1)
	pkt := []byte{0, 0, 0, 0}
	pkt = binary.BigEndian.AppendUint32(pkt, uint32(len(body)))
	pkt = append(pkt, body...)
	return binary.BigEndian.AppendUint32(pkt, uint32(crc16.ARC.Checksum(body)))
}

func loginPacket(imei string) []byte {
	return append([]byte{0, byte(len(imei))}, imei...)
}

// memRecorder keeps recordings in memory.
type memRecorder struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
	once sync.Once
}

func newMemRecorder() *memRecorder { return &memRecorder{done: make(chan struct{})} }

func (m *memRecorder) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.Write(p)
}

func (m *memRecorder) Close() error { m.once.Do(func() { close(m.done) }); return nil }

func (m *memRecorder) chunks(t *testing.T) []traffic.Chunk {
	t.Helper()
	select {
	case <-m.done:
	case <-time.After(3 * time.Second):
		t.Fatal("recording not closed")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	chunks, err := traffic.Parse(bytes.NewReader(m.buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return chunks
}

// platform is the "old platform": a Teltonika server on its own listener,
// which a test can stop and start again on the same address.
type platform struct {
	t    *testing.T
	sink *sink
	addr string
	srv  *Server
	stop context.CancelFunc
	done chan struct{}
}

func newPlatform(t *testing.T) *platform {
	p := &platform{t: t, sink: newSink(), addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.close)
	return p
}

func (p *platform) start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.srv = &Server{Codec: &teltonika.Codec{}, Handler: p.sink, Logger: quietLogger()}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.done = cancel, make(chan struct{})
	srv, done := p.srv, p.done
	go func() { srv.Serve(ctx, ln); close(done) }()
}

func (p *platform) close() {
	if p.stop == nil {
		return
	}
	p.stop()
	p.srv.Close()
	<-p.done
	p.stop = nil
}

// device is the tracker's side of one TCP connection.
type device struct {
	t *testing.T
	c net.Conn
}

func (d *device) send(b []byte) {
	d.t.Helper()
	if _, err := d.c.Write(b); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) expect(want []byte) {
	d.t.Helper()
	if got := readN(d.t, d.c, len(want)); !bytes.Equal(got, want) {
		d.t.Fatalf("device got %x, want %x", got, want)
	}
}

func times(msgs []protocol.Message) []float64 {
	var out []float64
	for i := range msgs {
		ts, _ := msgs[i].Float("timestamp")
		out = append(out, ts)
	}
	return out
}

func TestProxyRelaysUpstreamAcksAndRecordsBothSides(t *testing.T) {
	up := newPlatform(t)
	ours := newSink()
	rec := newMemRecorder()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: ours, Record: RecorderFunc(func(*Conn) (io.WriteCloser, error) { return rec, nil }),
		Proxy: Proxy{Upstreams: []string{up.addr}}}
	d := &device{t, dial(t, start(t, srv))}

	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	for sec := int64(1_700_000_000); sec < 1_700_000_003; sec++ {
		d.send(avlPacket(sec))
		d.expect([]byte{0, 0, 0, 1})
	}
	want := []float64{1_700_000_000, 1_700_000_001, 1_700_000_002}
	if got := times(ours.messages()); !slicesEqual(got, want) {
		t.Fatalf("we stored %v", got)
	}
	if got := times(up.sink.messages()); !slicesEqual(got, want) {
		t.Fatalf("the upstream stored %v", got)
	}
	st := srv.Stats()
	// Every answer the device got came from the upstream: 01 and three
	// record counts.
	if st.UpstreamRelayed != 1+3*4 || st.UpstreamFrames != 4 || st.UpstreamConnects != 1 {
		t.Fatalf("stats %+v", st)
	}

	d.c.Close()
	chunks := rec.chunks(t)
	var lines []string
	for _, ch := range chunks {
		mark := ch.Dir.String()
		if ch.Upstream > 0 {
			mark = strings.Replace(mark, "u", "u1", 1)
		}
		lines = append(lines, mark)
	}
	// Each frame: in from the device, forwarded, answered by the
	// upstream, relayed.
	wantLines := strings.Repeat(">,u1>,u1<,<,", 4)
	if got := strings.Join(lines, ",") + ","; got != wantLines {
		t.Fatalf("recorded %s\nwant     %s", got, wantLines)
	}
	if !bytes.Equal(chunks[1].Data, loginPacket(proxyIMEI)) || !bytes.Equal(chunks[2].Data, []byte{1}) {
		t.Fatalf("recorded %+v", chunks[:4])
	}
}

func slicesEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A frame our handler did not store goes nowhere: no upstream sees it, so
// no ACK at all reaches the device, which resends.
func TestProxyForwardsOnlyStoredFrames(t *testing.T) {
	up := newPlatform(t)
	ours := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: ours, Proxy: Proxy{Upstreams: []string{up.addr}}}
	d := &device{t, dial(t, start(t, srv))}
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})

	ours.setErr(errors.New("log unavailable"))
	d.send(avlPacket(1_700_000_000))
	expectSilence(t, d.c, 300*time.Millisecond)
	if n := len(up.sink.messages()); n != 0 {
		t.Fatalf("the upstream got %d messages we did not store", n)
	}
	ours.setErr(nil)
	d.send(avlPacket(1_700_000_000))
	d.expect([]byte{0, 0, 0, 1})
	if len(ours.messages()) != 1 || len(up.sink.messages()) != 1 {
		t.Fatalf("stored %d here, %d upstream", len(ours.messages()), len(up.sink.messages()))
	}
}

// The upstream goes down: the device is served with our ACKs, the frames
// are held; the upstream comes back on the same address: the login is
// replayed, then the held frames, and its ACKs are the device's again.
// Nothing is lost on either side.
func TestProxyUpstreamDownAndBack(t *testing.T) {
	up := newPlatform(t)
	ours := newSink()
	var errs sync.Map
	srv := &Server{Codec: &teltonika.Codec{}, Handler: ours,
		OnError: func(_ *Conn, err error) { errs.Store(err.Error(), true) },
		Proxy:   Proxy{Upstreams: []string{up.addr}, RetryMin: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond}}
	d := &device{t, dial(t, start(t, srv))}
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	sec := int64(1_700_000_000)
	d.send(avlPacket(sec))
	d.expect([]byte{0, 0, 0, 1})

	up.close()
	waitFor(t, "the upstream to be seen down", func() bool { return srv.Stats().UpstreamFailures > 0 })
	for range 3 {
		sec++
		d.send(avlPacket(sec))
		d.expect([]byte{0, 0, 0, 1}) // ours
	}
	relayedWhileDown := srv.Stats().UpstreamRelayed

	up.start()
	waitFor(t, "the upstream to get the held frames", func() bool { return len(up.sink.messages()) == 4 })
	st := srv.Stats()
	if st.UpstreamConnects != 2 || st.UpstreamReplayed != 4 || st.UpstreamDropped != 0 {
		t.Fatalf("stats %+v: want a reconnection replaying the login and 3 frames", st)
	}
	sec++
	d.send(avlPacket(sec))
	d.expect([]byte{0, 0, 0, 1})
	if got := srv.Stats().UpstreamRelayed; got != relayedWhileDown+4 {
		t.Fatalf("relayed %d bytes, want %d: the ACK after the return must be the upstream's", got, relayedWhileDown+4)
	}
	// Only the last ACK was relayed: the upstream's answers to the replayed
	// login and frames were dropped (the device had ours).
	want := []float64{1_700_000_000, 1_700_000_001, 1_700_000_002, 1_700_000_003, 1_700_000_004}
	if got := times(ours.messages()); !slicesEqual(got, want) {
		t.Fatalf("we stored %v", got)
	}
	if got := times(up.sink.messages()); !slicesEqual(got, want) {
		t.Fatalf("the upstream stored %v", got)
	}
	if up.srv.Conn(proxyIMEI) == nil {
		t.Fatal("the upstream does not know the device: the login was not replayed")
	}
	found := false
	errs.Range(func(k, _ any) bool { found = found || strings.Contains(k.(string), up.addr); return true })
	if !found {
		t.Fatal("the upstream's failure was not reported to OnError")
	}
}

// An upstream that accepts but never answers is taken for down after
// ReplyTimeout; the device then gets our answers, in order, and no late
// answer of the upstream can follow them.
func TestProxySilentUpstream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var got bytes.Buffer
	var gotMu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					gotMu.Lock()
					got.Write(buf[:n])
					gotMu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	ours := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: ours,
		Proxy: Proxy{Upstreams: []string{ln.Addr().String()}, ReplyTimeout: 200 * time.Millisecond, RetryMin: time.Hour}}
	d := &device{t, dial(t, start(t, srv))}
	t0 := time.Now()
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	if wait := time.Since(t0); wait < 150*time.Millisecond {
		t.Fatalf("answered after %v: before the upstream's time was up", wait)
	}
	d.send(avlPacket(1_700_000_000))
	d.expect([]byte{0, 0, 0, 1}) // ours at once: the upstream is down now
	gotMu.Lock()
	defer gotMu.Unlock()
	if !bytes.Equal(got.Bytes(), loginPacket(proxyIMEI)) {
		t.Fatalf("the silent upstream got %x", got.Bytes())
	}
}

// With AckOurs the device gets exactly one ACK per frame, ours; the
// upstream's are recognised and dropped, its commands relayed.
func TestProxyAckOursRelaysUpstreamCommands(t *testing.T) {
	up := newPlatform(t)
	ours := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: ours, Proxy: Proxy{Upstreams: []string{up.addr}, Ack: AckOurs}}
	d := &device{t, dial(t, start(t, srv))}
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	for sec := int64(1_700_000_000); sec < 1_700_000_003; sec++ {
		d.send(avlPacket(sec))
		d.expect([]byte{0, 0, 0, 1})
	}
	waitFor(t, "the upstream to store 3 messages", func() bool { return len(up.sink.messages()) == 3 })

	// A command from the old platform reaches the device, and the device's
	// answer reaches the old platform.
	cmd := loadTraffic(t, "teltonika-codec12.hex")
	call := up.srv.Send(proxyIMEI, protocol.Command{Text: "getinfo"}, time.Minute)
	d.expect(cmd[0].Data)
	d.send(cmd[1].Data)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := call.Wait(ctx)
	if err != nil || !strings.HasPrefix(resp.Text, "INI:2019/7/22") {
		t.Fatalf("the upstream's command: %+v, %v", resp, err)
	}
	// So does one of ours.
	mine := srv.Send(proxyIMEI, protocol.Command{Text: "getinfo"}, time.Minute)
	d.expect(cmd[0].Data)
	d.send(cmd[1].Data)
	if resp, err := mine.Wait(ctx); err != nil || !strings.HasPrefix(resp.Text, "INI:2019/7/22") {
		t.Fatalf("our command: %+v, %v", resp, err)
	}
	// Nothing else reached the device: no upstream ACK slipped through.
	expectSilence(t, d.c, 200*time.Millisecond)
	if st := srv.Stats(); st.UpstreamRelayed != uint64(len(cmd[0].Data)) {
		t.Fatalf("relayed %d bytes; only the command should have been", st.UpstreamRelayed)
	}
}

// A command queued for a device that is connecting goes out after the
// answer to its login — the upstream's, when it gives it — never before.
func TestProxyCommandsWaitForTheLoginAnswer(t *testing.T) {
	up := newPlatform(t)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Proxy: Proxy{Upstreams: []string{up.addr}}}
	srv.ConnState = func(c *Conn, st ConnState) {
		if st == StateIdentified {
			srv.Send(c.Ident(), protocol.Command{Text: "getinfo"}, time.Minute)
		}
	}
	d := &device{t, dial(t, start(t, srv))}
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	d.expect(loadTraffic(t, "teltonika-codec12.hex")[0].Data)
}

// The same without a proxy: Send from ConnState at the login must not
// overtake the login's answer.
func TestCommandAfterLoginAnswer(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink()}
	srv.ConnState = func(c *Conn, st ConnState) {
		if st == StateIdentified {
			srv.Send(c.Ident(), protocol.Command{ID: 7, Text: "hello"}, time.Minute)
		}
	}
	addr := start(t, srv)
	for i := range 20 { // the race it guards against is a matter of scheduling
		c := dial(t, addr)
		r := bufio.NewReader(c)
		fmt.Fprintf(c, "Ldev%d\n", i)
		if got := readLine(t, r, c); got != "A\n" {
			t.Fatalf("first line %q: the command overtook the login's answer", got)
		}
		if got := readLine(t, r, c); got != "X7:hello\n" {
			t.Fatalf("second line %q", got)
		}
		fmt.Fprintf(c, "Lother%d\n", i) // a new ident: its command follows its answer too
		if got := readLine(t, r, c); got != "A\n" {
			t.Fatalf("after a new login %q", got)
		}
		if got := readLine(t, r, c); got != "X7:hello\n" {
			t.Fatalf("after a new login, second line %q", got)
		}
		c.Close()
	}
}

// A second upstream is a mirror: it gets every frame, and nothing it says
// reaches the device.
func TestProxyMirrorsToEveryUpstream(t *testing.T) {
	first, second := newPlatform(t), newPlatform(t)
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Proxy: Proxy{Upstreams: []string{first.addr, second.addr}}}
	d := &device{t, dial(t, start(t, srv))}
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	d.send(avlPacket(1_700_000_000))
	d.expect([]byte{0, 0, 0, 1})
	waitFor(t, "both upstreams to store the message", func() bool {
		return len(first.sink.messages()) == 1 && len(second.sink.messages()) == 1
	})
	expectSilence(t, d.c, 200*time.Millisecond)
	if st := srv.Stats(); st.UpstreamFrames != 4 || st.UpstreamRelayed != 5 {
		t.Fatalf("stats %+v", st)
	}
}

// Over UDP each datagram our handler accepted goes to the upstream, and
// the device gets exactly one answer: ours.
func TestProxyUDP(t *testing.T) {
	upSink := newSink()
	upSrv := &Server{Codec: &teltonika.Codec{}, Handler: upSink, Logger: quietLogger()}
	upPC, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go upSrv.ServePacket(ctx, upPC)
	defer upSrv.Close()

	ours := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: ours, Logger: quietLogger(),
		Proxy: Proxy{Upstreams: []string{upPC.LocalAddr().String()}}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServePacket(ctx, pc)
	defer srv.Close()

	dev, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	session := loadTraffic(t, "teltonika-udp.hex")
	dev.Write(session[0].Data)
	dev.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	n, err := dev.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], session[1].Data) {
		t.Fatalf("ack %x, %v", buf[:n], err)
	}
	waitFor(t, "the upstream to store the datagram", func() bool { return len(upSink.messages()) == 1 })
	dev.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := dev.Read(buf); err == nil {
		t.Fatalf("a second answer %x reached the device", buf[:n])
	}
	if len(ours.messages()) != 1 {
		t.Fatalf("we stored %d", len(ours.messages()))
	}
}

func TestParseProxyAck(t *testing.T) {
	for in, want := range map[string]ProxyAck{"": AckUpstream, "upstream": AckUpstream, "ours": AckOurs} {
		if got, err := ParseProxyAck(in); err != nil || got != want || (in != "" && got.String() != in) {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	if _, err := ParseProxyAck("theirs"); err == nil {
		t.Error("theirs accepted")
	}
	p := Proxy{RetryMin: time.Second, RetryMax: 8 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 10: 8 * time.Second} {
		if d := p.retryDelay(n); d < want*8/10 || d > want*12/10 {
			t.Errorf("attempt %d: delay %v, want %v ± 20%%", n, d, want)
		}
	}
}

// The upstream gets the device's bytes as they were sent, however they
// were cut on the way: two frames in one write, one frame a byte at a time.
func TestProxyForwardsFramesWhole(t *testing.T) {
	up := newPlatform(t)
	rec := newMemRecorder()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Record: RecorderFunc(func(*Conn) (io.WriteCloser, error) { return rec, nil }),
		Proxy: Proxy{Upstreams: []string{up.addr}}}
	d := &device{t, dial(t, start(t, srv))}
	first := append(loginPacket(proxyIMEI), avlPacket(1_700_000_000)...)
	d.send(first)
	d.expect([]byte{1, 0, 0, 0, 1})
	second := avlPacket(1_700_000_001)
	for i := range second {
		d.send(second[i : i+1])
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	d.expect([]byte{0, 0, 0, 1})
	waitFor(t, "the upstream to store both", func() bool { return len(up.sink.messages()) == 2 })
	d.c.Close()
	var forwarded []byte
	for _, ch := range rec.chunks(t) {
		if ch.Dir == traffic.ToUpstream {
			forwarded = append(forwarded, ch.Data...)
		}
	}
	if want := append(first, second...); !bytes.Equal(forwarded, want) {
		t.Fatalf("forwarded %x\nwant      %x", forwarded, want)
	}
}

// scripted is an upstream played by a test: script runs on each accepted
// connection.
func scripted(t *testing.T, script func(c net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); script(c) }()
		}
	}()
	return ln.Addr().String()
}

// An upstream that acknowledges in its own words: its answers reach the
// device as they are, and when it then goes away the device is not
// answered a second time for the frame it answered.
func TestProxyUpstreamInOtherWords(t *testing.T) {
	addr := scripted(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		n, _ := c.Read(buf) // the login
		if !bytes.Equal(buf[:n], loginPacket(proxyIMEI)) {
			return
		}
		c.Write([]byte{1})
		c.Read(buf) // a record
		c.Write([]byte("ACK!"))
		time.Sleep(100 * time.Millisecond) // then it goes away
	})
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(),
		Proxy: Proxy{Upstreams: []string{addr}, ReplyTimeout: 200 * time.Millisecond, RetryMin: time.Hour}}
	d := &device{t, dial(t, start(t, srv))}
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	d.send(avlPacket(1_700_000_000))
	d.expect([]byte("ACK!"))
	waitFor(t, "the upstream to be seen gone", func() bool { return srv.Stats().UpstreamFailures > 0 })
	expectSilence(t, d.c, 300*time.Millisecond)
	d.send(avlPacket(1_700_000_001))
	d.expect([]byte{0, 0, 0, 1}) // ours, now that it is gone
}

// With AckOurs, an upstream command that comes between a frame and the
// upstream's ACK of it is relayed, and the ACK that follows is still
// recognised and dropped.
func TestProxyAckOursCommandBeforeAck(t *testing.T) {
	cmd := loadTraffic(t, "teltonika-codec12.hex")[0].Data
	addr := scripted(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		c.Read(buf)
		c.Write([]byte{1})
		c.Read(buf)
		c.Write(cmd)
		time.Sleep(50 * time.Millisecond)
		c.Write([]byte{0, 0, 0, 1})
		c.Read(buf) // until the proxy goes
	})
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Proxy: Proxy{Upstreams: []string{addr}, Ack: AckOurs}}
	d := &device{t, dial(t, start(t, srv))}
	d.send(loginPacket(proxyIMEI))
	d.expect([]byte{1})
	d.send(avlPacket(1_700_000_000))
	d.expect([]byte{0, 0, 0, 1}) // ours, at once
	d.expect(cmd)
	expectSilence(t, d.c, 300*time.Millisecond) // not the upstream's ACK
}

// An upstream that does not answer its SYNs does not keep a device from
// its login's answer for long.
func TestProxyUnreachableUpstreamAtLogin(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(),
		Proxy: Proxy{Upstreams: []string{"192.0.2.1:5027"}, // TEST-NET-1: nothing answers
			Dial: func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }}}
	d := &device{t, dial(t, start(t, srv))}
	t0 := time.Now()
	d.send(loginPacket(proxyIMEI))
	d.c.SetReadDeadline(time.Now().Add(proxyFirstWait + 2*time.Second))
	b := make([]byte, 1)
	if _, err := io.ReadFull(d.c, b); err != nil || b[0] != 1 {
		t.Fatalf("login: %x %v", b, err)
	}
	if wait := time.Since(t0); wait > proxyFirstWait+time.Second {
		t.Fatalf("login answered after %v", wait)
	}
	d.send(avlPacket(1_700_000_000))
	d.expect([]byte{0, 0, 0, 1})
}

// BenchmarkProxyRoundTrip is one device's packet to its ACK: straight to a
// channel (direct), and through a proxy channel to an upstream channel,
// whose ACK comes back (upstream) or with ours (ours). The handlers only
// count, so the figures are the channels' and the proxy's own cost.
func BenchmarkProxyRoundTrip(b *testing.B) {
	login, frame := teltonikaFrame(b, 1)
	run := func(b *testing.B, proxy *Proxy) {
		target := &Server{Codec: &teltonika.Codec{}, Handler: &memHandler{}}
		addr := start(b, target)
		if proxy != nil {
			p := *proxy
			p.Upstreams = []string{addr}
			srv := &Server{Codec: &teltonika.Codec{}, Handler: &memHandler{}, Proxy: p}
			addr = start(b, srv)
		}
		c := dial(b, addr)
		c.Write(login)
		readN(b, c, 1)
		ack := make([]byte, 4)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.Write(frame)
			if _, err := io.ReadFull(c, ack); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, nil) })
	b.Run("upstream", func(b *testing.B) { run(b, &Proxy{}) })
	b.Run("ours", func(b *testing.B) { run(b, &Proxy{Ack: AckOurs}) })
}
