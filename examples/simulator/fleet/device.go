package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

// maxStale bounds the replies a device remembers as possibly still coming
// for packets it already counted as acknowledged.
const maxStale = 16

// dev is one simulated device: its protocol session, its track, its
// connection and the packet it is delivering. Only its own goroutine
// touches it.
type dev struct {
	s     *sim
	n     int
	sess  device.Session
	track *device.Track
	rng   *rand.Rand
	timer *time.Timer

	nc        net.Conn
	stopWatch func() bool // ends the ctx watch of nc
	in        []byte      // received, not yet split into replies
	connected bool        // has logged in (or had an ACK over UDP) once
	dialed    bool        // has connected once: later connections are reconnects

	login   device.Packet
	pkt     device.Packet
	pts     []device.Point
	pending bool      // pkt is made and not acknowledged
	sends   int       // transmissions of pkt, all connections
	onConn  int       // transmissions of pkt on this connection
	first   time.Time // first transmission of pkt
	expect  [][]byte  // replies that acknowledge pkt on this connection
	stale   [][]byte  // replies that may still come for packets already acknowledged
	base    []byte    // d.in's storage when empty

	// closeConn, when set, closes the connection instead of nc: the event
	// loop's devices (loop_linux.go) have a socket, not a net.Conn.
	closeConn func()
}

// reply outcomes.
var (
	errTimeout    = errors.New("no reply within the ACK timeout")
	errUnexpected = errors.New("unexpected reply")
)

func (s *sim) runDevice(ctx context.Context, n int) {
	c := s.cfg
	ident := device.IMEI(c.IdentBase + uint64(n))
	sess, err := device.New(c.Protocol, ident, c.opts)
	if err != nil { // resolve checked the options with one ident; another cannot fail
		s.fail(n, "config", err)
		return
	}
	d, start := s.newDev(n, sess)
	d.timer = time.NewTimer(time.Hour)
	defer d.drop()
	if !d.sleepUntil(ctx, start) {
		return
	}
	next := start
	for {
		if !d.pending {
			if !next.Before(s.end) || !d.sleepUntil(ctx, next) {
				return
			}
			if err := d.make(next); err != nil {
				s.fail(n, "config", err)
				return
			}
			next = next.Add(c.period)
		}
		if !d.deliver(ctx) {
			return
		}
		// Packets that fell due while the device waited for this one's
		// ACK are not made: the device is late.
		for now := time.Now(); !next.After(now); next = next.Add(c.period) {
			s.late.Add(1)
		}
	}
}

// newDev returns device n and the time it starts.
func (s *sim) newDev(n int, sess device.Session) (*dev, time.Time) {
	c := s.cfg
	start := s.begin
	if c.Devices > 1 {
		start = start.Add(time.Duration(int64(c.Ramp) * int64(n) / int64(c.Devices)))
	}
	return &dev{
		s: s, n: n, sess: sess,
		// The track starts a packet period before the device so that its
		// first packet's records all lie on the track.
		track: device.NewTrack(c.Seed, n, c.Area, start.Add(-c.period)),
		rng:   rand.New(rand.NewPCG(c.Seed, uint64(n)^0x5eed)),
		pts:   make([]device.Point, c.Records),
		base:  make([]byte, 0, 128),
	}, start
}

// make fills the packet with Records points ending at t.
func (d *dev) make(t time.Time) error {
	c := d.s.cfg
	k := len(d.pts)
	for j := range d.pts {
		d.pts[j] = d.track.At(t.Add(-time.Duration(int64(c.period) * int64(k-1-j) / int64(k))))
	}
	if err := d.sess.Data(&d.pkt, d.pts, false); err != nil {
		return err
	}
	d.pending, d.sends, d.onConn = true, 0, 0
	d.expect = d.expect[:0]
	d.s.generated.Add(int64(k))
	d.s.packets.Add(1)
	return nil
}

