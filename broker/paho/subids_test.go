package paho

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/eclipse/paho.golang/packets"
	mqtt "github.com/eclipse/paho.golang/paho"
)

const testKey = "gnssgate-subscription-ids-test"

// publishBody builds a PUBLISH body by hand: paho cannot encode several
// subscription identifiers.
func publishBody(topic string, pid uint16, props []byte, payload string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(topic)))
	b = append(b, topic...)
	if pid != 0 {
		b = binary.BigEndian.AppendUint16(b, pid)
	}
	b = appendVarint(b, len(props))
	b = append(b, props...)
	return append(b, payload...)
}

func packet(h byte, body []byte) []byte {
	return append(appendVarint([]byte{h}, len(body)), body...)
}

func strProp(id byte, s ...string) []byte {
	b := []byte{id}
	for _, x := range s {
		b = binary.BigEndian.AppendUint16(b, uint16(len(x)))
		b = append(b, x...)
	}
	return b
}

func subIDProp(id int) []byte { return appendVarint([]byte{11}, id) }

func readPublishes(t testing.TB, stream []byte) (pubs []*mqtt.Publish, other int) {
	c := &subIDConn{key: testKey, r: bufio.NewReader(bytes.NewReader(stream))}
	for {
		cp, err := packets.ReadPacket(c)
		if errors.Is(err, io.EOF) {
			return pubs, other
		}
		if err != nil {
			t.Fatalf("ReadPacket: %v", err)
		}
		if p, ok := cp.Content.(*packets.Publish); ok {
			pubs = append(pubs, mqtt.PublishFromPacketPublish(p))
		} else {
			other++
		}
	}
}

func TestSubIDConnRewrites(t *testing.T) {
	props := slices.Concat(strProp(38, "k", "v"), subIDProp(5), strProp(3, "text/plain"), subIDProp(300), subIDProp(268435455))
	var stream []byte
	stream = append(stream, packet(0x32, publishBody("a/b", 7, props, "hello"))...)                      // QoS 1, three ids
	stream = append(stream, 0xD0, 0x00)                                                                  // PINGRESP
	stream = append(stream, packet(0x30, publishBody("c", 0, subIDProp(9), "x"))...)                     // QoS 0, one id
	stream = append(stream, packet(0x31, publishBody("d", 0, strProp(38, testKey, "1,2"), "forged"))...) // no ids: unchanged
	pubs, other := readPublishes(t, stream)
	if len(pubs) != 3 || other != 1 {
		t.Fatalf("got %d publishes and %d other packets", len(pubs), other)
	}

	p := pubs[0]
	if p.Topic != "a/b" || p.PacketID != 7 || p.QoS != 1 || string(p.Payload) != "hello" || p.Properties.ContentType != "text/plain" {
		t.Fatalf("first publish changed: %+v", p)
	}
	if ids := subscriptionIDs(p, testKey); !slices.Equal(ids, []int{5, 300, 268435455}) {
		t.Fatalf("ids %v", ids)
	}
	if len(p.Properties.User) != 1 || p.Properties.User[0] != (mqtt.UserProperty{Key: "k", Value: "v"}) {
		t.Fatalf("user properties %v", p.Properties.User)
	}

	if ids := subscriptionIDs(pubs[1], testKey); !slices.Equal(ids, []int{9}) {
		t.Fatalf("single id: %v", ids)
	}
	// A publisher's property under the key is taken only when the key is
	// its own; with a random key per Broker it cannot be guessed.
	if ids := subscriptionIDs(pubs[2], "other-key"); ids != nil || len(pubs[2].Properties.User) != 1 {
		t.Fatalf("forged property routed: %v", ids)
	}
}

func TestSubIDConnMalformed(t *testing.T) {
	c := &subIDConn{key: testKey, r: bufio.NewReader(bytes.NewReader([]byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}))}
	if _, err := packets.ReadPacket(c); err == nil {
		t.Fatal("5-byte remaining length accepted")
	}
	// A truncated PUBLISH with several ids reaches paho unchanged.
	body := publishBody("a", 1, slices.Concat(subIDProp(1), subIDProp(2)), "")
	if _, ok := rewritePublish(0x32, body[:len(body)-1], testKey); ok {
		t.Fatal("truncated body rewritten")
	}
}

// FuzzRewritePublish checks that a rewritten PUBLISH still decodes, keeps
// topic, packet identifier and payload, and carries the identifiers the
// original had.
func FuzzRewritePublish(f *testing.F) {
	f.Add(byte(0x32), publishBody("a/b", 7, slices.Concat(strProp(38, "k", "v"), subIDProp(5), subIDProp(300)), "hello"))
	f.Add(byte(0x30), publishBody("t", 0, slices.Concat(subIDProp(1), strProp(9, "\x00\x01"), subIDProp(2), []byte{1, 1}), ""))
	f.Add(byte(0x34), publishBody("x/y/z", 65535, slices.Concat(subIDProp(268435455), []byte{2, 0, 0, 0, 9, 35, 0, 1}, subIDProp(16384)), "p"))
	f.Add(byte(0x30), publishBody("c", 0, subIDProp(9), "x"))
	f.Fuzz(func(t *testing.T, h byte, body []byte) {
		h = 0x30 | h&0x0F
		out, ok := rewritePublish(h, body, testKey)
		if !ok {
			return
		}
		orig, err := packets.ReadPacket(bytes.NewReader(packet(h, body)))
		if err != nil {
			return // paho rejects the original too
		}
		got, err := packets.ReadPacket(bytes.NewReader(packet(h, out)))
		if err != nil {
			t.Fatalf("rewritten packet does not decode: %v", err)
		}
		o, g := orig.Content.(*packets.Publish), got.Content.(*packets.Publish)
		if o.Topic != g.Topic || o.PacketID != g.PacketID || !bytes.Equal(o.Payload, g.Payload) {
			t.Fatalf("rewrite changed the message: %+v → %+v", o, g)
		}
		ids := subscriptionIDs(mqtt.PublishFromPacketPublish(g), testKey)
		if len(ids) < 2 || o.Properties.SubscriptionIdentifier == nil || ids[len(ids)-1] != *o.Properties.SubscriptionIdentifier {
			t.Fatalf("ids %v, paho kept %v", ids, o.Properties.SubscriptionIdentifier)
		}
	})
}

