package embedded

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkFanInPersistent: 16 MQTT 3.1.1 publishers over TCP, QoS 1, 16
// publishes in flight each, into a shared group of 2 persistent
// subscribers (clean session 0, QoS 1, acknowledging every message), 16-byte
// payloads; in memory and on a data directory, side by side. ns/op is per
// message, from the first publish until every message is acknowledged to
// its publisher and received by a subscriber.
func BenchmarkFanInPersistent(b *testing.B) {
	for _, mode := range []string{"memory", "durable"} {
		b.Run(mode, func(b *testing.B) {
			cfg := &Config{AllowAnonymous: true, MaxQueuedBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)}
			if mode == "durable" {
				cfg.DataDir = b.TempDir()
			}
			s, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			addr := serveBench(b, s)
			benchFanIn(b, addr, 16, 2)
		})
	}
}

func benchFanIn(b *testing.B, addr string, npubs, nsubs int) {
	var got atomic.Int64
	for i := range nsubs {
		r := dialRaw(b, addr)
		r.connect("fanin-sub-"+strconv.Itoa(i), false, 0, nil)
		r.subscribe(1, subOpt("$share/g/fanin/+", 1))
		r.nc.SetReadDeadline(time.Time{}) // left by the helpers' reads
		go ackingReader(r, &got)
	}
	per := b.N / npubs
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for i := range npubs {
		n := per
		if i == 0 {
			n += b.N - per*npubs
		}
		r := dialRaw(b, addr)
		r.connect("", true, 0, nil)
		r.nc.SetReadDeadline(time.Time{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			publishQoS1(r, "fanin/"+strconv.Itoa(i), n, 16)
		}()
	}
	wg.Wait()
	for got.Load() < int64(b.N) {
		runtimeGosched()
	}
	b.StopTimer()
}

// publishQoS1 publishes n QoS 1 messages with up to window awaiting PUBACK.
func publishQoS1(r *rawClient, topic string, n, window int) {
	pkt := []byte{0x32, byte(2 + len(topic) + 2 + len(payload16)), 0, byte(len(topic))}
	pkt = append(pkt, topic...)
	idAt := len(pkt)
	pkt = append(pkt, 0, 0)
	pkt = append(pkt, payload16...)
	acks := make(chan struct{}, window)
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(r.nc)
		buf := make([]byte, 4)
		for range n {
			if _, err := io.ReadFull(br, buf); err != nil {
				return
			}
			<-acks
		}
	}()
	w := bufio.NewWriter(r.nc)
	for i := range n {
		id := uint16(i%65535 + 1)
		pkt[idAt], pkt[idAt+1] = byte(id>>8), byte(id)
		select {
		case acks <- struct{}{}:
		default:
			w.Flush()
			acks <- struct{}{}
		}
		w.Write(pkt)
	}
	w.Flush()
	<-done
}

// ackingReader acknowledges every QoS 1 PUBLISH r receives, counting them.
func ackingReader(r *rawClient, got *atomic.Int64) {
	w := bufio.NewWriter(r.nc)
	body := make([]byte, 0, 256)
	for {
		h, err := r.br.ReadByte()
		if err != nil {
			return
		}
		rem, shift := 0, 0
		for {
			c, err := r.br.ReadByte()
			if err != nil {
				return
			}
			rem |= int(c&0x7f) << shift
			if c&0x80 == 0 {
				break
			}
			shift += 7
		}
		body = append(body[:0], make([]byte, rem)...)
		if _, err := io.ReadFull(r.br, body); err != nil {
			return
		}
		if h>>4 != 3 || (h>>1)&3 != 1 || rem < 4 {
			continue
		}
		tl := int(body[0])<<8 | int(body[1])
		if 2+tl+2 > rem {
			return
		}
		got.Add(1)
		w.Write([]byte{0x40, 2, body[2+tl], body[3+tl]})
		if r.br.Buffered() == 0 {
			w.Flush()
		}
	}
}

// serveBench serves s on a loopback port until the benchmark ends.
func serveBench(b *testing.B, s *Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(context.Background(), ln)
	b.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}
