package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/gt06"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/traffic"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// loadTraffic reads a recording from testdata.
func loadTraffic(t testing.TB, name string) []traffic.Chunk {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunks, err := traffic.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return chunks
}

// converse plays a recording against addr as the device would: it writes
// each '>' chunk and checks that each '<' chunk comes back byte for byte.
func converse(t *testing.T, c net.Conn, chunks []traffic.Chunk) {
	t.Helper()
	for _, ch := range chunks {
		if ch.Dir == traffic.In {
			if _, err := c.Write(ch.Data); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := readN(t, c, len(ch.Data)); !bytes.Equal(got, ch.Data) {
			t.Fatalf("line %d: server sent %x, want %x", ch.Line, got, ch.Data)
		}
	}
}

func TestTeltonikaDeviceGetsAckOnlyForStoredData(t *testing.T) {
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k, ChannelID: 1}
	c := dial(t, start(t, srv))
	session := loadTraffic(t, "teltonika-tcp.hex")
	converse(t, c, session)

	msgs := k.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := &msgs[0]
	lat, _ := m.Float("position.latitude")
	lon, _ := m.Float("position.longitude")
	if m.Ident() != "356307042441013" || lat != 42.373737 || lon != 42.373737 {
		t.Fatalf("message %s", m)
	}
	if ts, _ := m.Float("timestamp"); ts != 1720003694 {
		t.Fatalf("device timestamp %v was overwritten", ts)
	}

	// The same packet again while the store fails: no ACK. The device
	// resends after its timeout; the store is back and the ACK comes.
	avl := session[2].Data
	k.setErr(errors.New("log unavailable"))
	c.Write(avl)
	expectSilence(t, c, 200*time.Millisecond)
	k.setErr(nil)
	c.Write(avl)
	if got := readN(t, c, 4); !bytes.Equal(got, []byte{0, 0, 0, 1}) {
		t.Fatalf("ack %x", got)
	}
	if n := len(k.messages()); n != 2 {
		t.Fatalf("%d messages stored", n)
	}
}

// TestTeltonikaChunkedOverTheWire sends the session one byte per write,
// with pauses so that the server really reads it in pieces.
func TestTeltonikaChunkedOverTheWire(t *testing.T) {
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k}
	c := dial(t, start(t, srv))
	session := loadTraffic(t, "teltonika-tcp.hex")
	for _, ch := range session {
		if ch.Dir == traffic.Out {
			if got := readN(t, c, len(ch.Data)); !bytes.Equal(got, ch.Data) {
				t.Fatalf("got %x want %x", got, ch.Data)
			}
			continue
		}
		for i := range ch.Data {
			if _, err := c.Write(ch.Data[i : i+1]); err != nil {
				t.Fatal(err)
			}
			if i%8 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if n := len(k.messages()); n != 1 {
		t.Fatalf("%d messages", n)
	}
	info := srv.Conns()[0]
	if info.BytesIn != uint64(len(traffic.Inbound(session))) || info.Ident != "356307042441013" {
		t.Fatalf("info %+v", info)
	}
}

func TestTeltonikaCommandRoundTrip(t *testing.T) {
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink()}
	addr := start(t, srv)
	cmd := loadTraffic(t, "teltonika-codec12.hex")
	call := srv.Send("356307042441013", protocol.Command{Text: "getinfo"}, time.Minute)

	c := dial(t, addr)
	session := loadTraffic(t, "teltonika-tcp.hex")
	converse(t, c, session[:2]) // login, 01
	// Right after the login the queued command arrives, as documented.
	converse(t, c, cmd)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := call.Wait(ctx)
	if err != nil || !bytes.HasPrefix([]byte(resp.Text), []byte("INI:2019/7/22 7:22")) {
		t.Fatalf("answer %+v, %v", resp, err)
	}
	// Data still flows after the command.
	converse(t, c, session[2:])
}

func TestTeltonikaUDP(t *testing.T) {
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k}
	addr, _ := startUDP(t, srv)
	dev, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	rec := loadTraffic(t, "teltonika-udp.hex")
	if got := udpExchange(t, dev, string(rec[0].Data)); got != string(rec[1].Data) {
		t.Fatalf("ack %x want %x", got, rec[1].Data)
	}
	msgs := k.messages()
	if len(msgs) != 1 || msgs[0].Ident() != "352093086403655" {
		t.Fatalf("messages %v", msgs)
	}
	// No ACK when the handler fails: the device resends.
	k.setErr(errors.New("down"))
	dev.Write(rec[0].Data)
	expectSilence(t, dev, 200*time.Millisecond)
}

// panicCodec is the Teltonika codec with a planted bug: a session panics
// on Codec 8 Extended packets.
type panicCodec struct{ teltonika.Codec }

type panicSession struct{ protocol.Session }

