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
