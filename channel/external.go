package channel

import (
	"context"
	"net"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// NewConn returns a Conn for a channel served outside this package — the
// device MQTT API (channel/deviceapi) serves its devices through a broker —
// so that its messages reach a [Handler] like those of every channel.
// network names the transport ("mqtt"), remote is the device's address
// (may be nil), ident the device's ident ("" until known). The Conn's
// context ends with ctx or when Close is called. Such a Conn cannot send
// commands ([Conn.Send] returns protocol.ErrNoCommands).
func NewConn(ctx context.Context, network string, remote net.Addr, ident string) *Conn {
	now := time.Now()
	c := &Conn{network: network, remote: remote, since: now}
	if remote != nil {
		c.peer = remote.String()
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.last.Store(now.UnixNano())
	if ident != "" {
		c.ident.Store(&ident)
	}
	return c
}

// Received counts a payload of n bytes decoded into msgs messages on a
// Conn made by NewConn, for its Info.
func (c *Conn) Received(n, msgs int) {
	c.bytesIn.Add(uint64(n))
	c.msgsIn.Add(uint64(msgs))
	c.last.Store(time.Now().UnixNano())
}

// Stamp applies the channel conventions to messages decoded outside this
// package, as every channel does before its Handler sees them:
// "server.timestamp" (now), "timestamp" (now, when the message has none),
// "ident" (when the message has none and ident is not ""), "channel.id"
// and "protocol.id" (when not 0) and "peer" (when not "").
func Stamp(msgs []protocol.Message, now time.Time, channelID, protocolID int64, peer, ident string) {
	stampMessages(msgs, float64(now.UnixMicro())/1e6, channelID, protocolID, peer, ident)
}
