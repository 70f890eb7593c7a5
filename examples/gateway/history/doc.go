// Package history keeps what the gateway's devices sent: a [stream.Sink]
// that writes each batch of the log to device history (store.Messages) and
// latest telemetry (store.Telemetry). It runs as a stream of the log like
// any other consumer, so it resumes after a restart where it stopped, and
// a store that is briefly failing is retried with backoff instead of
// losing messages.
package history
