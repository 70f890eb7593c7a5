package paho

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/eclipse/paho.golang/packets"
	mqtt "github.com/eclipse/paho.golang/paho"
)

// recorder keeps every Write it gets; fail makes the Write that holds
// that many bytes in total fail.
type recorder struct {
	sync.Mutex // makes ControlPacket.WriteTo take the lock, as on subIDConn
	writes     [][]byte
	failAt     int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(p))
	if r.failAt > 0 && r.total() >= r.failAt {
		return 0, errors.New("broken pipe")
	}
	return len(p), nil
}

func (r *recorder) total() int {
	n := 0
	for _, w := range r.writes {
		n += len(w)
	}
	return n
}

// lockedWriter is what paho writes to: a Locker whose Write goes through
// the packetWriter.
type lockedWriter struct {
	sync.Mutex
	pw *packetWriter
}

func (l *lockedWriter) Write(p []byte) (int, error) { return l.pw.Write(p) }

func encode(t testing.TB, p *packets.ControlPacket) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := p.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPacketWriterOneWritePerPacket(t *testing.T) {
	format := byte(1)
	small := (&mqtt.Publish{Topic: "fleet/1/messages", QoS: 1, PacketID: 7, Payload: []byte(`{"a":1}`),
		Properties: &mqtt.PublishProperties{ContentType: "application/json", PayloadFormat: &format,
			User: []mqtt.UserProperty{{Key: "message_id", Value: "x"}}}}).Packet().ToControlPacket()
	large := (&mqtt.Publish{Topic: "big", QoS: 1, PacketID: 8, Payload: bytes.Repeat([]byte("z"), 3*gatherMax)}).Packet().ToControlPacket()
	bigProps := (&mqtt.Publish{Topic: "props", QoS: 1, PacketID: 9, Payload: []byte("p"),
		Properties: &mqtt.PublishProperties{User: []mqtt.UserProperty{{Key: "k", Value: strings.Repeat("v", 2*gatherMax)}}}}).Packet().ToControlPacket()
	ping := packets.NewControlPacket(packets.PINGREQ)
	puback := packets.NewControlPacket(packets.PUBACK)
	puback.Content.(*packets.Puback).PacketID = 3

	rec := &recorder{}
	lw := &lockedWriter{pw: &packetWriter{w: rec}}
	var want []byte
	for _, cp := range []*packets.ControlPacket{small, ping, puback, large, small, bigProps, ping} {
		before := len(rec.writes)
		want = append(want, encode(t, cp)...)
		if _, err := cp.WriteTo(lw); err != nil {
			t.Fatal(err)
		}
		got := len(rec.writes) - before
		switch cp {
		case large, bigProps:
			if got > 3 {
				t.Errorf("a large packet took %d writes", got)
			}
		default:
			if got != 1 {
				t.Errorf("packet type %d took %d writes, want 1", cp.Type, got)
			}
		}
	}
	if got := bytes.Join(rec.writes, nil); !bytes.Equal(got, want) {
		t.Fatalf("wrote %d bytes, want the %d bytes of the packets in order", len(got), len(want))
	}
	if cap(lw.pw.buf) > gatherMax {
		t.Errorf("kept a %d-byte buffer after large packets", cap(lw.pw.buf))
	}
}

// The error of the write that sends a packet reaches paho: it is returned
// by the packet's last piece.
func TestPacketWriterError(t *testing.T) {
	p := (&mqtt.Publish{Topic: "t", QoS: 1, PacketID: 1, Payload: []byte("hello")}).Packet().ToControlPacket()
	rec := &recorder{failAt: 1}
	if _, err := p.WriteTo(&lockedWriter{pw: &packetWriter{w: rec}}); err == nil {
		t.Fatal("WriteTo succeeded although the connection failed")
	}
}

// A stream that is not MQTT is passed through unchanged.
func TestPacketWriterMalformed(t *testing.T) {
	rec := &recorder{}
	pw := &packetWriter{w: rec}
	in := []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3}
	if n, err := pw.Write(in); err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	pw.Write([]byte{4, 5})
	if got := bytes.Join(rec.writes, nil); !bytes.Equal(got, append(in, 4, 5)) {
		t.Fatalf("wrote % x", got)
	}
}

// FuzzPacketWriter: whatever the bytes and however they are split, every
// byte is written once, in order, and nothing is held back once a packet
// (or the stream, if it is not MQTT) is complete.
func FuzzPacketWriter(f *testing.F) {
	f.Add([]byte{0xC0, 0x00, 0x40, 0x02, 0x00, 0x01}, []byte{1, 1, 3, 1})
	f.Add([]byte{0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x01}, []byte{2, 5})
	f.Add([]byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, []byte{6})
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		rec := &recorder{}
		pw := &packetWriter{w: rec}
		rest := data
		for i := 0; len(rest) > 0; i++ {
			k := len(rest)
			if i < len(splits) {
				k = min(int(splits[i])+1, len(rest))
			}
			if n, err := pw.Write(rest[:k]); err != nil || n != k {
				t.Fatalf("Write = %d, %v; want %d", n, err, k)
			}
			rest = rest[k:]
		}
		// Every byte given is written, in order, or held as the start of
		// the current packet.
		got := append(bytes.Join(rec.writes, nil), pw.buf...)
		if !bytes.Equal(got, data) {
			t.Fatalf("written and held: % x; given % x", got, data)
		}
		if (pw.header == 0 || pw.raw) && len(pw.buf) > 0 {
			t.Fatalf("holds %d bytes at a packet boundary", len(pw.buf))
		}
	})
}
