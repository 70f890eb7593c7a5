// Package channel accepts devices: a [Server] for TCP and UDP trackers of
// any [protocol.Codec], shaped like net/http's Server.
package channel
