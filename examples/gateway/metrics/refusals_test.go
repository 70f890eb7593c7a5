package metrics

import (
	"context"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/node"
)

type snapshot node.Snapshot

func (s snapshot) Snapshot(context.Context) (node.Snapshot, error) { return node.Snapshot(s), nil }

// Refused attempts to reach another account are exported by kind.
func TestAccountRefusals(t *testing.T) {
	reg, _ := New(snapshot{Refusals: map[string]int64{"rest_object": 6, "mqtt_cid": 5}})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "gnssgate_account_refusals_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if got["rest_object"] != 6 || got["mqtt_cid"] != 5 || len(got) != 2 {
		t.Fatalf("gnssgate_account_refusals_total: %v", got)
	}
}
