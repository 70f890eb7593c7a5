package embedded

import (
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// TestReceiveMaximumExceededPipelined is what Paho's client_test5
// test_flow_control2 does, as a real pipelining client does it: one QoS 2
// PUBLISH more than the server's Receive Maximum, sent without reading,
// then every PUBREC answered with a PUBREL. The client must get the
// DISCONNECT with 0x93 (MQTT 5 §3.3.4). The server used to close the
// socket right after writing the DISCONNECT; the client's next PUBREL then
// met a closed socket, the kernel answered with a reset, and the client's
// write failed (or the reset discarded the unread DISCONNECT).
func TestReceiveMaximumExceededPipelined(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, &Config{AllowAnonymous: true, MaxInflight: 2})
	r := dialRaw(t, addr)
	r.v = 5
	ca := r.connect("pipeliner", true, 30, nil)
	max := int(ca.Properties.ReceiveMaximum)
	if max != 2 {
		t.Fatalf("Receive Maximum %d, want 2", max)
	}
	for i := 1; i <= max+1; i++ {
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2},
			TopicName: "flow/pipelined", PacketID: uint16(i), Payload: []byte("m")})
	}
	// Let the server answer, disconnect and close before the client reads.
	time.Sleep(200 * time.Millisecond)
	for recs := 0; ; {
		pk := r.read()
		if pk == nil {
			t.Fatalf("connection ended after %d PUBRECs without a DISCONNECT", recs)
		}
		switch pk.FixedHeader.Type {
		case packets.Pubrec:
			recs++
			r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: pk.PacketID})
			time.Sleep(50 * time.Millisecond) // room for a reset to come back
		case packets.Disconnect:
			if pk.ReasonCode != 0x93 {
				t.Fatalf("DISCONNECT 0x%x, want 0x93", pk.ReasonCode)
			}
			if recs != max {
				t.Fatalf("%d PUBRECs before the DISCONNECT, want %d", recs, max)
			}
			// The server closes its side after the DISCONNECT.
			if code := r.expectClosed(); code != 0 {
				t.Fatalf("second DISCONNECT 0x%x", code)
			}
			return
		default:
			t.Fatalf("unexpected %s", packets.PacketNames[pk.FixedHeader.Type])
		}
	}
}
