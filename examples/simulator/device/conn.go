package device

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"
)

// Conn is one device on a TCP connection, for tests and small tools: the
// tracker's side of a session that sends a packet and waits for its reply,
// as a device does. (The fleet simulator drives thousands of these with
// its own loop; this is the simple, blocking form.) Not safe for
// concurrent use.
type Conn struct {
	Session
	net.Conn
	// Timeout bounds each exchange; 0 means 10 s.
	Timeout time.Duration
	buf     []byte
}

// Dial connects device ident of protocol to addr and logs in (waiting for
// the login's reply).
func Dial(ctx context.Context, protocol, ident, addr string, o Options) (*Conn, error) {
	s, err := New(protocol, ident, o)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Conn{Session: s, Conn: nc}
	var p Packet
	if s.Login(&p) {
		if err := c.Exchange(&p); err != nil {
			nc.Close()
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	return c, nil
}

// Exchange sends p and waits for its reply (none when p.Ack is empty).
func (c *Conn) Exchange(p *Packet) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(p.Bytes); err != nil {
		return err
	}
	if len(p.Ack) == 0 {
		return nil
	}
	for {
		adv, reply, err := c.SplitReply(c.buf, p.Ack)
		if err != nil {
			return err
		}
		if reply != nil {
			c.buf = c.buf[adv:]
			if !bytes.Equal(reply, p.Ack) {
				return fmt.Errorf("device: reply %x, want %x", reply, p.Ack)
			}
			return nil
		}
		chunk := make([]byte, 512)
		n, err := c.Read(chunk)
		if err != nil {
			return err
		}
		c.buf = append(c.buf, chunk[:n]...)
	}
}

// Send sends pts in one packet and waits for its reply.
func (c *Conn) Send(pts ...Point) error {
	var p Packet
	if err := c.Data(&p, pts, false); err != nil {
		return err
	}
	return c.Exchange(&p)
}
