package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
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
//
// It has to keep up with the whole fleet's messages (19,000 a second in
// the gateway's benchmark) in a process that is busy being the fleet: a
// subscriber that falls behind makes the broker queue and then drop its
// messages, and the delay measured is then the subscriber's own. So each
// message is handled in the client's read goroutine (no hand-off), read
// from a large buffer (hundreds of messages per system call), and only
// the stamp's bytes are parsed; and the subscription is QoS 0 unless
// asked otherwise (see watchQoSUsage).
type watcher struct {
	c        *mqtt311.Client
	delay    latency.Histogram
	received atomic.Uint64
	stamped  atomic.Uint64
}

// watchQoSUsage says why -watch subscribes at QoS 0 by default.
const watchQoSUsage = "QoS of the -watch subscription: 0 (default) costs the broker and the subscriber least, " +
	"1 holds at most the broker's in-flight window (1024) unacknowledged and so caps the subscriber at a window per round trip; " +
	"at either, the broker drops what a slow subscriber's full queue cannot take, which the received count shows"

// watchReadBuffer is the subscriber's read buffer: about 400 of the
// gateway's messages.
const watchReadBuffer = 256 << 10

// WatchSummary is what the watcher saw; delays in milliseconds.
type WatchSummary struct {
	Topic    string  `json:"topic"`
	Received uint64  `json:"received"`
	Stamped  uint64  `json:"stamped"` // with a server.timestamp
	P50      float64 `json:"delay_p50_ms"`
	P99      float64 `json:"delay_p99_ms"`
	Max      float64 `json:"delay_max_ms"`
}

func startWatch(ctx context.Context, addr, token, topic string, qos byte) (*watcher, error) {
	w := &watcher{}
	c, _, err := mqtt311.Dial(ctx, addr, mqtt311.Options{Username: token, KeepAlive: time.Minute,
		ReadBufferSize: watchReadBuffer, OnMessage: w.handle})
	if err != nil {
		return nil, fmt.Errorf("-watch %s: %w", addr, err)
	}
	codes, err := c.Subscribe(ctx, mqtt311.Subscription{Filter: topic, QoS: qos})
	if err != nil || len(codes) != 1 || codes[0] > 2 {
		c.Close()
		if err == nil {
			err = fmt.Errorf("subscription refused (code %v): does the token's ACL allow it?", codes)
		}
		return nil, fmt.Errorf("-watch %s %s: %w", addr, topic, err)
	}
	w.c = c
	return w, nil
}

// handle is called for each message, in the client's read goroutine.
func (w *watcher) handle(m mqtt311.Message) {
	now := time.Now()
	w.received.Add(1)
	if ts, ok := serverStamp(m.Payload); ok {
		w.stamped.Add(1)
		w.delay.Record(now.Sub(ts))
	}
}

var stampKey = []byte(`"server.timestamp"`)

// serverStamp returns a message's "server.timestamp" (Unix seconds). It
// looks for the key's bytes and parses the number after it, without
// parsing the rest of the JSON: the gateway's messages are flat objects,
// where the key can occur only once and only as a key (inside a string
// its quotes would be escaped). Anything else goes to gjson.
func serverStamp(payload []byte) (time.Time, bool) {
	if i := bytes.Index(payload, stampKey); i >= 0 {
		rest := payload[i+len(stampKey):]
		j := skipSpace(rest, 0)
		if j < len(rest) && rest[j] == ':' {
			j = skipSpace(rest, j+1)
			k := j
			for k < len(rest) && strings.IndexByte("0123456789.-+eE", rest[k]) >= 0 {
				k++
			}
			if k < len(rest) && (rest[k] == ',' || rest[k] == '}' || isSpace(rest[k])) {
				if f, err := strconv.ParseFloat(string(rest[j:k]), 64); err == nil {
					return unixSeconds(f), true
				}
			}
		}
	}
	if ts := gjson.GetBytes(payload, `server\.timestamp`); ts.Type == gjson.Number {
		return unixSeconds(ts.Float()), true
	}
	return time.Time{}, false
}

func unixSeconds(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

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
	w.c.Close() // returns once the read goroutine, and so handle, has ended
	s := w.delay.Snapshot()
	return WatchSummary{Received: w.received.Load(), Stamped: w.stamped.Load(),
		P50: latency.Millis(s.Quantile(0.5)), P99: latency.Millis(s.Quantile(0.99)), Max: latency.Millis(s.Max())}
}

// writeText writes the watcher's line; acked is the fleet's acknowledged
// records, one message each on the gateway's platform topics.
func (s WatchSummary) writeText(w io.Writer, acked int64) {
	fmt.Fprintf(w, "watched %s: %d messages (%d stamped) for %d records acknowledged, delay from the server's receipt p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		s.Topic, s.Received, s.Stamped, acked, s.P50, s.P99, s.Max)
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
