package node_test

import (
	"context"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
)

// The node's listeners share MaxConnections: trackers over it are closed
// on accept (and counted) while those within it are served; a closed
// tracker's place is taken by the next. By default the bound comes from
// the open-file limit less the store's files, so that sockets never take
// the files pebble must open (19,000 trackers under a limit of 20,000
// once made pebble fail to rotate its WAL and stop the process).
func TestMaxConnections(t *testing.T) {
	cfg := gwtest.Config(t, "teltonika")
	cfg.MaxConnections = 3
	g := gwtest.Start(t, cfg)
	_, addr := g.Channel("teltonika")
	a := gwtest.MustDial(t, "teltonika", addr, 1)
	b := gwtest.MustDial(t, "teltonika", addr, 2)
	c := gwtest.MustDial(t, "teltonika", addr, 3)
	for _, tr := range []*gwtest.Tracker{a, b, c} {
		if _, err := tr.Next(); err != nil {
			t.Fatalf("a tracker within the bound: %v", err)
		}
	}
	if _, err := gwtest.Dial("teltonika", addr, 4); err == nil {
		t.Fatal("a fourth tracker logged in over MaxConnections = 3")
	}
	s, err := g.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxConnections != 3 || s.Connections != 3 || s.ConnectionsRejected == 0 {
		t.Fatalf("snapshot: %d open of %d, %d rejected", s.Connections, s.MaxConnections, s.ConnectionsRejected)
	}
	c.Close()
	gwtest.WaitFor(t, "the closed tracker's place freed", func() bool {
		s, _ := g.Snapshot(context.Background())
		return s.Connections == 2
	})
	d := gwtest.MustDial(t, "teltonika", addr, 4)
	if _, err := d.Next(); err != nil {
		t.Fatalf("a tracker in a freed place: %v", err)
	}

	// The default: the file limit less what the store may hold open.
	def := gwtest.Start(t, gwtest.Config(t))
	s, err = def.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxConnections <= 0 {
		t.Fatalf("no default bound: %+v", s.MaxConnections)
	}
	t.Logf("default bound: %d connections", s.MaxConnections)
}
