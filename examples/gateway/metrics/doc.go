// Package metrics exports a gateway node's state to Prometheus
// (github.com/prometheus/client_golang): connections, frames, messages and
// decode errors per channel, the time to durability that trackers wait
// for, the log's size, stream counters and lag, device counts, the node's
// bound on open connections, and the embedded MQTT broker's clients,
// sessions, subscriptions, retained and queued messages and messages in
// and out (embedded.Server.Stats, the figures of its "$SYS/broker/…"
// topics). Values are read from the node at each scrape: there is no
// second copy of state.
package metrics
