package jetstream_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/jetstream"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// deafProxy forwards a NATS connection and can stop passing the server's
// bytes to the client: publishes still reach the server and are stored,
// their acknowledgements are lost, the way a failover or a cut link loses
// them.
type deafProxy struct {
	ln   net.Listener
	deaf atomic.Bool
	wg   sync.WaitGroup
}

func newDeafProxy(t *testing.T, target string) *deafProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &deafProxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.wg.Go(func() { io.Copy(s, c); s.Close() })
			p.wg.Go(func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && !p.deaf.Load() {
						c.Write(buf[:n])
					}
					if err != nil {
						c.Close()
						return
					}
				}
			})
		}
	})
	return p
}

// An append whose acknowledgement is lost is retried with the same
// Nats-Msg-Id: it is stored once and Append reports where, with or without
// another writer appending in between.
func TestLostAckStoredOnce(t *testing.T) {
	url := testenv.NATSURL(t)
	// With the default window the retry is answered as a duplicate; with a
	// window shorter than the deaf spell it is refused (the stream moved
	// on) and the writer finds its message by id.
	for _, window := range []time.Duration{2 * time.Minute, 200 * time.Millisecond} {
		t.Run("window="+window.String(), func(t *testing.T) { lostAck(t, url, window) })
	}
}

func lostAck(t *testing.T, url string, window time.Duration) {
	host := url[len("nats://"):]
	ctx := context.Background()
	name := "dedup" + nameFor(t.TempDir())[1:9]
	t.Cleanup(func() { destroy(t, url, name) })
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	j, _ := js.New(nc)
	if _, err := j.CreateStream(ctx, js.StreamConfig{Name: name + "_log", Subjects: []string{"gnssgate." + name + ".log"},
		Duplicates: window, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	p := newDeafProxy(t, host)
	cfg := store.Config{Log: store.LogConfig{TrimInterval: -1}}
	a, err := jetstream.Dial(ctx, "nats://"+p.ln.Addr().String(), &jetstream.Options{Name: name, Config: cfg, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		start := time.Now()
		a.Close()
		t.Logf("closing the store behind the proxy took %v", time.Since(start).Round(time.Millisecond))
	}()
	b, err := jetstream.Dial(ctx, url, &jetstream.Options{Name: name, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	msg := func(n int) []protocol.Message { return []protocol.Message{storetest.Message("d", 1.7e9+float64(n), n)} }

	for round, other := range []bool{false, true} {
		// A normal append first, so that a's writer knows the log's end
		// and publishes at once when the proxy goes deaf.
		if _, err := a.Log().Append(ctx, msg(300+round)); err != nil {
			t.Fatal(err)
		}
		p.deaf.Store(true)
		done := make(chan uint64, 1)
		go func() {
			first, err := a.Log().Append(ctx, msg(100+round))
			if err != nil {
				t.Error(err)
			}
			done <- first
		}()
		time.Sleep(700 * time.Millisecond) // two attempts unanswered
		var otherFirst uint64
		if other {
			if otherFirst, err = b.Log().Append(ctx, msg(200)); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		p.deaf.Store(false)
		var first uint64
		select {
		case first = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the append never settled")
		}
		recs, err := b.Log().Read(ctx, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		count := 0
		for _, r := range recs {
			n, _ := r.Message.Int("test.n")
			if n == int64(100+round) {
				count++
				if r.Seq != first {
					t.Fatalf("round %d: stored at %d, Append said %d", round, r.Seq, first)
				}
			}
		}
		if count != 1 {
			t.Fatalf("round %d: the append is stored %d times: %s", round, count, fmtRecs(recs))
		}
		if other && otherFirst == first {
			t.Fatalf("both writers got %d", first)
		}
		t.Logf("round %d (another writer in between: %v): stored once at %d, settled %v after the acknowledgements came back",
			round, other, first, time.Since(start).Round(time.Millisecond))
	}
}

func fmtRecs(rs []store.Record) string {
	var out []byte
	for _, r := range rs {
		n, _ := r.Message.Int("test.n")
		out = append(out, []byte(" "+itoa(r.Seq)+":"+itoa(uint64(n)))...)
	}
	return string(out)
}

func itoa(u uint64) string {
	if u == 0 {
		return "0"
	}
	var b []byte
	for ; u > 0; u /= 10 {
		b = append([]byte{byte('0' + u%10)}, b...)
	}
	return string(b)
}