func (c *panicCodec) NewSession(tr protocol.Transport) protocol.Session {
	return panicSession{c.Codec.NewSession(tr)}
}

func (s panicSession) Decode(f []byte, r *protocol.Result) error {
	if len(f) > 8 && f[8] == 0x8E {
		var p *protocol.Message
		p.SetInt("x", 1) // nil dereference
	}
	return s.Session.Decode(f, r)
}

func TestTeltonikaCodecPanicIsContained(t *testing.T) {
	var perr *PanicError
	errc := make(chan error, 10)
	srv := &Server{Codec: &panicCodec{}, Handler: newSink(), OnError: func(_ *Conn, err error) { errc <- err }}
	addr := start(t, srv)
	session := loadTraffic(t, "teltonika-tcp.hex")
	good, bad := dial(t, addr), dial(t, addr)
	converse(t, good, session[:2])
	converse(t, bad, session[:2])
	// A Codec 8 Extended packet (documented-examples.jsonl line 7, the
	// Teltonika wiki's example) hits the planted bug.
	ext, _ := traffic.ParseHex("000000000000004a8e010000016b412cee000100000000000000000000000000000000010005000100010100010011001d00010010015e2c880002000b000000003544c87a000e000000001dd7e06a00000100002994")
	bad.Write(ext)
	expectClosed(t, bad, 2*time.Second)
	select {
	case err := <-errc:
		if !errors.As(err, &perr) || !bytes.Equal(perr.Frame, ext) {
			t.Fatalf("error %v, frame %x", err, perr)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no error reported")
	}
	converse(t, good, session[2:]) // the other device is unaffected
}

// TestRecordingReplaysThroughProtocoltest records a live session and reads
// it back the way an operator turns traffic into a unit test.
func TestRecordingReplaysThroughProtocoltest(t *testing.T) {
	dir := t.TempDir()
	k := newSink()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: k, Record: &DirRecorder{Dir: dir}}
	addr := start(t, srv)
	session := loadTraffic(t, "teltonika-tcp.hex")
	c := dial(t, addr)
	converse(t, c, session)
	c.Close()
	waitFor(t, "the connection to end", func() bool { return srv.Stats().Conns == 0 })

	files, _ := filepath.Glob(filepath.Join(dir, "356307042441013", "*.hex"))
	if len(files) != 1 {
		t.Fatalf("recordings: %v", files)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	rec, err := traffic.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	// Same bytes in both directions as the wire saw, with times.
	var in, out []byte
	for _, ch := range rec {
		if ch.Time.IsZero() {
			t.Fatalf("line %d has no time", ch.Line)
		}
		if ch.Dir == traffic.In {
			in = append(in, ch.Data...)
		} else {
			out = append(out, ch.Data...)
		}
	}
	var wantOut []byte
	for _, ch := range session {
		if ch.Dir == traffic.Out {
			wantOut = append(wantOut, ch.Data...)
		}
	}
	if !bytes.Equal(in, traffic.Inbound(session)) || !bytes.Equal(out, wantOut) {
		t.Fatalf("recorded in %x out %x", in, out)
	}
	// Replayed through the codec, it gives the same messages and replies.
	var chunks [][]byte
	for _, ch := range rec {
		if ch.Dir == traffic.In {
			chunks = append(chunks, ch.Data)
		}
	}
	o := protocoltest.Decode(&teltonika.Codec{}, protocol.TCP, chunks)
	if o.Err != nil || !bytes.Equal(o.Replies, out) || len(o.Messages) != 1 || o.Ident != "356307042441013" {
		t.Fatalf("replay: %+v", o)
	}
	stored := k.messages()[0]
	for _, p := range o.Messages[0].Params() {
		if v, ok := stored.Lookup(p.Name); !ok || !v.Equal(p.Value) {
			t.Errorf("replayed %s = %v, stored %v", p.Name, p.Value, v)
		}
	}
}

func TestRecordingOfUnidentifiedAndFilteredDevices(t *testing.T) {
	dir := t.TempDir()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Record: &DirRecorder{Dir: dir}}
	addr := start(t, srv)
	junk := dial(t, addr)
	junk.Write([]byte("GET / HTTP/1.0\r\n\r\n")) // not Teltonika: closed, still recorded
	expectClosed(t, junk, 2*time.Second)
	waitFor(t, "the connection to end", func() bool { return srv.Stats().Conns == 0 })
	files, _ := filepath.Glob(filepath.Join(dir, "_unidentified", "*.hex"))
	if len(files) != 1 {
		t.Fatalf("recordings %v", files)
	}
	data, _ := os.ReadFile(files[0])
	rec, err := traffic.Parse(bytes.NewReader(data))
	if err != nil || len(rec) != 1 || string(rec[0].Data) != "GET / HTTP/1.0\r\n\r\n" {
		t.Fatalf("recording %q: %v", data, err)
	}

	only := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Record: &DirRecorder{Dir: dir, Idents: []string{"111111111111111"}}}
	c := dial(t, start(t, only))
	converse(t, c, loadTraffic(t, "teltonika-tcp.hex"))
	c.Close()
	waitFor(t, "the connection to end", func() bool { return only.Stats().Conns == 0 })
	if files, _ := filepath.Glob(filepath.Join(dir, "356307042441013", "*")); len(files) != 0 {
		t.Fatalf("a device outside Idents was recorded: %v", files)
	}
}

