package embedded

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// These tests cover what a third-party conformance suite found beyond the
// Paho interoperability suite, each over a raw socket (rawClient).

// str is an MQTT length-prefixed string or binary field.
func str(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

// rawConnect builds a CONNECT: protocol level v (3 is "MQIsdp"), the
// connect flags as given, keep-alive 30, MQTT 5 properties props (nil: none)
// and the payload bytes as given.
func rawConnect(v, flags byte, props []byte, payload ...[]byte) []byte {
	name := "MQTT"
	if v == 3 {
		name = "MQIsdp"
	}
	body := append(str(name), v, flags, 0, 30)
	if v == 5 {
		body = append(body, byte(len(props)))
		body = append(body, props...)
	}
	for _, p := range payload {
		body = append(body, p...)
	}
	return append([]byte{packets.Connect << 4, byte(len(body))}, body...)
}

// readRaw reads one whole packet as bytes, or nil when the connection ended.
func (r *rawClient) readRaw() []byte {
	r.t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := r.br.ReadByte()
	if err != nil {
		return nil
	}
	out := []byte{h}
	rem, shift := 0, 0
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			return nil
		}
		out = append(out, b)
		rem |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		shift += 7
	}
	body := make([]byte, rem)
	if _, err := io.ReadFull(r.br, body); err != nil {
		return nil
	}
	return append(out, body...)
}

// MQTT 5 allows an empty client ID with Clean Start 0: the server assigns
// one, returns it in CONNACK, and the client resumes the session with it.
func TestMQTT5EmptyClientIDPersistent(t *testing.T) {
	_, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.v = 5
	ca := r.connect("", false, 30, func(pk *packets.Packet) {
		pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 300, true
	})
	id := ca.Properties.AssignedClientID
	if ca.ReasonCode != 0 || id == "" || ca.SessionPresent {
		t.Fatalf("CONNACK %+v, want success with an assigned ID", ca)
	}
	r.subscribe(1, subOpt("resume/x", 1))
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	r.expectClosed()

	r = dialRaw(t, addr)
	r.v = 5
	ca = r.connect(id, false, 30, func(pk *packets.Packet) {
		pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 300, true
	})
	if ca.ReasonCode != 0 || !ca.SessionPresent {
		t.Fatalf("resuming %q: CONNACK %+v, want session present", id, ca)
	}
}

func TestMQTT31Rules(t *testing.T) {
	_, addr := startServer(t, nil)
	v31 := func(pk *packets.Packet) { pk.Connect.ProtocolName = []byte("MQIsdp") }
	t.Run("zero-length client ID is return code 2", func(t *testing.T) {
		for _, clean := range []bool{true, false} {
			r := dialRaw(t, addr)
			r.v = 3
			if ca := r.connect("", clean, 30, v31); ca.ReasonCode != 2 {
				t.Fatalf("clean %v: return code %d, want 2", clean, ca.ReasonCode)
			}
			if r.read() != nil {
				t.Fatal("connection not closed after return code 2")
			}
		}
	})
	t.Run("session present is reserved", func(t *testing.T) {
		for i := range 2 {
			r := dialRaw(t, addr)
			r.v = 3
			r.send(rawConnect(3, 0, nil, str("v31-persist")))
			if ca := r.readRaw(); len(ca) != 4 || ca[0] != packets.Connack<<4 || ca[2] != 0 || ca[3] != 0 {
				t.Fatalf("connection %d: CONNACK % x, want 20 02 00 00", i, ca)
			}
			r.subscribe(1, subOpt("v31/x", 1))
			r.nc.Close()
		}
	})
	t.Run("retried PUBREL with DUP", func(t *testing.T) {
		r := dialRaw(t, addr)
		r.v = 3
		r.connect("v31-qos2", true, 30, v31)
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2}, TopicName: "v31/q2",
			PacketID: 7, Payload: []byte("x")})
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pubrec {
			t.Fatalf("want PUBREC, got %+v", pk)
		}
		for _, first := range []byte{0x62, 0x6a} { // PUBREL, then retried with DUP (3.1 sends it so)
			r.send([]byte{first, 2, 0, 7})
			if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pubcomp || pk.PacketID != 7 {
				t.Fatalf("PUBREL %x: want PUBCOMP 7, got %+v", first, pk)
			}
		}
		// DUP stays malformed in 3.1.1.
		r = dialRaw(t, addr)
		r.connect("v311-dup", true, 30, nil)
		r.send([]byte{0x6a, 2, 0, 7})
		r.expectClosed()
	})
}

