package channel

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// teltonikaFrame builds a Codec 8 packet of n records, each the documented
// record of testdata/teltonika-tcp.hex, so that a benchmark exercises a
// device's black-box upload (many records per packet) with real bytes.
func teltonikaFrame(tb testing.TB, n int) (login, frame []byte) {
	tb.Helper()
	session := loadTraffic(tb, "teltonika-tcp.hex")
	login, one := session[0].Data, session[2].Data
	length := binary.BigEndian.Uint32(one[4:8])
	body := one[8 : 8+length]
	record := body[2 : len(body)-1] // codec id, count | record | count
	nb := []byte{0x08, byte(n)}
	for range n {
		nb = append(nb, record...)
	}
	nb = append(nb, byte(n))
	frame = binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, uint32(len(nb)))
	frame = append(frame, nb...)
	frame = binary.BigEndian.AppendUint32(frame, uint32(crc16.ARC.Checksum(nb)))
	return login, frame
}

// memHandler is an in-memory handler. With json set it serializes every
// message into a buffer, as appending to a log would; otherwise it only
// counts, which leaves the channel's own cost.
type memHandler struct {
	json  bool
	pool  sync.Pool
	count atomic.Uint64
	bytes atomic.Uint64
}

func (h *memHandler) HandleMessages(_ context.Context, _ *Conn, msgs []protocol.Message) error {
	if !h.json {
		h.count.Add(uint64(len(msgs)))
		return nil
	}
	bp, _ := h.pool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b := (*bp)[:0]
	for i := range msgs {
		b = msgs[i].AppendJSON(b)
	}
	h.bytes.Add(uint64(len(b)))
	h.count.Add(uint64(len(msgs)))
	*bp = b
	h.pool.Put(bp)
	return nil
}

// BenchmarkIngestTeltonika measures what one Teltonika channel sustains
// end to end over loopback TCP: devices (goroutines in this process, on
// the same CPUs) each send a packet and wait for its ACK, as Teltonika
// devices do; the server decodes, stamps, hands the records to an
// in-memory handler and sends the ACK. One op is one packet.
func BenchmarkIngestTeltonika(b *testing.B) {
	for _, bc := range []struct {
		records int
		json    bool
	}{{1, false}, {10, false}, {50, false}, {50, true}} {
		records := bc.records
		b.Run(fmt.Sprintf("records=%d/json=%v", records, bc.json), func(b *testing.B) {
			login, frame := teltonikaFrame(b, records)
			h := &memHandler{json: bc.json}
			srv := &Server{Codec: &teltonika.Codec{}, Handler: h}
			addr := start(b, srv)
			const devices = 64
			conns := make([]net.Conn, devices)
			for i := range conns {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				c.Write(login)
				if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
					b.Fatal(err)
				}
				conns[i] = c
			}
			var left atomic.Int64
			left.Store(int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			t0 := time.Now()
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ack := make([]byte, 4)
					for left.Add(-1) >= 0 {
						if _, err := c.Write(frame); err != nil {
							b.Error(err)
							return
						}
						if _, err := io.ReadFull(c, ack); err != nil || ack[3] != byte(records) {
							b.Errorf("ack %x: %v", ack, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(t0)
			b.StopTimer()
			if got := h.count.Load(); got != uint64(b.N*records) {
				b.Fatalf("handled %d messages, want %d", got, b.N*records)
			}
			b.ReportMetric(float64(b.N*records)/el.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkFrameLoop is the server's per-packet work without the network:
// the stream decoder, the codec, stamping, the handler and the reply, for
// one connection.
func BenchmarkFrameLoop(b *testing.B) {
	for _, bc := range []struct {
		records int
		json    bool
	}{{1, false}, {50, false}, {50, true}} {
		records := bc.records
		b.Run(fmt.Sprintf("records=%d/json=%v", records, bc.json), func(b *testing.B) {
			login, frame := teltonikaFrame(b, records)
			h := &memHandler{json: bc.json}
			srv := &Server{Codec: &teltonika.Codec{}, Handler: h, Logger: quietLogger()}
			srv.init()
			client, server := net.Pipe()
			defer client.Close()
			go io.Copy(io.Discard, client)
			c := srv.newConn(context.Background(), "tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5027})
			c.nc = server
			dec := protocol.NewStreamDecoder(c.guard, protocol.TCP, 0)
			fn := c.frame
			if err := c.feed(dec, login, fn); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.feed(dec, frame, fn); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*records)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
