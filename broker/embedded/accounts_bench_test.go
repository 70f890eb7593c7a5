package embedded

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/mochi-mqtt/server/v2/packets"
)

// BenchmarkAccounts: 1,000 accounts × 10 MQTT 5 sessions, fan-in (in each
// account 9 clients publish to "s/<n>", one subscribes "s/+") and fan-out
// (one client publishes to "s/x", 9 subscribe it), QoS 0, 16-byte
// payloads, side by side:
//
//   - single: one shared space, each group of 10 on its own topics
//     ("g<i>/s/…"): the same routing work without accounts;
//   - single-cid: the same, with the broker's "cid" user property on every
//     publish (Token.Properties), as the gateway's root account has;
//   - accounts: each group an account with its own namespace
//     ("$accounts/<i>/") and cid, as the gateway runs subaccounts.
//
// Clients are on net.Pipe: 10,000 loopback TCP connections would need
// 20,000 descriptors, this machine's limit. ns/op is per publish;
// msgs/s counts deliveries (fan-out: 9 per publish). Run with a fixed
// -benchtime (e.g. 200000x): each run connects 10,000 clients first.
func BenchmarkAccounts(b *testing.B) {
	for _, pattern := range []string{"fanin", "fanout"} {
		for _, mode := range []string{"single", "single-cid", "accounts"} {
			b.Run(pattern+"/"+mode, func(b *testing.B) { benchAccounts(b, pattern, mode, 1000, 10) })
		}
	}
}

func benchAccounts(b *testing.B, pattern, mode string, accounts, per int) {
	all := []string{"#"}
	auth := AuthenticatorFunc(func(_ context.Context, info ConnectInfo) (*Token, error) {
		t := &Token{Name: info.Username, Publish: all, Subscribe: all}
		switch mode {
		case "single-cid":
			t.Properties = []broker.UserProperty{{Key: "cid", Value: "1"}}
		case "accounts":
			t.Namespace = "$accounts/" + info.Username + "/"
			t.Properties = []broker.UserProperty{{Key: "cid", Value: info.Username}}
		}
		return t, nil
	})
	s := New(&Config{Authenticator: auth, MaxConnections: 2 * accounts * per, MaxQueuedBytes: 1 << 30,
		Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()

	var got atomic.Int64
	var readers sync.WaitGroup
	type publisher struct {
		nc  net.Conn
		pkt []byte
	}
	var pubs []publisher
	subs := 1 // fan-in: one subscriber, per-1 publishers
	if pattern == "fanout" {
		subs = per - 1
	}
	for a := range accounts {
		user := strconv.Itoa(a + 2) // cid 1 is the root's
		prefix := ""
		if mode != "accounts" {
			prefix = "g" + user + "/"
		}
		for k := range per {
			server, client := net.Pipe()
			s.ServeConn(server)
			r := &rawClient{t: b, nc: client, br: bufio.NewReader(client), v: 5}
			r.connect(user+"-"+strconv.Itoa(k), true, 0, func(pk *packets.Packet) {
				pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte(user)
			})
			if k < subs {
				filter := prefix + "s/+"
				if pattern == "fanout" {
					filter = prefix + "s/x"
				}
				r.subscribe(1, subOpt(filter, 0))
				client.SetDeadline(time.Time{}) // connect and subscribe set 5 s ones
				readers.Add(1)
				go func() {
					defer readers.Done()
					countPublishes(r.br, &got)
				}()
				continue
			}
			topic := prefix + "s/x"
			if pattern == "fanin" {
				topic = prefix + "s/" + strconv.Itoa(k)
			}
			var buf bytes.Buffer
			pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 5,
				TopicName: topic, Payload: payload16}
			if err := pk.PublishEncode(&buf); err != nil {
				b.Fatal(err)
			}
			client.SetDeadline(time.Time{})
			pubs = append(pubs, publisher{nc: client, pkt: buf.Bytes()})
		}
	}

	deliveries := int64(b.N)
	if pattern == "fanout" {
		deliveries *= int64(subs)
	}
	var writeErr atomic.Pointer[error]
	const workers = 8
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cputime.Process()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Worker w sends publishes w, w+workers, … of b.N, each from
			// the next publisher in turn.
			for i := w; i < b.N; i += workers {
				p := pubs[i%len(pubs)]
				if _, err := p.nc.Write(p.pkt); err != nil {
					writeErr.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	last, idle := int64(-1), 0
	for got.Load() < deliveries && idle < 3000 { // 30 s without progress: on this shared machine a run can starve for seconds
		time.Sleep(10 * time.Millisecond)
		if n := got.Load(); n == last {
			idle++
		} else {
			last, idle = n, 0
		}
	}
	elapsed, cpu := time.Since(start), cputime.Process()-cpu0
	b.StopTimer()
	if n := got.Load(); n < deliveries {
		var werr error
		if e := writeErr.Load(); e != nil {
			werr = *e
		}
		b.Fatalf("%d of %d deliveries arrived (write error %v, %d connections)", n, deliveries, werr, s.nconns.Load())
	}
	b.ReportMetric(float64(deliveries)/elapsed.Seconds(), "msgs/s")
	// CPU time (the process's, clients included) per publish: what the
	// comparison rests on when the shared machine's load swings wall time.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	s.Close()
	readers.Wait()
}

// countPublishes reads MQTT packets from r until it ends, counting the
// PUBLISHes.
func countPublishes(r *bufio.Reader, n *atomic.Int64) {
	for {
		h, err := r.ReadByte()
		if err != nil {
			return
		}
		size, mult := 0, 1
		for {
			c, err := r.ReadByte()
			if err != nil {
				return
			}
			size += int(c&0x7f) * mult
			if c&0x80 == 0 {
				break
			}
			mult *= 128
		}
		if _, err := r.Discard(size); err != nil {
			return
		}
		if h>>4 == packets.Publish {
			n.Add(1)
		}
	}
}
