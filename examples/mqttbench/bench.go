package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/packets"
	mqtt "github.com/eclipse/paho.golang/paho"
	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/examples/internal/latency"
)

// config is one benchmark run.
type config struct {
	Addr     string        // host:port of the MQTT broker
	Scenario string        // p2p, fanout or fanin
	QoS      byte          // 0 or 1, for publishing and subscribing
	Pubs     int           // publishing connections
	Subs     int           // subscribing connections
	Duration time.Duration // how long publishers publish
	Rate     float64       // messages/s per publisher; 0 = as fast as the window allows
	Inflight int           // QoS 1 publishes in flight per publisher
	Drain    time.Duration // how long to wait for stragglers after publishing stops
	// SessionExpiry gives subscribers persistent sessions (MQTT 5 session
	// expiry, seconds): a broker that keeps them durably stores every
	// delivery to them. 0: non-persistent. Their sessions end with the run.
	SessionExpiry uint32
	Logger        *slog.Logger
}

// result is what a run measured. Rates are over the publishing time.
type result struct {
	Scenario     string  `json:"scenario"`
	Addr         string  `json:"addr"`
	QoS          byte    `json:"qos"`
	Pubs         int     `json:"publishers"`
	Subs         int     `json:"subscribers"`
	PayloadBytes int     `json:"payload_bytes"`
	Seconds      float64 `json:"seconds"`
	Sent         uint64  `json:"sent"`
	Expected     uint64  `json:"expected"` // deliveries the scenario owes for Sent
	Received     uint64  `json:"received"`
	Missing      int64   `json:"missing"` // Expected - Received; negative means duplicates
	PubErrors    uint64  `json:"publish_errors"`
	PubRate      float64 `json:"publish_msgs_per_s"`
	RecvRate     float64 `json:"receive_msgs_per_s"`
	P50ms        float64 `json:"latency_p50_ms"`
	P90ms        float64 `json:"latency_p90_ms"`
	P99ms        float64 `json:"latency_p99_ms"`
	Maxms        float64 `json:"latency_max_ms"`
}

// payloadLen is the message size the published benchmarks use: 8 bytes of
// send time (Unix ns) and 8 of sequence number.
const payloadLen = 16

