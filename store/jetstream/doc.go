// Package jetstream is the distributed [store.Store], on NATS JetStream.
package jetstream
