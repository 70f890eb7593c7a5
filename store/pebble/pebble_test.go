package pebble_test

import (
	"flag"
	"testing"

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