// TestManyDevicesConcurrently runs devices in parallel (the race detector
// watches the registry, counters and commands), then closes them all.
func TestManyDevicesConcurrently(t *testing.T) {
	h := &memHandler{}
	srv := &Server{Codec: &teltonika.Codec{}, Handler: h}
	addr := start(t, srv)
	_, frame := teltonikaFrame(t, 3)
	const devices, packets = 40, 5
	conns := make([]net.Conn, devices)
	errc := make(chan error, devices)
	for i := range conns {
		conns[i] = dial(t, addr)
		go func(c net.Conn, imei string) {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write(append([]byte{0, 15}, imei...))
			b := make([]byte, 4)
			if _, err := io.ReadFull(c, b[:1]); err != nil {
				errc <- err
				return
			}
			for range packets {
				c.Write(frame)
				if _, err := io.ReadFull(c, b); err != nil || b[3] != 3 {
					errc <- fmt.Errorf("ack %x: %v", b, err)
					return
				}
			}
			errc <- nil
		}(conns[i], fmt.Sprintf("%015d", 356000000000000+i))
	}
	for range devices {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if got := h.count.Load(); got != devices*packets*3 {
		t.Fatalf("%d messages", got)
	}
	infos := srv.Conns()
	if len(infos) != devices {
		t.Fatalf("%d connections listed", len(infos))
	}
	for i := 1; i < len(infos); i++ {
		if infos[i].ID <= infos[i-1].ID || infos[i].Ident == "" || infos[i].MessagesIn != packets*3 {
			t.Fatalf("listing %+v", infos[i])
		}
	}
	if n := srv.CloseAll(); n != devices {
		t.Fatalf("CloseAll closed %d", n)
	}
	for _, c := range conns {
		expectClosed(t, c, 2*time.Second)
	}
	waitFor(t, "the registry to empty", func() bool { return srv.Stats().Conns == 0 })
}

// TestOtherCodecs runs the GT06 and Wialon IPS codecs through the same
// server: nothing in channel is Teltonika-specific.
func TestOtherCodecs(t *testing.T) {
	for _, tc := range []struct {
		file  string
		codec protocol.Codec
		ident string
	}{
		{"codecs/gt06.hex", &gt06.Codec{}, "123456789012345"},
		{"codecs/wialonips.hex", &wialonips.Codec{}, "862462031400566"},
	} {
		t.Run(tc.codec.Name(), func(t *testing.T) {
			k := newSink()
			srv := &Server{Codec: tc.codec, Handler: k}
			c := dial(t, start(t, srv))
			converse(t, c, loadTraffic(t, tc.file))
			hasPosition := func() bool {
				for _, m := range k.messages() {
					if _, ok := m.Float("position.latitude"); ok {
						return true
					}
				}
				return false
			}
			waitFor(t, "a message with a position", hasPosition)
			for _, m := range k.messages() {
				if m.Ident() != tc.ident {
					t.Fatalf("message %s", &m)
				}
			}
		})
	}
}

func TestRecordingUDPSessions(t *testing.T) {
	dir := t.TempDir()
	srv := &Server{Codec: &teltonika.Codec{}, Handler: newSink(), Record: &DirRecorder{Dir: dir}, IdleTimeout: 100 * time.Millisecond}
	addr, _ := startUDP(t, srv)
	dev, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	rec := loadTraffic(t, "teltonika-udp.hex")
	udpExchange(t, dev, string(rec[0].Data))
	waitFor(t, "the session to expire", func() bool { return srv.Stats().Conns == 0 })
	files, _ := filepath.Glob(filepath.Join(dir, "352093086403655", "*.hex"))
	if len(files) != 1 {
		t.Fatalf("recordings %v", files)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	got, err := traffic.Parse(f)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0].Data, rec[0].Data) || got[1].Dir != traffic.Out || !bytes.Equal(got[1].Data, rec[1].Data) {
		t.Fatalf("recording %+v: %v", got, err)
	}
	o := protocoltest.Decode(&teltonika.Codec{}, protocol.UDP, [][]byte{got[0].Data})
	if o.Err != nil || len(o.Messages) != 1 || !bytes.Equal(o.Replies, rec[1].Data) {
		t.Fatalf("replay %+v", o)
	}
}
