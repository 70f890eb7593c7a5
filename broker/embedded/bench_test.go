package embedded

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/internal/cputime"
)

var payload16 = []byte("0123456789abcdef")

// BenchmarkInProcessPublish: one in-process publisher, one in-process
// subscriber, QoS 1, 16-byte payloads.
func BenchmarkInProcessPublish(b *testing.B) {
	s := New(&Config{MaxQueuedBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	var n atomic.Int64
	done := make(chan struct{})
	target := int64(b.N)
	mustSub(b, s, "bench/+", broker.HandlerFunc(func(context.Context, broker.Message) error {
		if n.Add(1) == target {
			close(done)
		}
		return nil
	}))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Publish(ctx, broker.Message{Topic: "bench/1", QoS: 1, Payload: payload16})
	}
	<-done
}

// rawSubscribers connects n MQTT 3.1.1 clients subscribed to topic that
// read and discard (QoS 0) and returns a counter of bytes received.
func rawSubscribers(b *testing.B, addr, topic string, n int) *atomic.Int64 {
	var got atomic.Int64
	for i := 0; i < n; i++ {
		r := dialRaw(b, addr)
		r.connect("", true, 0, nil)
		r.subscribe(1, subOpt(topic, 0))
		go func() {
			buf := make([]byte, 32<<10)
			for {
				k, err := r.br.Read(buf)
				got.Add(int64(k))
				if err != nil {
					return
				}
			}
		}()
	}
	return &got
}

// BenchmarkFanout1000: one in-process QoS 0 publish to 1,000 TCP
// subscribers (16-byte payload); ns/op is per publish, i.e. per 1,000
// deliveries.
func BenchmarkFanout1000(b *testing.B) {
	srv, addr := startServer(b, &Config{AllowAnonymous: true, MaxQueuedBytes: 64 << 20, Logger: slog.New(slog.DiscardHandler)})
	got := rawSubscribers(b, addr, "fan", 1000)
	ctx := context.Background()
	per := int64(1 + 1 + 2 + 3 + len(payload16)) // header, length, topic "fan", payload
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process() // the subscribers' connecting left out
	for i := 0; i < b.N; i++ {
		srv.Publish(ctx, broker.Message{Topic: "fan", Payload: payload16})
	}
	// Wait until every delivery is written or deliveries stop (QoS 0 may
	// be dropped for a subscriber that falls MaxQueuedBytes behind).
	want := per * int64(b.N) * 1000
	last, idle := int64(-1), 0
	for got.Load() < want && idle < 100 {
		if n := got.Load(); n == last {
			idle++
		} else {
			last, idle = n, 0
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(got.Load())/float64(per)/float64(b.N), "deliveries/op")
}

// BenchmarkTCPPublishQoS1: one MQTT 3.1.1 client publishing QoS 1 over TCP,
// 64 publishes in flight, to one in-process subscriber.
func BenchmarkTCPPublishQoS1(b *testing.B) { benchTCPPublishQoS1(b, 64) }

// BenchmarkTCPPublishQoS1InFlight1: the same with one publish in flight,
// so that the broker's reader runs out of input after every packet: the
// worst case for a connection that parks its socket whenever nothing is
// left to read.
func BenchmarkTCPPublishQoS1InFlight1(b *testing.B) { benchTCPPublishQoS1(b, 1) }

func benchTCPPublishQoS1(b *testing.B, inflight int) {
	srv, addr := startServer(b, &Config{AllowAnonymous: true, MaxQueuedBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
	var n atomic.Int64
	mustSub(b, srv, "in/+", broker.HandlerFunc(func(context.Context, broker.Message) error {
		n.Add(1)
		return nil
	}))
	r := dialRaw(b, addr)
	r.connect("pub", true, 0, nil)
	timePublishQoS1(b, r, inflight)
}

// timePublishQoS1 times r, a connected MQTT 3.1.1 client, publishing
// b.N QoS 1 messages to in/1 with up to inflight awaiting PUBACK
// (publishQoS1). The client and the broker share the process: the CPU per
// publish reported is both's.
func timePublishQoS1(b *testing.B, r *rawClient, inflight int) {
	b.ReportAllocs()
	cpu := cputime.PerOp(b)
	publishQoS1(r, "in/1", b.N, inflight)
	cpu(b.N)
}

// BenchmarkSubscribeWorstFilter: what one SUBSCRIBE filter costs the
// server at the limits (parse, expand comma lists, add to and remove from
// the tree): the deepest filter MaxTopicLevels allows, the most comma
// combinations, and a 65,535-byte filter of '/' (refused before any work
// that grows with its levels; it took 67 s of CPU before the bound), and a
// "$filter" of about 4 KiB (maxSubscribeSpecBytes lets four of them into one
// SUBSCRIBE).
func BenchmarkSubscribeWorstFilter(b *testing.B) {
	s := New(&Config{Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	se := newSession(s, "bench")
	for _, c := range []struct {
		name, filter string
		ok           bool
	}{
		{"levels-128", strings.Repeat("l/", 127) + "l", true},
		{"comma-1024x8", strings.Repeat("a,b/", 7) + "a,b,c,d,e,f,g,h", true},
		{"comma-1024-ids", "flespi/message/gw/devices/" + commaIDs(1024) + "/+", true},
		{"filter-4KiB-spec", worstSpecFilter("t/x"), true},
		{"slashes-65535", strings.Repeat("/", 65535), false},
		{"comma-1024x9-refused", strings.Repeat("a,b/", 7) + "a,b,c,d,e,f,g,h/x", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cputime.Process()
			defer func() { b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op") }()
			for range b.N {
				pf, err := s.parseFilter(c.filter)
				if (err == nil) != c.ok {
					b.Fatalf("parse: %v", err)
				}
				if err != nil {
					continue
				}
				sub := &subscription{sess: se, filter: pf}
				s.tree.add(sub)
				s.tree.remove(sub)
			}
		})
	}
}

func commaIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(100000 + i)
	}
	return strings.Join(ids, ",")
}

// BenchmarkRetainedReplace: the gateway's telemetry topics, in-process
// QoS 1 retained publishes replacing 50,000 retained messages (2,000
// devices × 25 parameters) that no subscription matches, with a data
// directory; volatile: with those topics in Config.VolatileRetained, as
// the gateway has them.
func BenchmarkRetainedReplace(b *testing.B) {
	for _, volatile := range []bool{false, true} {
		b.Run("volatile="+strconv.FormatBool(volatile), func(b *testing.B) {
			cfg := &Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)}
			if volatile {
				cfg.VolatileRetained = func(topic string) bool { return strings.HasPrefix(topic, "flespi/state/") }
			}
			s, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			topics := make([]string, 50000)
			for i := range topics {
				topics[i] = "flespi/state/gw/devices/" + strconv.Itoa(i/25) + "/telemetry/param." + strconv.Itoa(i%25)
			}
			ctx := context.Background()
			props := broker.Properties{UserProperties: []broker.UserProperty{{Key: "timestamp", Value: "1700000000.5"}}}
			for _, t := range topics {
				s.Publish(ctx, broker.Message{Topic: t, QoS: 1, Retain: true, Payload: payload16, Properties: props})
			}
			if err := s.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cputime.Process()
			for i := range b.N {
				s.Publish(ctx, broker.Message{Topic: topics[i%len(topics)], QoS: 1, Retain: true, Payload: payload16, Properties: props})
			}
			if err := s.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
