package memory_test

import (
	"testing"

	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string, cfg store.Config) store.Store {
		return memory.New(&cfg)
	}, storetest.Options{})
}
