// Package ingest is the gateway's channel handler: the step between a
// channel that decoded messages and the durable log. It finds the
// registered device of each message's ident (registering one on a
// channel that auto-creates devices), stamps flespi's "device.id" and
// "device.name", and appends the batch to the log; the channel
// acknowledges the tracker only when that append is durable.
package ingest
