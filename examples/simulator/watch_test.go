package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
)

// A server that publishes every stored message on a platform topic, as
// the gateway does: -watch counts them and reports the delay from the
// server's receipt, beside the fleet's summary.
func TestWatch(t *testing.T) {
	bsrv := embedded.New(&embedded.Config{AllowAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go bsrv.Serve(context.Background(), bln)
	t.Cleanup(func() { bsrv.Close() })

	h := channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
		for i := range msgs {
			m := broker.Message{Topic: "flespi/message/gw/channels/1/" + msgs[i].Ident(), Payload: msgs[i].AppendJSON(nil), QoS: 1}
			if err := bsrv.Publish(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	addr := serveHandler(t, h)

	code, out, errs := run(t, "-p", "teltonika", "-addr", addr, "-devices", "3", "-rate", "10",
		"-duration", "1s", "-progress", "0", "-json", "-watch", bln.Addr().String())
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	var sum struct {
		Acked uint64       `json:"acked"`
		Watch WatchSummary `json:"watch"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("stdout: %v\n%s", err, out)
	}
	w := sum.Watch
	if sum.Acked == 0 || w.Received < sum.Acked || w.Stamped != w.Received || w.P99 <= 0 || w.Max < w.P99 || w.Topic == "" {
		t.Fatalf("acked %d, watch %+v", sum.Acked, w)
	}

	// Text: one more line, at QoS 1 too. A broker that refuses the
	// subscription is an error, and so is a QoS the watcher cannot take.
	code, out, errs = run(t, "-p", "teltonika", "-addr", addr, "-devices", "1", "-duration", "1s",
		"-progress", "0", "-watch", bln.Addr().String(), "-watch-qos", "1")
	if code != 0 || !strings.Contains(out, "delay from the server's receipt") || !strings.Contains(out, "records acknowledged") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if code, _, errs = run(t, "-addr", addr, "-watch", bln.Addr().String(), "-watch-qos", "2"); code != 2 || !strings.Contains(errs, "-watch-qos") {
		t.Fatalf("-watch-qos 2: exit %d, stderr:\n%s", code, errs)
	}
	if code, _, errs = run(t, "-p", "teltonika", "-addr", addr, "-devices", "1", "-duration", "1s",
		"-progress", "0", "-watch", bln.Addr().String(), "-watch-token", "nobody"); code != 1 || !strings.Contains(errs, "-watch") {
		t.Fatalf("an unknown token: exit %d, stderr:\n%s", code, errs)
	}
}

func TestServerStamp(t *testing.T) {
	want := time.Unix(1796690745, 853467000)
	for _, tc := range []struct {
		payload string
		ok      bool
	}{
		{samplePayload, true},
		{`{"server.timestamp":1796690745.853467}`, true},
		{`{ "server.timestamp" : 1796690745.853467 , "x":1}`, true},
		{"{\"a\":1,\n\t\"server.timestamp\":\t1796690745.853467\n}", true},
		{`{"server.timestamp":1.796690745853467e9}`, true},
		// What the byte scan does not take goes to gjson: an escaped key,
		// a value that is not a plain number.
		{`{"server\u002etimestamp":1796690745.853467}`, true},
		{`{"server.timestamp":"1796690745.853467"}`, false},
		{`{"server.timestamp":null}`, false},
		{`{"timestamp":1796690745.853467}`, false},
		{`{"server.timestamp":`, false},
		{``, false},
	} {
		ts, ok := serverStamp([]byte(tc.payload))
		if ok != tc.ok || ok && ts.Sub(want).Abs() > time.Microsecond {
			t.Errorf("%s: %v %v, want %v", tc.payload, ts, ok, tc.ok)
		}
	}
}

// samplePayload is a message as the gateway publishes it on
// flespi/message/gw/channels/{channel}/{ident}: "server.timestamp" near the
// end, after the record's parameters.
const samplePayload = `{"ident":"350000000000006","timestamp":1796690745.85,"position.latitude":54.6431646,"position.longitude":25.270776,"position.altitude":100,"position.direction":11,"position.speed":49,"position.satellites":12,"position.valid":true,"event.priority.enum":0,"event.enum":0,"engine.ignition.status":true,"movement.status":true,"gsm.signal.level":4,"external.powersource.voltage":14.13,"battery.voltage":4.05,"position.pdop":1.7,"position.hdop":1,"vehicle.mileage":0.014,"server.timestamp":1796690745.853467,"channel.id":1,"peer":"127.0.0.1:42390","device.id":1,"device.name":"350000000000006","cid":1}`

// firehose is a broker stand-in for the watcher's benchmark: it accepts
// one MQTT 3.1.1 client, grants its subscription the QoS asked for and
// then writes n PUBLISH packets of payload as fast as the socket takes
// them, discarding what the client sends (PUBACKs).
func firehose(tb testing.TB, n int, payload []byte) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		readPk := func() (byte, []byte, error) {
			h, err := br.ReadByte()
			if err != nil {
				return 0, nil, err
			}
			rem, shift := 0, 0
			for {
				b, err := br.ReadByte()
				if err != nil {
					return 0, nil, err
				}
				rem |= int(b&0x7f) << shift
				if b&0x80 == 0 {
					break
				}
				shift += 7
			}
			body := make([]byte, rem)
			_, err = io.ReadFull(br, body)
			return h, body, err
		}
		if h, _, err := readPk(); err != nil || h>>4 != 1 { // CONNECT
			return
		}
		nc.Write([]byte{0x20, 2, 0, 0})
		h, body, err := readPk() // SUBSCRIBE: id, filter, QoS
		if err != nil || h>>4 != 8 || len(body) < 5 {
			return
		}
		qos := body[len(body)-1]
		nc.Write([]byte{0x90, 3, body[0], body[1], qos})
		go io.Copy(io.Discard, br)
		topic := "flespi/message/gw/channels/1/350000000000006"
		var pk []byte
		bw := bufio.NewWriterSize(nc, 64<<10)
		for i := range n {
			rem := 2 + len(topic) + len(payload)
			if qos > 0 {
				rem += 2
			}
			pk = append(pk[:0], 0x30|qos<<1)
			for ; rem >= 0x80; rem >>= 7 {
				pk = append(pk, byte(rem)|0x80)
			}
			pk = append(pk, byte(rem), byte(len(topic)>>8), byte(len(topic)))
			pk = append(pk, topic...)
			if qos > 0 {
				id := uint16(i%65535 + 1)
				pk = append(pk, byte(id>>8), byte(id))
			}
			pk = append(pk, payload...)
			if _, err := bw.Write(pk); err != nil {
				return
			}
		}
		bw.Flush()
		io.Copy(io.Discard, nc) // until the client closes
	}()
	return ln.Addr().String()
}

// BenchmarkWatchReceive is the watcher's cost per message received, from
// the socket to the recorded delay.
func BenchmarkWatchReceive(b *testing.B) {
	for _, qos := range []byte{0, 1} {
		b.Run("qos"+strconv.Itoa(int(qos)), func(b *testing.B) { benchmarkWatchReceive(b, qos) })
	}
}

func benchmarkWatchReceive(b *testing.B, qos byte) {
	payload := []byte(strings.Replace(samplePayload, "1796690745.853467", strconv.FormatFloat(float64(time.Now().UnixMicro())/1e6, 'f', 6, 64), 1))
	addr := firehose(b, b.N, payload)
	b.ReportAllocs()
	b.ResetTimer()
	w, err := startWatch(context.Background(), addr, "", "flespi/message/gw/channels/+/+", qos)
	if err != nil {
		b.Fatal(err)
	}
	for w.received.Load() < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	s := w.stop(0)
	if s.Stamped != uint64(b.N) {
		b.Fatalf("stamped %d of %d", s.Stamped, b.N)
	}
}
