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
	framesIn      = prometheus.NewDesc("gnssgate_channel_frames_total", "Frames (TCP) and datagrams (UDP) decoded.", chLabels, nil)
	messagesIn    = prometheus.NewDesc("gnssgate_channel_messages_total", "Messages decoded.", chLabels, nil)
	messagesAcked = prometheus.NewDesc("gnssgate_channel_messages_acked_total", "Messages stored and acknowledged.", chLabels, nil)
	decodeErrors  = prometheus.NewDesc("gnssgate_channel_decode_errors_total", "Frames the codec rejected.", chLabels, nil)
	handlerErrors = prometheus.NewDesc("gnssgate_channel_store_errors_total", "Batches not stored (no ACK sent).", chLabels, nil)

	logRecords   = prometheus.NewDesc("gnssgate_log_records", "Messages kept in the log.", nil, nil)
	logBytes     = prometheus.NewDesc("gnssgate_log_bytes", "Encoded size of the messages kept in the log.", nil, nil)
	logAppended  = prometheus.NewDesc("gnssgate_log_appended_total", "Messages appended to the log by channels.", nil, nil)
	logDropped   = prometheus.NewDesc("gnssgate_log_dropped_total", "Messages removed by retention since start.", nil, nil)
	consumerLag  = prometheus.NewDesc("gnssgate_log_consumer_lag", "Log records a consumer has not committed yet.", []string{"consumer"}, nil)
	conns        = prometheus.NewDesc("gnssgate_connections", "Connections open on the node's listeners (trackers, MQTT and HTTP clients).", nil, nil)
	connsMax     = prometheus.NewDesc("gnssgate_connections_max", "The bound on open connections, from the open-file limit less the store's files.", nil, nil)
	connsRefused = prometheus.NewDesc("gnssgate_connections_rejected_total", "Connections closed on accept because the bound was reached.", nil, nil)
	devices      = prometheus.NewDesc("gnssgate_devices", "Registered devices.", nil, nil)
	connected    = prometheus.NewDesc("gnssgate_devices_connected", "Devices with an identified connection.", nil, nil)
	devsCreated  = prometheus.NewDesc("gnssgate_devices_created_total", "Devices registered automatically.", nil, nil)
	streamCount  = prometheus.NewDesc("gnssgate_stream_messages_total", "Stream messages by outcome (read, skipped, accepted, rejected, dead_lettered, expired, dropped).", append(stLabels, "outcome"), nil)
	streamRetry  = prometheus.NewDesc("gnssgate_stream_retries_total", "Failed stream writes that were retried.", stLabels, nil)
	streamQueue  = prometheus.NewDesc("gnssgate_stream_queue", "Log records a stream has not examined yet.", stLabels, nil)
	streamLag    = prometheus.NewDesc("gnssgate_stream_lag_seconds", "Age of the oldest message a stream is delivering.", stLabels, nil)
	streamAckLat = prometheus.NewDesc("gnssgate_stream_ack_latency_seconds", "Latency of the stream's last accepted batch.", stLabels, nil)
	engLabels    = []string{"instance"}
	engDisk      = prometheus.NewDesc("gnssgate_store_engine_disk_bytes", "Disk taken by each of the store's Pebble instances (log, state, telemetry).", engLabels, nil)
	engFlushes   = prometheus.NewDesc("gnssgate_store_engine_flushes_total", "Memtable flushes of each Pebble instance since start.", engLabels, nil)
	engCompacts  = prometheus.NewDesc("gnssgate_store_engine_compactions_total", "Compactions of each Pebble instance since start.", engLabels, nil)
	engWAL       = prometheus.NewDesc("gnssgate_store_engine_wal_bytes_total", "Bytes written to each Pebble instance's write-ahead log.", engLabels, nil)
	engFlushed   = prometheus.NewDesc("gnssgate_store_engine_flushed_bytes_total", "Bytes flushes wrote, per Pebble instance.", engLabels, nil)
	engCompacted = prometheus.NewDesc("gnssgate_store_engine_compacted_bytes_total", "Bytes compactions wrote, per Pebble instance.", engLabels, nil)
	engCompRead  = prometheus.NewDesc("gnssgate_store_engine_compaction_read_bytes_total", "Bytes compactions read, per Pebble instance.", engLabels, nil)
	refusals     = prometheus.NewDesc("gnssgate_account_refusals_total", "Refused attempts to reach another account's objects, spaces or topics, and probes of one that saw nothing, by kind (rest_account, rest_object, mqtt_cid, mqtt_topic, mqtt_probe).", []string{"kind"}, nil)

	brokerClients    = prometheus.NewDesc("gnssgate_broker_clients_connected", "MQTT clients connected to the embedded broker.", nil, nil)
	brokerSessions   = prometheus.NewDesc("gnssgate_broker_sessions", "MQTT sessions held by the broker, connected or kept for offline clients.", nil, nil)
	brokerSubs       = prometheus.NewDesc("gnssgate_broker_subscriptions", "Subscriptions of all broker sessions.", nil, nil)
	brokerRetained   = prometheus.NewDesc("gnssgate_broker_retained_messages", "Retained messages kept by the broker.", nil, nil)
	brokerRetBytes   = prometheus.NewDesc("gnssgate_broker_retained_bytes", "Topic and payload bytes of the retained messages.", nil, nil)
	brokerQueued     = prometheus.NewDesc("gnssgate_broker_queued_bytes", "Bytes of messages waiting for broker sessions.", nil, nil)
	brokerReceived   = prometheus.NewDesc("gnssgate_broker_messages_received_total", "PUBLISHes the broker took in (network and in-process).", nil, nil)
	brokerSent       = prometheus.NewDesc("gnssgate_broker_messages_sent_total", "PUBLISHes the broker delivered (network and in-process).", nil, nil)
	brokerDropped    = prometheus.NewDesc("gnssgate_broker_messages_dropped_total", "Deliveries dropped because a session's queue was full (a subscriber reading slower than its messages arrive).", nil, nil)
	brokerOverBudget = prometheus.NewDesc("gnssgate_broker_filter_over_budget_total", "Messages a $filter subscription did not get: its predicate ran out of steps.", nil, nil)
)