// deliver sends the pending packet until it is acknowledged, resending on
// timeouts and reconnecting as a device does. It returns false when the
// device gives up: ctx ended, or the drain time is over.
func (d *dev) deliver(ctx context.Context) bool {
	s, c := d.s, d.s.cfg
	for {
		if ctx.Err() != nil || time.Now().After(s.giveUp) {
			return false
		}
		if d.nc == nil {
			if err := d.connect(ctx); err != nil {
				if !d.pause(ctx) {
					return false
				}
				continue
			}
		}
		if d.onConn == 0 && d.collides(d.pkt.Ack) {
			// A reply to an earlier packet may still come and would read
			// as this one's: start afresh on a new connection.
			d.drop()
			continue
		}
		if d.sends > 0 {
			// A resend: GT06 marks it re-uploaded with fresh serials,
			// Teltonika UDP gives it a new packet id.
			if err := d.sess.Data(&d.pkt, d.pts, true); err != nil {
				s.fail(d.n, "config", err)
				return false
			}
			s.resent.Add(1)
		}
		sentAt := time.Now()
		if err := d.write(d.pkt.Bytes); err != nil {
			s.fail(d.n, "write", err)
			if !d.pause(ctx) {
				return false
			}
			continue
		}
		d.sentPacket(sentAt)
		reply, err := d.await(ctx, d.ackBy(), d.pkt.Ack, d.isAck)
		switch {
		case err == nil:
			d.acknowledged(reply)
			return true
		case errors.Is(err, errTimeout):
			s.fail(d.n, "ack timeout", err)
			if d.onConn > c.Retries && !d.pause(ctx) { // resent enough on this connection: reconnect
				return false
			}
		default:
			if ctx.Err() != nil {
				return false
			}
			s.fail(d.n, kindOf(err), err)
			if !d.pause(ctx) {
				return false
			}
		}
	}
}

// isAck reports whether reply acknowledges the pending packet; a reply
// owed to an earlier packet is consumed and waited past.
func (d *dev) isAck(reply []byte) (ack, skip bool) {
	for _, e := range d.expect {
		if bytes.Equal(reply, e) {
			return true, false
		}
	}
	for i, e := range d.stale {
		if bytes.Equal(reply, e) {
			d.stale = append(d.stale[:i], d.stale[i+1:]...)
			return false, true
		}
	}
	return false, false
}

// acknowledged counts the pending packet and remembers the replies its
// other transmissions on this connection may still get.
func (d *dev) acknowledged(reply []byte) { d.acknowledgedAt(reply, time.Now()) }

// acknowledgedAt is acknowledged with the reply received at now.
func (d *dev) acknowledgedAt(reply []byte, now time.Time) {
	s, c := d.s, d.s.cfg
	lat := now.Sub(d.first)
	k := int64(len(d.pts))
	s.acked.Add(k)
	s.packetsAcked.Add(1)
	if !now.Before(s.rampEnd) && !now.After(s.end) {
		s.windowAcked.Add(k)
	}
	s.lat.Record(lat)
	if !d.connected {
		d.connected = true
		s.connected.Add(1)
	}
	d.settle(reply)
	if len(d.stale) > maxStale {
		d.drop()
	}
	d.pending = false
	if c.OnAck != nil {
		c.OnAck(Ack{Device: d.n, Ident: d.sess.Ident(), Points: d.pts, Sends: d.sends, Latency: lat})
	}
}

// settle is called when reply acknowledged what d.expect waited for: the
// replies to the other transmissions on this connection may still come,
// and are remembered as stale.
func (d *dev) settle(reply []byte) {
	matched := false
	for _, e := range d.expect {
		if !matched && bytes.Equal(e, reply) {
			matched = true
			continue
		}
		d.stale = append(d.stale, e)
	}
	d.expect = d.expect[:0]
}

func (d *dev) collides(ack []byte) bool {
	for _, e := range d.stale {
		if bytes.Equal(e, ack) {
			return true
		}
	}
	return false
}

// connect dials and logs in, resending the login on timeouts up to
// Retries times.
func (d *dev) connect(ctx context.Context) error {
	s, c := d.s, d.s.cfg
	dialer := net.Dialer{Timeout: c.AckTimeout}
	nc, err := dialer.DialContext(ctx, c.network, c.Addr)
	if err != nil {
		if ctx.Err() == nil {
			s.fail(d.n, "dial", err)
		}
		return err
	}
	if d.dialed {
		s.reconnects.Add(1)
	}
	d.dialed = true
	d.nc = nc
	d.stopWatch = context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	d.in, d.onConn, d.stale, d.expect = d.in[:0], 0, d.stale[:0], d.expect[:0]
	for try := 0; ; try++ {
		// A resent login gets fresh bytes where the protocol numbers
		// them (GT06's serial), so its reply tells which copy it answers.
		if !d.sess.Login(&d.login) {
			return nil
		}
		if err := d.write(d.login.Bytes); err != nil {
			s.fail(d.n, "write", err)
			return err
		}
		d.expect = append(d.expect, append([]byte(nil), d.login.Ack...))
		reply, err := d.await(ctx, d.ackBy(), d.login.Ack, d.isAck)
		switch {
		case err == nil:
			d.settle(reply)
			if !d.connected {
				d.connected = true
				s.connected.Add(1)
			}
			return nil
		case errors.Is(err, errTimeout):
			s.fail(d.n, "login timeout", err)
			if try < c.Retries {
				continue
			}
		case errors.Is(err, errUnexpected):
			s.fail(d.n, "login rejected", err)
		case ctx.Err() == nil:
			s.fail(d.n, "login "+kindOf(err), err)
		}
		return err
	}
}

