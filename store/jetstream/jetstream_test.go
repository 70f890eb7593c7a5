package jetstream_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/jetstream"
	"github.com/gnssgate/gnssgate/store/storetest"
)

var long = flag.Bool("long", false, "run the kill tests longer")

// nameFor derives a store name from a test directory: reopening the same
// directory opens the same streams, and every test has its own.
func nameFor(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "t" + hex.EncodeToString(sum[:8])
}

// opener opens stores on url, destroying each test's streams at its end.
func opener(url string) storetest.Opener {
	var mu sync.Mutex
	cleaned := map[string]bool{}
	return func(t *testing.T, dir string, cfg store.Config) store.Store {
		name := nameFor(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := jetstream.Dial(ctx, url, &jetstream.Options{Config: cfg, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if !cleaned[name] {
			cleaned[name] = true
			t.Cleanup(func() { destroy(t, url, name) })
		}
		mu.Unlock()
		return s
	}
}

func destroy(t testing.TB, url, name string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := jetstream.Destroy(ctx, nc, name); err != nil {
		t.Logf("cleanup %s: %v", name, err)
	}
}

func TestConformance(t *testing.T) {
	url := testenv.NATSURL(t)
	storetest.Run(t, opener(url), storetest.Options{Durable: true})
}

// Two nodes on one store write the same device's telemetry in turns: each
// node's remembered revision goes stale whenever the other writes, its
// compare-and-set must fail and re-read, and the newest value must win on
// both, with neither node's other parameters lost.
func TestTelemetryTwoWriters(t *testing.T) {
	url := testenv.NATSURL(t)
	open := opener(url)
	dir := t.TempDir()
	a := open(t, dir, store.Config{})
	defer a.Close()
	b := open(t, dir, store.Config{})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msg := func(ts float64, name string, v int64) protocol.Message {
		var m protocol.Message
		m.SetString(protocol.ParamIdent, "dev-1")
		m.SetFloat(protocol.ParamTimestamp, ts)
		m.SetInt(name, v)
		return m
	}
	for i := range 20 {
		w, name := a, "a.count"
		if i%2 == 1 {
			w, name = b, "b.count"
		}
		if err := w.Telemetry().Update(ctx, []protocol.Message{msg(float64(1000+i), name, int64(i))}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		// A late message from the other node's past never wins.
		if err := w.Telemetry().Update(ctx, []protocol.Message{msg(float64(i), "shared", -1)}); err != nil {
			t.Fatalf("old update %d: %v", i, err)
		}
		if err := w.Telemetry().Update(ctx, []protocol.Message{msg(float64(1000+i), "shared", int64(i))}); err != nil {
			t.Fatalf("shared %d: %v", i, err)
		}
	}
	for _, s := range []store.Store{a, b} {
		vs, err := s.Telemetry().Get(ctx, "dev-1")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, v := range vs {
			got[v.Name] = v.Value.String()
		}
		want := map[string]string{"a.count": "18", "b.count": "19", "shared": "19"}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s = %q, want %q (all: %v)", k, got[k], w, got)
			}
		}
	}
}
