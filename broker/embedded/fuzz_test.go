package embedded

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// fuzzSeeds builds valid conversations (CONNECT then traffic) for both
// protocol versions, which the fuzzer then mutates.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, v := range []byte{4, 5} {
		enc := func(pk packets.Packet) []byte {
			var b bytes.Buffer
			pk.ProtocolVersion = v
			pk.Mods.AllowResponseInfo = true
			switch pk.FixedHeader.Type {
			case packets.Connect:
				pk.ConnectEncode(&b)
			case packets.Publish:
				pk.PublishEncode(&b)
			case packets.Subscribe:
				pk.FixedHeader.Qos = 1
				pk.SubscribeEncode(&b)
			case packets.Unsubscribe:
				pk.FixedHeader.Qos = 1
				pk.UnsubscribeEncode(&b)
			case packets.Puback:
				pk.PubackEncode(&b)
			case packets.Pubrel:
				pk.FixedHeader.Qos = 1
				pk.PubrelEncode(&b)
			case packets.Disconnect:
				pk.DisconnectEncode(&b)
			}
			return b.Bytes()
		}
		conn := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect},
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "fz", Clean: true, Keepalive: 30,
				WillFlag: true, WillTopic: "w", WillPayload: []byte("bye"), WillQos: 1}}
		conn.Properties.SessionExpiryInterval, conn.Properties.SessionExpiryIntervalFlag = 10, true
		conn.Properties.TopicAliasMaximum = 5
		sub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
			Filters: packets.Subscriptions{{Filter: "a/+", Qos: 2}, {Filter: "$share/g/a/#", Qos: 1}, {Filter: "x/1,2/y"}}}
		sub.Properties.SubscriptionIdentifier = []int{7}
		pub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2, Retain: true},
			PacketID: 2, TopicName: "a/b", Payload: []byte("hello")}
		pub.Properties.TopicAlias, pub.Properties.TopicAliasFlag = 1, true
		pub.Properties.ResponseTopic, pub.Properties.CorrelationData = "r", []byte{1}
		pub.Properties.User = []packets.UserProperty{{Key: "k", Val: "v"}}
		rel := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: 2}
		unsub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe}, PacketID: 3,
			Filters: packets.Subscriptions{{Filter: "a/+"}}}
		ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: 1}
		disc := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}}
		c := enc(conn)
		seeds = append(seeds, c,
			bytes.Join([][]byte{c, enc(sub), enc(pub), enc(rel), enc(ack), {0xC0, 0}, enc(unsub), enc(disc)}, nil),
			bytes.Join([][]byte{c, enc(pub), {0xC0, 0}}, nil))
	}
	// Hand-made CONNECTs the conformance tests use (spec_raw_test.go):
	// MQTT 3.1 with credentials and an empty will, trailing username bytes,
	// an MQTT 5 DISCONNECT with Remaining Length 1 and a PUBREL with DUP.
	seeds = append(seeds,
		append(rawConnect(3, 0xc6, nil, str("c3"), str("w"), str(""), str("u"), str("p")), 0x62, 2, 0, 1, 0x6a, 2, 0, 1),
		rawConnect(4, 0x02, nil, str("c4"), str("trailing")),
		append(rawConnect(5, 0x06, []byte{0x27, 0, 0, 0, 20}, str("c5"), []byte{0}, str("w"), str("")), 0xe0, 1, 4))
	return seeds
}

// FuzzConn feeds arbitrary bytes to a connection: the server must neither
// panic nor hang, whatever it is sent. The connection is a net.Pipe, read
// as TLS and WebSocket connections are.
func FuzzConn(f *testing.F) {
	fuzzConn(f, func(t *testing.T) (client, server net.Conn) {
		client, server = net.Pipe()
		return client, server
	})
}

// FuzzConnTCP is FuzzConn over loopback TCP, the raw-socket read path.
func FuzzConnTCP(f *testing.F) {
	fuzzConn(f, func(t *testing.T) (client, server net.Conn) {
		server, client = tcpPair(t)
		return client, server
	})
}

func fuzzConn(f *testing.F, pair func(t *testing.T) (client, server net.Conn)) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	s := New(&Config{AllowAnonymous: true, MaxPacketSize: 4096, ConnectTimeout: time.Second,
		MaxSessionIdle: time.Second, Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := pair(t)
		s.ServeConn(server)
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		client.Write(data)
		client.Close()
		deadline := time.Now().Add(3 * time.Second)
		for s.nconns.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("connection still served 3 s after the client closed (%d open)", s.nconns.Load())
			}
			time.Sleep(time.Millisecond)
		}
	})
}
