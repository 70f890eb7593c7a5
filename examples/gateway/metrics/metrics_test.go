package metrics_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/metrics"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
)

// A tracker's positions show on /metrics as the gateway's main binary
// mounts it: frames, messages and ACKs of its channel, the ACK latency
// histogram, the log, devices, the connection bound and the store's
// Pebble instances.
func TestMetricsAfterTraffic(t *testing.T) {
	g := gwtest.Start(t, gwtest.Config(t, "teltonika"), func(n *node.Node) {
		reg, observe := metrics.New(n)
		n.ObserveAppend(observe)
		n.SetHTTPHandlers(func(mux *http.ServeMux) {
			mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		})
	})
	_, addr := g.Channel("teltonika")
	tr := gwtest.MustDial(t, "teltonika", addr, 1)
	for range 3 {
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
	}
	var body string
	gwtest.WaitFor(t, "the history writer's lag back to 0", func() bool {
		resp, err := http.Get("http://" + g.HTTP + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return strings.Contains(body, `gnssgate_log_consumer_lag{consumer="stream:history"} 0`)
	})
	for _, want := range []string{
		`gnssgate_channel_frames_total{channel="1",name="teltonika",protocol="teltonika"} 4`, // login and 3 records
		`gnssgate_channel_messages_total{channel="1",name="teltonika",protocol="teltonika"} 3`,
		`gnssgate_channel_messages_acked_total{channel="1",name="teltonika",protocol="teltonika"} 3`,
		`gnssgate_channel_connections{channel="1",name="teltonika",protocol="teltonika"} 1`,
		"gnssgate_ack_latency_seconds_count 3",
		"gnssgate_log_appended_total 3",
		"gnssgate_devices 1",
		"gnssgate_devices_connected 1",
		"gnssgate_connections_max ",
		`gnssgate_store_engine_disk_bytes{instance="log"} `,
		`gnssgate_store_engine_flushes_total{instance="state"} `,
		`gnssgate_store_engine_compaction_read_bytes_total{instance="telemetry"} `,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in /metrics", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
