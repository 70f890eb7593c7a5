package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/testenv"
)

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(c.q)
		if d := got - c.want; d < -c.want/15 || d > c.want/15 {
			t.Errorf("quantile(%v) = %v, want %v ± 7%%", c.q, got, c.want)
		}
	}
	for us := uint64(0); us < 1<<20; us = us*3/2 + 1 {
		b := bucketOf(us)
		if lowerBound(b) > us || lowerBound(b+1) <= us {
			t.Fatalf("bucket %d [%d, %d) does not hold %d", b, lowerBound(b), lowerBound(b+1), us)
		}
	}
}

// A tiny run of each scenario against a real broker: every QoS 1 message
// must arrive exactly once.
func TestRunQoS1(t *testing.T) {
	addr := testenv.MQTTAddr(t)
	for _, sc := range []struct {
		scenario   string
		pubs, subs int
	}{{"p2p", 2, 2}, {"fanout", 1, 3}, {"fanin", 3, 2}} {
		res, err := run(context.Background(), config{
			Addr: addr, Scenario: sc.scenario, QoS: 1, Pubs: sc.pubs, Subs: sc.subs,
			Duration: 200 * time.Millisecond, Rate: 200, Inflight: 2, Drain: 3 * time.Second,
		})
		if err != nil {
			t.Fatalf("%s: %v", sc.scenario, err)
		}
		if res.Sent == 0 || res.Missing != 0 || res.Received != res.Expected || res.P50ms <= 0 {
			t.Errorf("%s: %+v", sc.scenario, res)
		}
	}
}

func TestMainJSON(t *testing.T) {
	addr := testenv.MQTTAddr(t)
	var out, errOut bytes.Buffer
	code := mainRun(context.Background(), []string{"-addr", addr, "-scenario", "p2p", "-n", "1", "-qos", "0",
		"-rate", "100", "-duration", "100ms", "-drain", "2s", "-json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if res.Scenario != "p2p" || res.Sent == 0 {
		t.Errorf("%+v", res)
	}
	if code := mainRun(context.Background(), []string{"-scenario", "nope"}, &out, &errOut); code != 2 {
		t.Errorf("bad scenario: exit %d, want 2", code)
	}
}