func (d *dev) write(b []byte) error {
	d.nc.SetWriteDeadline(time.Now().Add(d.s.cfg.AckTimeout))
	_, err := d.nc.Write(b)
	return err
}

// await reads replies until match accepts one (returned, valid until the
// next read) or the deadline passes (errTimeout). A reply match neither
// accepts nor skips is errUnexpected. want is the reply awaited, which
// tells how long a Teltonika reply is.
func (d *dev) await(ctx context.Context, deadline time.Time, want []byte, match func([]byte) (ack, skip bool)) ([]byte, error) {
	udp := d.s.cfg.UDP
	for {
		for !udp && len(d.in) > 0 {
			n, r, err := d.sess.SplitReply(d.in, want)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errUnexpected, err)
			}
			if n == 0 {
				break
			}
			d.in = d.in[n:] // r stays intact until the next read
			ack, skip := match(r)
			if ack {
				return r, nil
			}
			if !skip {
				return nil, fmt.Errorf("%w % x (waiting for % x)", errUnexpected, r, want)
			}
		}
		if len(d.in) == 0 {
			d.in = d.base[:0]
		}
		if len(d.in) == cap(d.in) {
			d.in = append(d.in, 0)[:len(d.in)]
		}
		d.nc.SetReadDeadline(deadline)
		n, err := d.nc.Read(d.in[len(d.in):cap(d.in)])
		if udp && n > 0 {
			r := d.in[:n] // a datagram is one reply
			if ack, skip := match(r); ack {
				return r, nil
			} else if !skip {
				d.s.fail(d.n, "unexpected reply", fmt.Errorf("%w % x (waiting for % x)", errUnexpected, r, want))
			}
		} else {
			d.in = d.in[:len(d.in)+n]
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, errTimeout
			}
			return nil, err
		}
	}
}

// ackBy is when a reply to what was just sent is due: an ACK timeout on,
// but not past the end of the drain.
func (d *dev) ackBy() time.Time {
	t := time.Now().Add(d.s.cfg.AckTimeout)
	if d.s.giveUp.Before(t) {
		return d.s.giveUp
	}
	return t
}

// pause closes the connection and waits before the device reconnects;
// false when ctx ended first.
func (d *dev) pause(ctx context.Context) bool {
	d.drop()
	return d.sleepUntil(ctx, time.Now().Add(d.reconnectDelay()))
}

// drop closes the connection.
func (d *dev) drop() {
	if d.closeConn != nil {
		d.closeConn()
		d.in = d.in[:0]
		return
	}
	if d.nc == nil {
		return
	}
	d.stopWatch()
	d.nc.Close()
	d.nc = nil
	d.in = d.in[:0]
}

func (d *dev) reconnectDelay() time.Duration {
	base := d.s.cfg.ReconnectDelay
	return base/2 + time.Duration(d.rng.Int64N(int64(base)+1))
}

// sleepUntil waits for t; false when ctx ended first.
func (d *dev) sleepUntil(ctx context.Context, t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return ctx.Err() == nil
	}
	d.timer.Reset(wait)
	select {
	case <-d.timer.C:
		return true
	case <-ctx.Done():
		d.timer.Stop()
		return false
	}
}

// kindOf names an I/O error for the error counts.
func kindOf(err error) string {
	switch {
	case errors.Is(err, errUnexpected):
		return "unexpected reply"
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return "connection closed by the server"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return "connection lost"
	}
	return "error"
}

// sentPacket counts the packet just written at sentAt (both engines): its
// records as sent the first time, and its ACK as one a reply may match.
func (d *dev) sentPacket(sentAt time.Time) {
	if d.sends == 0 {
		d.first = sentAt
		d.s.sent.Add(int64(len(d.pts)))
	}
	d.sends++
	d.onConn++
	d.expect = append(d.expect, append([]byte(nil), d.pkt.Ack...))
}
