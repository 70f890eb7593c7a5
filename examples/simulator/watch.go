package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"

	"github.com/gnssgate/gnssgate/examples/internal/latency"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// watcher subscribes to the server's MQTT topics while the fleet runs and
// measures, for every message it receives, the delay from the server
// receiving the tracker's packet ("server.timestamp", which the gateway
// stamps on arrival) to the message reaching an MQTT subscriber: the
// delay a platform-topic consumer sees. Simulator and server share a
// clock (the same machine); across machines the figure includes their
// clock offset.
type watcher struct {
	c        *mqtt311.Client
	delay    latency.Histogram
	received atomic.Uint64
	stamped  atomic.Uint64
	done     chan struct{}
}

// WatchSummary is what the watcher saw; delays in milliseconds.
type WatchSummary struct {
	Topic    string  `json:"topic"`
	Received uint64  `json:"received"`
	Stamped  uint64  `json:"stamped"` // with a server.timestamp
	P50      float64 `json:"delay_p50_ms"`
	P99      float64 `json:"delay_p99_ms"`
	Max      float64 `json:"delay_max_ms"`
}

func startWatch(ctx context.Context, addr, token, topic string) (*watcher, error) {
	c, _, err := mqtt311.Dial(ctx, addr, mqtt311.Options{Username: token, KeepAlive: time.Minute})
	if err != nil {
		return nil, fmt.Errorf("-watch %s: %w", addr, err)
	}
	codes, err := c.Subscribe(ctx, mqtt311.Subscription{Filter: topic, QoS: 1})
	if err != nil || len(codes) != 1 || codes[0] > 2 {
		c.Close()
		if err == nil {
			err = fmt.Errorf("subscription refused (code %v): does the token's ACL allow it?", codes)
		}
		return nil, fmt.Errorf("-watch %s %s: %w", addr, topic, err)
	}
	w := &watcher{c: c, done: make(chan struct{})}
	go w.read()
	return w, nil
}

func (w *watcher) read() {
	defer close(w.done)
	for m := range w.c.Messages() {
		now := time.Now()
		w.received.Add(1)
		if ts := gjson.GetBytes(m.Payload, `server\.timestamp`); ts.Type == gjson.Number {
			w.stamped.Add(1)
			sec, frac := math.Modf(ts.Float())
			w.delay.Record(now.Sub(time.Unix(int64(sec), int64(frac*1e9))))
		}
	}
}

// stop waits up to linger for messages still on their way, then ends.
func (w *watcher) stop(linger time.Duration) WatchSummary {
	for last := w.received.Load(); ; {
		time.Sleep(linger)
		n := w.received.Load()
		if n == last {
			break
		}
		last = n
	}
	w.c.Close()
	<-w.done
	s := w.delay.Snapshot()
	return WatchSummary{Received: w.received.Load(), Stamped: w.stamped.Load(),
		P50: latency.Millis(s.Quantile(0.5)), P99: latency.Millis(s.Quantile(0.99)), Max: latency.Millis(s.Max())}
}

func (s WatchSummary) writeText(w io.Writer) {
	fmt.Fprintf(w, "watched %s: %d messages (%d stamped), delay from the server's receipt p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		s.Topic, s.Received, s.Stamped, s.P50, s.P99, s.Max)
}

// withWatch is the JSON summary with the watcher's beside the fleet's.
func withWatch(fleetJSON []byte, ws WatchSummary) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(fleetJSON, &m); err != nil {
		return nil, err
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return nil, err
	}
	m["watch"] = b
	return json.Marshal(m)
}
