// Package node runs one gateway: the wiring of every other part of
// examples/gateway, so that a Go program can embed the whole gateway (the
// gateway binary is this package plus flags and a banner):
//
//	n, err := node.New(ctx, node.Config{DataDir: "./data", HTTP: node.Listen{Addr: ":8080"}, …})
//	…
//	err = n.Run(ctx) // until ctx ends: then a graceful shutdown
//
// New opens the parts from the bottom up: the store (store/pebble in
// DataDir, store/memory without one, or a Cluster's shared store), the
// registry, the broker (embedded, or an external one through
// broker/paho), the ingest handler, the REST API and the platform
// publishers. Run starts the flow a reader of the library follows:
//
//	channels ──(ingest: device lookup, accounts, limits)──▶ log (durable, then ACK)
//	log ──▶ history + telemetry   (stream "history")
//	log ──▶ platform message topics (stream "platform")
//	log ──▶ the operator's streams  (one stream.Stream each)
//
// each consumer a stream.Stream with its own durable cursor, and serves
// the REST API, the HTTP channels, the embedded MQTT broker (with the
// device MQTT API; the REST API's /mqtt calls administer it, each account
// in its namespace, see mqttapi.go) and the tracker channels of the
// registry. Listeners
// share a bound on open connections (Config.MaxConnections) so that
// sockets never take the files the store must open.
//
// With its own embedded broker and no Cluster, the node registers a
// platform.TelemetrySource: the broker serves device telemetry's retained
// topics from the telemetry store when someone subscribes, and the node
// publishes only the telemetry changes and message topics some
// subscription matches. With an external broker, or clustered (changes are
// seen by the history writer's node only), every change is published and
// the retained telemetry is republished at start or when a node takes
// the history lease.
//
// With a Cluster, several nodes act as one: they share the store, the
// registry and dead letters in NATS JetStream, and singleton jobs (the
// history writer, the platform publisher, each stream, the live-state
// publisher) run on one node at a time under fenced leases;
// docs/scaling.md describes it.
package node