// DISCONNECT with Remaining Length 1: the byte is the reason, and 0x04
// keeps the will [MQTT-3.14.4-3]; 0x00, with either length, discards it.
func TestDisconnectReasonLengthOne(t *testing.T) {
	s, addr := startServer(t, nil)
	wills := newCollector()
	if _, err := s.Subscribe(context.Background(), "will/#", wills); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		disc   []byte
		want   bool
		client string
	}{
		{"e0 01 04", []byte{0xe0, 1, 4}, true, "d1"},
		{"e0 01 00", []byte{0xe0, 1, 0}, false, "d2"},
		{"e0 00", []byte{0xe0, 0}, false, "d3"},
		{"e0 02 04 00", []byte{0xe0, 2, 4, 0}, true, "d4"},
	} {
		r := dialRaw(t, addr)
		r.v = 5
		r.connect(c.client, true, 30, func(pk *packets.Packet) {
			pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload = true, "will/"+c.client, []byte("gone")
		})
		r.send(c.disc)
		r.expectClosed()
		select {
		case m := <-wills.ch:
			if !c.want || m.Topic != "will/"+c.client {
				t.Fatalf("%s: got will %s", c.name, m.Topic)
			}
		case <-time.After(300 * time.Millisecond):
			if c.want {
				t.Fatalf("%s: no will", c.name)
			}
		}
	}
}

// A will with a zero-length payload is allowed (3.1.1 §3.1.3.3, MQTT 5
// likewise) and is published as such.
func TestZeroLengthWillPayload(t *testing.T) {
	s, addr := startServer(t, nil)
	wills := newCollector()
	if _, err := s.Subscribe(context.Background(), "will/#", wills); err != nil {
		t.Fatal(err)
	}
	for _, v := range []byte{4, 5} {
		r := dialRaw(t, addr)
		r.v = v
		id := "zw" + string('0'+v)
		ca := r.connect(id, true, 30, func(pk *packets.Packet) {
			pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload = true, "will/"+id, nil
		})
		if ca.ReasonCode != 0 {
			t.Fatalf("v%d: CONNACK %d", v, ca.ReasonCode)
		}
		r.nc.Close() // abnormal: the will is published
		if m := wills.next(t); m.Topic != "will/"+id || len(m.Payload) != 0 {
			t.Fatalf("v%d: will %s %q", v, m.Topic, m.Payload)
		}
	}
}

// Malformed CONNECTs: MQTT 3.1.1 (and 3.1) close without CONNACK
// [MQTT-3.1.4-1]; MQTT 5 answers with a CONNACK reason ≥ 0x80 first.
func TestMalformedConnect(t *testing.T) {
	_, addr := startServer(t, nil)
	bad := "a\xffb"
	cases := []struct {
		name    string
		flags   byte
		payload [][]byte
	}{
		{"username without its flag", 0x02, [][]byte{str("c1"), str("bob")}},
		{"password without its flag", 0x82, [][]byte{str("c1"), str("bob"), str("pw")}},
		{"password flag without username flag", 0x42, [][]byte{str("c1"), str("pw")}},
		{"client id not UTF-8", 0x02, [][]byte{str(bad)}},
		{"client id with U+0000", 0x02, [][]byte{str("a\x00b")}},
		{"username not UTF-8", 0x82, [][]byte{str("c1"), str(bad)}},
		{"will topic not UTF-8", 0x06, [][]byte{str("c1"), str(bad), str("x")}},
		{"reserved flag", 0x03, [][]byte{str("c1")}},
		{"will QoS without will flag", 0x0a, [][]byte{str("c1")}},
		{"will retain without will flag", 0x22, [][]byte{str("c1")}},
		{"will QoS 3", 0x1e, [][]byte{str("c1"), str("w"), str("x")}},
	}
	for _, v := range []byte{3, 4, 5} {
		for _, c := range cases {
			if v == 5 && c.name == "password flag without username flag" {
				continue // MQTT 5 allows a password without a username
			}
			payload := c.payload
			if v == 5 && c.flags&0x04 != 0 {
				// MQTT 5 will properties precede the will topic.
				payload = append([][]byte{payload[0], {0}}, payload[1:]...)
			}
			r := dialRaw(t, addr)
			r.v = v
			r.send(rawConnect(v, c.flags, nil, payload...))
			pk := r.readRaw()
			switch {
			case v != 5 && pk != nil:
				t.Errorf("v%d %s: got % x, want the connection closed without CONNACK", v, c.name, pk)
			case v == 5 && (len(pk) < 4 || pk[0] != packets.Connack<<4 || pk[3] < 0x80):
				t.Errorf("v5 %s: got % x, want a CONNACK ≥ 0x80", c.name, pk)
			case v == 5 && r.readRaw() != nil:
				t.Errorf("v5 %s: connection not closed after the CONNACK", c.name)
			}
		}
		// The same CONNECT without the fault is accepted.
		r := dialRaw(t, addr)
		r.v = v
		r.send(rawConnect(v, 0x02, nil, str("c1")))
		if pk := r.readRaw(); len(pk) < 4 || pk[0] != packets.Connack<<4 || pk[3] != 0 {
			t.Errorf("v%d: well-formed CONNECT got % x", v, pk)
		}
	}
}