type collector struct{ src Source }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{connections, connsTotal, bytesIn, framesIn, messagesIn, messagesAcked, decodeErrors, handlerErrors,
		logRecords, logBytes, logAppended, logDropped, consumerLag, conns, connsMax, connsRefused, devices, connected, devsCreated,
		streamCount, streamRetry, streamQueue, streamLag, streamAckLat,
		brokerClients, brokerSessions, brokerSubs, brokerRetained, brokerRetBytes, brokerQueued, brokerReceived, brokerSent, brokerDropped, brokerOverBudget, refusals,
		engDisk, engFlushes, engCompacts, engWAL, engFlushed, engCompacted, engCompRead} {
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
		count(framesIn, float64(x.Stats.FramesIn), l...)
		count(messagesIn, float64(x.Stats.MessagesIn), l...)
		count(messagesAcked, float64(x.Stats.MessagesAcked), l...)
		count(decodeErrors, float64(x.Stats.DecodeErrors), l...)
		count(handlerErrors, float64(x.Stats.HandlerErrors), l...)
	}
	if s.MaxConnections > 0 {
		gauge(conns, float64(s.Connections))
		gauge(connsMax, float64(s.MaxConnections))
		count(connsRefused, float64(s.ConnectionsRejected))
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
	for _, e := range s.Engines {
		gauge(engDisk, float64(e.DiskBytes), e.Name)
		count(engFlushes, float64(e.Flushes), e.Name)
		count(engCompacts, float64(e.Compactions), e.Name)
		count(engWAL, float64(e.WALBytes), e.Name)
		count(engFlushed, float64(e.FlushedBytes), e.Name)
		count(engCompacted, float64(e.CompactedBytes), e.Name)
		count(engCompRead, float64(e.CompactionReadBytes), e.Name)
	}
	for kind, v := range s.Refusals {
		count(refusals, float64(v), kind)
	}
	if b := s.Broker; b != nil {
		gauge(brokerClients, float64(b.ClientsConnected))
		gauge(brokerSessions, float64(b.Sessions))
		gauge(brokerSubs, float64(b.Subscriptions))
		gauge(brokerRetained, float64(b.Retained))
		gauge(brokerRetBytes, float64(b.RetainedBytes))
		gauge(brokerQueued, float64(b.QueuedBytes))
		count(brokerReceived, float64(b.MessagesReceived))
		count(brokerSent, float64(b.MessagesSent))
		count(brokerDropped, float64(b.MessagesDropped))
		count(brokerOverBudget, float64(b.FilterOverBudget))
	}
}