// run executes one benchmark against cfg.Addr.
func run(ctx context.Context, cfg config) (result, error) {
	if cfg.Pubs < 1 || cfg.Subs < 1 {
		return result{}, errors.New("mqttbench: need at least one publisher and one subscriber")
	}
	if cfg.QoS > 1 {
		return result{}, errors.New("mqttbench: QoS must be 0 or 1")
	}
	if cfg.Inflight < 1 {
		cfg.Inflight = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	runID := uuid.NewString()[:8]
	base := "bench/" + runID + "/" + cfg.Scenario

	// Who publishes where, who subscribes to what, and how many deliveries
	// one publish owes.
	pubTopic := func(i int) string { return base + "/" + strconv.Itoa(i) }
	var subFilter func(i int) string
	var fanout uint64
	switch cfg.Scenario {
	case "p2p":
		if cfg.Pubs != cfg.Subs {
			return result{}, errors.New("mqttbench: p2p needs as many subscribers as publishers")
		}
		subFilter, fanout = pubTopic, 1
	case "fanout":
		pubTopic = func(int) string { return base }
		subFilter = func(int) string { return base }
		fanout = uint64(cfg.Subs)
	case "fanin":
		subFilter = func(int) string { return "$share/bench" + runID + "/" + base + "/+" }
		fanout = 1
	default:
		return result{}, fmt.Errorf("mqttbench: unknown scenario %q (p2p, fanout, fanin)", cfg.Scenario)
	}

	var hist histogram
	var received atomic.Uint64
	onMessage := func(pr mqtt.PublishReceived) (bool, error) {
		if p := pr.Packet.Payload; len(p) == payloadLen {
			sent := int64(binary.BigEndian.Uint64(p))
			hist.record(time.Duration(time.Now().UnixNano() - sent))
		}
		received.Add(1)
		return true, nil
	}

	var clients []*mqtt.Client
	defer func() {
		zero := uint32(0)
		for _, c := range clients {
			c.Disconnect(&mqtt.Disconnect{Properties: &mqtt.DisconnectProperties{SessionExpiryInterval: &zero}})
		}
	}()
	subs, err := connectAll(ctx, cfg.Addr, "bench-sub-"+runID, cfg.Subs, cfg.SessionExpiry, onMessage)
	clients = append(clients, subs...)
	if err != nil {
		return result{}, err
	}
	for i, c := range subs {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.Subscribe(sctx, &mqtt.Subscribe{Subscriptions: []mqtt.SubscribeOptions{{Topic: subFilter(i), QoS: cfg.QoS}}})
		cancel()
		if err != nil {
			return result{}, fmt.Errorf("mqttbench: subscribe %s: %w", subFilter(i), err)
		}
	}
	pubs, err := connectAll(ctx, cfg.Addr, "bench-pub-"+runID, cfg.Pubs, 0, nil)
	clients = append(clients, pubs...)
	if err != nil {
		return result{}, err
	}
	cfg.Logger.Info("connected", "publishers", len(pubs), "subscribers", len(subs), "scenario", cfg.Scenario)

	var sent, pubErrs atomic.Uint64
	pctx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range pubs {
		workers := 1
		if cfg.QoS > 0 {
			workers = cfg.Inflight
		}
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				publishLoop(pctx, c, pubTopic(i), cfg, float64(workers), &sent, &pubErrs)
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Wait for the deliveries still on their way.
	expected := sent.Load() * fanout
	deadline := time.Now().Add(cfg.Drain)
	for received.Load() < expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}

	got := received.Load()
	secs := elapsed.Seconds()
	return result{
		Scenario: cfg.Scenario, Addr: cfg.Addr, QoS: cfg.QoS,
		Pubs: cfg.Pubs, Subs: cfg.Subs, PayloadBytes: payloadLen,
		Seconds: secs, Sent: sent.Load(), Expected: expected, Received: got,
		Missing:   int64(expected) - int64(got),
		PubErrors: pubErrs.Load(),
		PubRate:   float64(sent.Load()) / secs,
		RecvRate:  float64(got) / secs,
		P50ms:     latency.Millis(hist.quantile(0.50)),
		P90ms:     latency.Millis(hist.quantile(0.90)),
		P99ms:     latency.Millis(hist.quantile(0.99)),
		Maxms:     latency.Millis(hist.quantile(1)),
	}, nil
}

// publishLoop publishes until ctx ends, paced when cfg.Rate is set (the
// rate is per publisher, shared by its workers).
func publishLoop(ctx context.Context, c *mqtt.Client, topic string, cfg config, workers float64, sent, errs *atomic.Uint64) {
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) * workers / cfg.Rate)
	}
	next := time.Now()
	var seq uint64
	for ctx.Err() == nil {
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			}
			next = next.Add(interval)
		}
		seq++
		p := make([]byte, payloadLen)
		binary.BigEndian.PutUint64(p, uint64(time.Now().UnixNano()))
		binary.BigEndian.PutUint64(p[8:], seq)
		// The publish itself is not bounded by the run: a QoS 1 message
		// sent must be counted once its PUBACK arrives.
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.Publish(pctx, &mqtt.Publish{Topic: topic, QoS: cfg.QoS, Payload: p})
		cancel()
		if err != nil {
			errs.Add(1)
			continue
		}
		sent.Add(1)
	}
}

// connectAll opens n connections, 32 at a time.
func connectAll(ctx context.Context, addr, idPrefix string, n int, expiry uint32, onMessage func(mqtt.PublishReceived) (bool, error)) ([]*mqtt.Client, error) {
	clients := make([]*mqtt.Client, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			clients[i], errs[i] = connect(ctx, addr, idPrefix+"-"+strconv.Itoa(i), expiry, onMessage)
		}()
	}
	wg.Wait()
	var ok []*mqtt.Client
	for i, c := range clients {
		if errs[i] == nil {
			ok = append(ok, c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ok, err
	}
	return ok, nil
}

func connect(ctx context.Context, addr, id string, expiry uint32, onMessage func(mqtt.PublishReceived) (bool, error)) (*mqtt.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mqttbench: %w", err)
	}
	cfg := mqtt.ClientConfig{ClientID: id, Conn: packets.NewThreadSafeConn(conn)}
	if onMessage != nil {
		cfg.OnPublishReceived = []func(mqtt.PublishReceived) (bool, error){onMessage}
	}
	c := mqtt.NewClient(cfg)
	if _, err := c.Connect(ctx, &mqtt.Connect{ClientID: id, KeepAlive: 30, CleanStart: true,
		Properties: &mqtt.ConnectProperties{SessionExpiryInterval: &expiry}}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("mqttbench: connect %s: %w", id, err)
	}
	return c, nil
}
