package embedded

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// startServer serves a new Server on 127.0.0.1:0.
func startServer(t testing.TB, cfg *Config) (*Server, string) {
	t.Helper()
	if cfg == nil {
		cfg = &Config{AllowAnonymous: true}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, broker.ErrClosed) {
			t.Errorf("Serve returned %v, want broker.ErrClosed", err)
		}
	})
	return s, ln.Addr().String()
}

// pahoClient is an MQTT 5 client collecting what it receives.
type pahoClient struct {
	*paho.Client
	msgs chan *paho.Publish
	disc chan *paho.Disconnect
}

func dialPaho(t testing.TB, addr string, cp *paho.Connect) (*pahoClient, *paho.Connack) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	pc := &pahoClient{msgs: make(chan *paho.Publish, 1000), disc: make(chan *paho.Disconnect, 1)}
	pc.Client = paho.NewClient(paho.ClientConfig{
		Conn: nc,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			pc.msgs <- pr.Packet
			return true, nil
		}},
		OnServerDisconnect: func(d *paho.Disconnect) {
			select {
			case pc.disc <- d:
			default:
			}
		},
		OnClientError: func(error) {},
	})
	if cp == nil {
		cp = &paho.Connect{CleanStart: true, KeepAlive: 30}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ca, err := pc.Connect(ctx, cp)
	if err != nil {
		nc.Close()
		t.Fatalf("connect: %v (connack %+v)", err, ca)
	}
	t.Cleanup(func() { pc.Disconnect(&paho.Disconnect{}); nc.Close() })
	return pc, ca
}

func (pc *pahoClient) sub(t testing.TB, opts ...paho.SubscribeOptions) *paho.Suback {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sa, err := pc.Subscribe(ctx, &paho.Subscribe{Subscriptions: opts})
	if sa == nil {
		t.Fatalf("subscribe: %v", err)
	}
	return sa // refused filters show in sa.Reasons (err is then set too)
}

func (pc *pahoClient) pub(t testing.TB, p *paho.Publish) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := pc.Publish(ctx, p); err != nil {
		t.Fatalf("publish %s: %v", p.Topic, err)
	}
}

func (pc *pahoClient) next(t testing.TB) *paho.Publish {
	t.Helper()
	select {
	case m := <-pc.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
	}
	return nil
}

func (pc *pahoClient) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-pc.msgs:
		t.Fatalf("unexpected message %s %q", m.Topic, m.Payload)
	case <-time.After(d):
	}
}

// rawClient speaks bytes, for MQTT 3.1.1 and protocol-error tests.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
	v  byte
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc), v: 4}
}

func (r *rawClient) send(b []byte) {
	r.t.Helper()
	r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *rawClient) sendPacket(pk *packets.Packet) {
	r.t.Helper()
	b, err := encodePacket(pk, r.v)
	if err != nil {
		r.t.Fatal(err)
	}
	r.send(b)
}

// encodePacket encodes a client's packet for protocol version v (the
// fixed-header flags the specification requires are set here).
func encodePacket(pk *packets.Packet, v byte) ([]byte, error) {
	var buf bytes.Buffer
	pk.ProtocolVersion = v
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		pk.Mods.AllowResponseInfo = true
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Pubrec:
		err = pk.PubrecEncode(&buf)
	case packets.Pubrel:
		pk.FixedHeader.Qos = 1
		err = pk.PubrelEncode(&buf)
	case packets.Pubcomp:
		err = pk.PubcompEncode(&buf)
	case packets.Subscribe:
		pk.FixedHeader.Qos = 1
		err = pk.SubscribeEncode(&buf)
	case packets.Unsubscribe:
		pk.FixedHeader.Qos = 1
		err = pk.UnsubscribeEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	default:
		return nil, fmt.Errorf("encodePacket: type %d", pk.FixedHeader.Type)
	}
	return buf.Bytes(), err
}

func (r *rawClient) connect(id string, clean bool, keepalive uint16, mod func(*packets.Packet)) *packets.Packet {
	r.t.Helper()
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: clean, Keepalive: keepalive}
	if mod != nil {
		mod(pk)
	}
	r.sendPacket(pk)
	ca := r.read()
	if ca == nil || ca.FixedHeader.Type != packets.Connack {
		r.t.Fatalf("want CONNACK, got %+v", ca)
	}
	return ca
}

// read returns the next packet, or nil when the connection ended.
func (r *rawClient) read() *packets.Packet {
	r.t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	pk, err := readPacket(r.br, r.v)
	if errors.Is(err, errBadServerPacket) {
		r.t.Fatal(err)
	}
	if err != nil {
		return nil
	}
	return pk
}

// errBadServerPacket: the server sent what a client cannot decode.
var errBadServerPacket = errors.New("server sent a bad packet")

// readPacket reads and decodes the next packet a server sends to a client
// of protocol version v. A failure to read is returned as it is; a packet
// that does not decode wraps errBadServerPacket.
func readPacket(br *bufio.Reader, v byte) (*packets.Packet, error) {
	b, err := br.ReadByte()
	if err != nil {
		return nil, err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(b); err != nil {
		return nil, fmt.Errorf("%w: header %x: %v", errBadServerPacket, b, err)
	}
	rem, shift := 0, 0
	for {
		b, err := br.ReadByte()
		if err != nil {
			return nil, err
		}
		rem |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		shift += 7
	}
	fh.Remaining = rem
	body := make([]byte, rem)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, err
	}
	pk := &packets.Packet{FixedHeader: fh, ProtocolVersion: v}
	switch fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Pubrec:
		err = pk.PubrecDecode(body)
	case packets.Pubrel:
		err = pk.PubrelDecode(body)
	case packets.Pubcomp:
		err = pk.PubcompDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Unsuback:
		err = pk.UnsubackDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	case packets.Pingresp:
	default:
		return nil, fmt.Errorf("%w: unexpected packet type %d", errBadServerPacket, fh.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", errBadServerPacket, packets.PacketNames[fh.Type], err)
	}
	return pk, nil
}

// expectClosed waits until the server closes the connection, skipping a
// DISCONNECT, and returns its reason code (0 when none was sent).
func (r *rawClient) expectClosed() byte {
	r.t.Helper()
	code := byte(0)
	for {
		pk := r.read()
		if pk == nil {
			return code
		}
		if pk.FixedHeader.Type == packets.Disconnect {
			code = pk.ReasonCode
			continue
		}
	}
}

func (r *rawClient) subscribe(id uint16, filters ...packets.Subscription) *packets.Packet {
	r.t.Helper()
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: id, Filters: filters})
	sa := r.read()
	if sa == nil || sa.FixedHeader.Type != packets.Suback {
		r.t.Fatalf("want SUBACK, got %+v", sa)
	}
	return sa
}

// collector is an in-process handler recording messages.
type collector struct {
	mu   sync.Mutex
	msgs []broker.Message
	ch   chan broker.Message
}

func newCollector() *collector { return &collector{ch: make(chan broker.Message, 10000)} }

func (c *collector) HandleMessage(_ context.Context, m broker.Message) error {
	c.ch <- m
	return nil
}

func (c *collector) next(t testing.TB) broker.Message {
	t.Helper()
	select {
	case m := <-c.ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no in-process message within 5 s")
	}
	return broker.Message{}
}

func subOpt(filter string, qos byte) packets.Subscription {
	return packets.Subscription{Filter: filter, Qos: qos}
}

func runtimeGosched() { time.Sleep(50 * time.Microsecond) }

// tcpPair returns both ends of a real loopback TCP connection.
func tcpPair(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.Close(); client.Close() })
	return r.c, client
}
