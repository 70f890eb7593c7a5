package pebble_test

import (
	"context"
	"flag"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/store/storetest"
)

var long = flag.Bool("long", false, "run the kill test 100 times instead of 5")

func open(t *testing.T, dir string, cfg store.Config) store.Store {
	db, err := pebble.Open(dir, &pebble.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open, storetest.Options{Durable: true})
}

func TestCrash(t *testing.T) {
	n := 5
	if *long {
		n = 100
	}
	storetest.Crash(t, open, n)
}

// TestEngineStats: what the history writes reaches the state instance's
// flushes (its memtable is small here), the log and telemetry take room on
// disk, and a closed store reports nothing.
func TestEngineStats(t *testing.T) {
	db, err := pebble.Open(t.TempDir(), &pebble.Options{MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	batch := make([]protocol.Message, 100)
	for n := 0; n < 100; n++ {
		for i := range batch {
			batch[i] = storetest.Message("dev"+strconv.Itoa(i), 1.7e9+float64(n), n*len(batch)+i)
		}
		if _, err := db.Log().Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := db.Messages().Store(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := db.Telemetry().Update(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	stats := db.EngineStats()
	var names []string
	for _, s := range stats {
		names = append(names, s.Name)
		if s.DiskBytes == 0 {
			t.Errorf("%s: no bytes on disk", s.Name)
		}
	}
	if got := strings.Join(names, ","); got != "log,state,telemetry" {
		t.Fatalf("instances %s", got)
	}
	if st := stats[1]; st.Flushes == 0 || st.FlushedBytes == 0 || st.WALBytes < st.FlushedBytes/4 {
		t.Errorf("state: %d flushes wrote %d bytes (WAL %d) after 10,000 messages in 1 MiB memtables", st.Flushes, st.FlushedBytes, st.WALBytes)
	}
	// 100 devices' telemetry, rewritten 100 times: the WAL takes every
	// version, tables only the last ones.
	if st := stats[2]; st.Flushes == 0 || st.FlushedBytes > st.WALBytes/10 {
		t.Errorf("telemetry: WAL %d bytes, %d flushes wrote %d", st.WALBytes, st.Flushes, st.FlushedBytes)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s := db.EngineStats(); s != nil {
		t.Errorf("closed store: %+v", s)
	}
}