// A CONNACK never exceeds the client's Maximum Packet Size [MQTT-3.1.2-24]:
// optional properties are dropped, and a client that cannot take even a
// bare CONNACK is closed without one.
func TestConnackFitsMaximumPacketSize(t *testing.T) {
	_, addr := startServer(t, nil)
	for _, max := range []uint32{1 << 20, 40, 12, 5, 4} {
		r := dialRaw(t, addr)
		r.v = 5
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect},
			Connect:    packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30},
			Properties: packets.Properties{MaximumPacketSize: max}})
		pk := r.readRaw()
		if max < 5 {
			if pk != nil {
				t.Errorf("max %d: got % x, want no CONNACK", max, pk)
			}
			continue
		}
		if len(pk) == 0 || pk[0] != packets.Connack<<4 || len(pk) > int(max) {
			t.Errorf("max %d: CONNACK % x (%d bytes)", max, pk, len(pk))
		}
		if max == 1<<20 && !strings.Contains(string(pk), "auto-") {
			t.Errorf("max %d: the assigned client ID is missing: % x", max, pk)
		}
	}
}

// An acknowledgement of the wrong type for an in-flight packet ID is a
// protocol error: PUBCOMP or PUBREC for QoS 1, PUBACK for QoS 2, PUBCOMP
// before PUBREC.
func TestWrongTypeAcks(t *testing.T) {
	s, addr := startServer(t, nil)
	for _, c := range []struct {
		name string
		qos  byte
		ack  byte
	}{
		{"PUBCOMP for QoS 1", 1, packets.Pubcomp},
		{"PUBREC for QoS 1", 1, packets.Pubrec},
		{"PUBACK for QoS 2", 2, packets.Puback},
		{"PUBCOMP for QoS 2 before PUBREC", 2, packets.Pubcomp},
	} {
		for _, v := range []byte{4, 5} {
			r := dialRaw(t, addr)
			r.v = v
			r.connect("acks", true, 30, nil)
			r.subscribe(1, subOpt("acks/t", 2))
			if err := s.Publish(context.Background(), broker.Message{Topic: "acks/t", QoS: c.qos, Payload: []byte("x")}); err != nil {
				t.Fatal(err)
			}
			pk := r.read()
			if pk == nil || pk.FixedHeader.Type != packets.Publish {
				t.Fatalf("%s v%d: want PUBLISH, got %+v", c.name, v, pk)
			}
			r.send([]byte{c.ack << 4, 2, byte(pk.PacketID >> 8), byte(pk.PacketID)})
			if code := r.expectClosed(); v == 5 && code != 0x82 {
				t.Errorf("%s v5: DISCONNECT 0x%x, want 0x82", c.name, code)
			}
		}
	}
	// The right acknowledgement keeps the connection.
	r := dialRaw(t, addr)
	r.connect("acks-ok", true, 30, nil)
	r.subscribe(1, subOpt("acks/ok", 1))
	if err := s.Publish(context.Background(), broker.Message{Topic: "acks/ok", QoS: 1, Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	pk := r.read()
	r.send([]byte{packets.Puback << 4, 2, byte(pk.PacketID >> 8), byte(pk.PacketID)})
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
		t.Fatalf("after PUBACK: %+v", pk)
	}
}

// Topic filters deeper than MaxTopicLevels are refused (0x8F, 0x80 for
// 3.1.1) before any work that grows with their levels; the filter of
// 65,535 '/' that once took a minute is among them.
func TestTopicLevelsBounded(t *testing.T) {
	_, addr := startServer(t, &Config{AllowAnonymous: true, MaxTopicLevels: 8})
	for _, v := range []byte{4, 5} {
		r := dialRaw(t, addr)
		r.v = v
		r.connect("levels", true, 30, nil)
		want := byte(0x8F)
		if v == 4 {
			want = 0x80
		}
		sa := r.subscribe(1, subOpt(strings.Repeat("a/", 7)+"a", 0), subOpt(strings.Repeat("a/", 8)+"a", 0),
			subOpt(strings.Repeat("/", 65535-10), 0))
		if got := sa.ReasonCodes; len(got) != 3 || got[0] != 0 || got[1] != want || got[2] != want {
			t.Fatalf("v%d: SUBACK %x, want [0 %x %x]", v, got, want, want)
		}
	}
	if (&Config{}).limits().maxTopicLevels != 128 {
		t.Fatal("MaxTopicLevels default is not 128")
	}
}

// One SUBSCRIBE's filters together expand to at most maxSubscribeEntries
// levels: two of the largest comma-list filters fit, the third gets 0x97
// (quota exceeded) and costs nothing, and so do the packet's others.
func TestSubscribeQuota(t *testing.T) {
	s, addr := startServer(t, nil)
	ids := func(from int) string {
		v := make([]string, 1024)
		for i := range v {
			v[i] = strconv.Itoa(from + i)
		}
		return strings.Join(v, ",")
	}
	big := func(from int) packets.Subscription { // 1,024 paths × 8 levels
		return subOpt("a/b/c/d/e/f/"+ids(from)+"/+", 0)
	}
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("quota", true, 30, nil)
	sa := r.subscribe(1, big(0), big(2000), big(4000), big(6000), subOpt("small/x", 0))
	if got := sa.ReasonCodes; len(got) != 5 || got[0] != 0 || got[1] != 0 || got[2] != 0x97 || got[3] != 0x97 || got[4] != 0x97 {
		t.Fatalf("SUBACK %x, want [0 0 97 97 97]", got)
	}
	// The next SUBSCRIBE has a quota of its own.
	if sa := r.subscribe(2, big(8000), subOpt("small/x", 0)); sa.ReasonCodes[0] != 0 || sa.ReasonCodes[1] != 0 {
		t.Fatalf("second SUBACK %x", sa.ReasonCodes)
	}
	if n := s.Stats().Subscriptions; n != 4 {
		t.Fatalf("%d subscriptions, want 4", n)
	}
}

// worstSpecFilter is a "$filter" subscription of about 4 KiB, as large as
// the filter limits allow: four strings of 990 bytes compared in turn.
func worstSpecFilter(topic string) string {
	clause := `p=="` + strings.Repeat("a", 990) + `"`
	return "$filter/message=" + strings.Repeat(clause+"||", 3) + clause + "/" + topic
}

// The "$filter" subscriptions of one SUBSCRIBE have maxSubscribeSpecBytes
// of text to compile between them: four of the largest fit, the next ones
// get 0x97 before they are parsed, a plain filter after them costs nothing
// of that quota, and the next SUBSCRIBE has a quota of its own.
func TestSubscribeSpecQuota(t *testing.T) {
	s, addr := startServer(t, nil)
	if n := len(worstSpecFilter("t/1")); n < 4000 || n > 4096 {
		t.Fatalf("worst filter is %d bytes", n)
	}
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("specquota", true, 30, nil)
	var subs []packets.Subscription
	for i := range 6 {
		subs = append(subs, subOpt(worstSpecFilter("t/"+strconv.Itoa(i)), 0))
	}
	subs = append(subs, subOpt("plain/x", 0))
	sa := r.subscribe(1, subs...)
	want := []byte{0, 0, 0, 0, 0x97, 0x97, 0}
	if !bytes.Equal(sa.ReasonCodes, want) {
		t.Fatalf("SUBACK %x, want %x", sa.ReasonCodes, want)
	}
	if sa := r.subscribe(2, subOpt(worstSpecFilter("t/9"), 0)); !bytes.Equal(sa.ReasonCodes, []byte{0}) {
		t.Fatalf("second SUBACK %x", sa.ReasonCodes)
	}
	if n := s.Stats().Subscriptions; n != 6 {
		t.Fatalf("%d subscriptions, want 6", n)
	}
}
