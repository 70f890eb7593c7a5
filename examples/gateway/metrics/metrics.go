// Package metrics exports a gateway node's state to Prometheus
// (github.com/prometheus/client_golang): connections, frames, messages and
// decode errors per channel, the time to durability that trackers wait
// for, the log's size, stream counters and lag, device counts, refused
// attempts to reach another account. Values are
// read from the node at each scrape: there is no second copy of state.
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gnssgate/gnssgate/examples/gateway/node"
)

// Source is what the exporter reads: a *node.Node.
type Source interface {
	Snapshot(ctx context.Context) (node.Snapshot, error)
}

// New returns a registry holding the gateway's metrics, the Go runtime's
// and the process's, and the histogram the node feeds with append
// latencies (pass it to node.ObserveAppend).
func New(src Source) (*prometheus.Registry, func(time.Duration)) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	appendSeconds := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gnssgate_ack_latency_seconds",
		Help:    "Time for a channel batch to become durable in the log: the wait before the tracker's ACK.",
		Buckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
	})
	reg.MustRegister(appendSeconds, &collector{src: src})
	return reg, func(d time.Duration) { appendSeconds.Observe(d.Seconds()) }
}

var (
	chLabels = []string{"channel", "name", "protocol"}
	stLabels = []string{"stream", "name"}

	connections   = prometheus.NewDesc("gnssgate_channel_connections", "Open connections (TCP) and live sessions (UDP).", chLabels, nil)
	connsTotal    = prometheus.NewDesc("gnssgate_channel_connections_total", "Connections accepted.", chLabels, nil)
	bytesIn       = prometheus.NewDesc("gnssgate_channel_received_bytes_total", "Bytes received from devices.", chLabels, nil)
	messagesIn    = prometheus.NewDesc("gnssgate_channel_messages_total", "Messages decoded.", chLabels, nil)
	messagesAcked = prometheus.NewDesc("gnssgate_channel_messages_acked_total", "Messages stored and acknowledged.", chLabels, nil)
	decodeErrors  = prometheus.NewDesc("gnssgate_channel_decode_errors_total", "Frames the codec rejected.", chLabels, nil)
	handlerErrors = prometheus.NewDesc("gnssgate_channel_store_errors_total", "Batches not stored (no ACK sent).", chLabels, nil)

	logRecords   = prometheus.NewDesc("gnssgate_log_records", "Messages kept in the log.", nil, nil)
	logBytes     = prometheus.NewDesc("gnssgate_log_bytes", "Encoded size of the messages kept in the log.", nil, nil)
	logAppended  = prometheus.NewDesc("gnssgate_log_appended_total", "Messages appended to the log by channels.", nil, nil)
	logDropped   = prometheus.NewDesc("gnssgate_log_dropped_total", "Messages removed by retention since start.", nil, nil)
	consumerLag  = prometheus.NewDesc("gnssgate_log_consumer_lag", "Log records a consumer has not committed yet.", []string{"consumer"}, nil)
	devices      = prometheus.NewDesc("gnssgate_devices", "Registered devices.", nil, nil)
	connected    = prometheus.NewDesc("gnssgate_devices_connected", "Devices with an identified connection.", nil, nil)
	devsCreated  = prometheus.NewDesc("gnssgate_devices_created_total", "Devices registered automatically.", nil, nil)
	streamCount  = prometheus.NewDesc("gnssgate_stream_messages_total", "Stream messages by outcome (read, skipped, accepted, rejected, dead_lettered, expired, dropped).", append(stLabels, "outcome"), nil)
	streamRetry  = prometheus.NewDesc("gnssgate_stream_retries_total", "Failed stream writes that were retried.", stLabels, nil)
	streamQueue  = prometheus.NewDesc("gnssgate_stream_queue", "Log records a stream has not examined yet.", stLabels, nil)
	streamLag    = prometheus.NewDesc("gnssgate_stream_lag_seconds", "Age of the oldest message a stream is delivering.", stLabels, nil)
	streamAckLat = prometheus.NewDesc("gnssgate_stream_ack_latency_seconds", "Latency of the stream's last accepted batch.", stLabels, nil)
	refusals     = prometheus.NewDesc("gnssgate_account_refusals_total", "Refused attempts to reach another account's objects, spaces or topics, by kind (rest_account, rest_object, mqtt_cid, mqtt_topic).", []string{"kind"}, nil)
)

type collector struct{ src Source }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{connections, connsTotal, bytesIn, messagesIn, messagesAcked, decodeErrors, handlerErrors,
		logRecords, logBytes, logAppended, logDropped, consumerLag, devices, connected, devsCreated,
		streamCount, streamRetry, streamQueue, streamLag, streamAckLat, refusals} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.src.Snapshot(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(logRecords, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	count := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	for _, x := range s.Channels {
		l := []string{strconv.FormatInt(x.ID, 10), x.Name, x.Protocol}
		gauge(connections, float64(x.Stats.Conns), l...)
		count(connsTotal, float64(x.Stats.ConnsTotal), l...)
		count(bytesIn, float64(x.Stats.BytesIn), l...)
		count(messagesIn, float64(x.Stats.MessagesIn), l...)
		count(messagesAcked, float64(x.Stats.MessagesAcked), l...)
		count(decodeErrors, float64(x.Stats.DecodeErrors), l...)
		count(handlerErrors, float64(x.Stats.HandlerErrors), l...)
	}
	gauge(logRecords, float64(s.Log.Count))
	gauge(logBytes, float64(s.Log.Bytes))
	count(logAppended, float64(s.Ingest.Appended))
	count(logDropped, float64(s.Log.Dropped))
	for _, cs := range s.Log.Consumers {
		gauge(consumerLag, float64(cs.Lag), cs.Name)
	}
	gauge(devices, float64(s.Devices))
	gauge(connected, float64(s.Connected))
	count(devsCreated, float64(s.Ingest.DevicesCreated))
	for _, x := range s.Streams {
		l := []string{strconv.FormatInt(x.ID, 10), x.Name}
		st := x.Stats
		for _, o := range []struct {
			name string
			v    int64
		}{{"read", st.Read}, {"skipped", st.Skipped}, {"accepted", st.Accepted}, {"rejected", st.Rejected},
			{"dead_lettered", st.DeadLettered}, {"expired", st.Expired}, {"dropped", st.Dropped}} {
			count(streamCount, float64(o.v), append(l, o.name)...)
		}
		count(streamRetry, float64(st.Retries), l...)
		gauge(streamQueue, float64(st.Queue), l...)
		gauge(streamLag, st.Lag.Seconds(), l...)
		gauge(streamAckLat, st.LastAckLatency.Seconds(), l...)
	}
	for kind, v := range s.Refusals {
		count(refusals, float64(v), kind)
	}
}