// BenchmarkReadPublish measures paho's decoding of a 200-byte QoS 1
// PUBLISH read directly (raw), through subIDConn with one identifier
// (passed on unchanged) and with three (rewritten).
func BenchmarkReadPublish(b *testing.B) {
	payload := string(bytes.Repeat([]byte("x"), 200))
	cases := []struct {
		name  string
		props []byte
		wrap  bool
	}{
		{"raw", subIDProp(5), false},
		{"one-id", subIDProp(5), true},
		{"three-ids", slices.Concat(subIDProp(5), subIDProp(300), subIDProp(70000)), true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			pkt := packet(0x32, publishBody("devices/123/telemetry", 7, tc.props, payload))
			src := &repeatReader{pkt: pkt}
			var r io.Reader = src
			if tc.wrap {
				r = &subIDConn{key: testKey, r: bufio.NewReader(src)}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for b.Loop() {
				if _, err := packets.ReadPacket(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// repeatReader yields pkt over and over.
type repeatReader struct {
	pkt []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.pkt[r.off:])
	r.off = (r.off + n) % len(r.pkt)
	return n, nil
}

// FuzzSubIDConn reads an arbitrary byte stream directly and through
// subIDConn, with paho's decoder and reads of random sizes: both must see
// the same packets (PUBLISH topic, packet identifier and payload) up to
// the first error, and subIDConn must not fail where the direct read did
// not.
func FuzzSubIDConn(f *testing.F) {
	props := slices.Concat(strProp(38, "k", "v"), subIDProp(5), subIDProp(300))
	f.Add(slices.Concat(packet(0x32, publishBody("a/b", 7, props, "hello")), []byte{0xD0, 0x00}, packet(0x30, publishBody("c", 0, subIDProp(9), "x"))), uint8(3))
	f.Add(slices.Concat([]byte{0x40, 0x02, 0x00, 0x07}, packet(0x3B, publishBody("t", 1, slices.Concat(subIDProp(1), subIDProp(2)), ""))), uint8(1))
	f.Add([]byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, uint8(0))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		direct := bytes.NewReader(stream)
		c := &subIDConn{key: testKey, r: bufio.NewReader(bytes.NewReader(stream))}
		wrapped := &chunkReader{r: c, n: int(chunk)%7 + 1}
		for range framed(stream) {
			want, werr := packets.ReadPacket(direct)
			got, gerr := packets.ReadPacket(wrapped)
			if werr != nil {
				return // after the first error the streams may differ
			}
			if gerr != nil {
				t.Fatalf("through subIDConn: %v (direct read: %v)", gerr, want)
			}
			if want.Type != got.Type {
				t.Fatalf("packet type %d, want %d", got.Type, want.Type)
			}
			if w, ok := want.Content.(*packets.Publish); ok {
				g := got.Content.(*packets.Publish)
				if w.Topic != g.Topic || w.PacketID != g.PacketID || !bytes.Equal(w.Payload, g.Payload) {
					t.Fatalf("publish %+v, want %+v", g, w)
				}
			}
		}
	})
}

// chunkReader reads at most n bytes at a time.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// framed counts the packets at the start of stream whose remaining length,
// decoded as paho does, fits in the stream: paho would allocate a claimed
// gigabyte before reading it, which the fuzzer must not do.
func framed(stream []byte) int {
	n := 0
	for i := 0; i < len(stream) && n < 64; n++ {
		i++
		length, shift := 0, 0
		for {
			if i >= len(stream) || shift > 21 { // MQTT allows 4 bytes; paho more
				return n
			}
			d := stream[i]
			i++
			length |= int(d&0x7F) << shift
			shift += 7
			if d < 0x80 {
				break
			}
		}
		if length > len(stream)-i {
			return n
		}
		i += length
	}
	return n
}

func TestSubIDConnLargePublish(t *testing.T) {
	payload := string(bytes.Repeat([]byte("p"), 100<<10))
	stream := packet(0x32, publishBody("big", 1, slices.Concat(subIDProp(1), subIDProp(2)), payload))
	pubs, _ := readPublishes(t, stream)
	if len(pubs) != 1 || string(pubs[0].Payload) != payload {
		t.Fatal("large publish changed")
	}
	if ids := subscriptionIDs(pubs[0], testKey); !slices.Equal(ids, []int{1, 2}) {
		t.Fatalf("ids %v", ids)
	}
	// A server claiming more than it sends costs what it sent, not what it claimed.
	c := &subIDConn{key: testKey, r: bufio.NewReader(bytes.NewReader(stream[:1<<10]))}
	if _, err := packets.ReadPacket(c); err == nil {
		t.Fatal("truncated publish decoded")
	}
}
