// Package wialonsink is the Wialon Retranslator [stream.Sink]: each message
// becomes one Retranslator 1.0 packet (protocol/wialonretranslator) sent
// over TCP, optionally TLS, to a Wialon server or anything that speaks the
// protocol, and is accepted when its 0x11 comes back — flespi's "Wialon
// Retranslator" stream.
//
//	sink, err := wialonsink.New(&wialonsink.Config{Addr: "wialon.example.com:20163"})
//	s, err := stream.New(log, sink, &stream.Config{Name: "wialon"})
//
// # Delivery
//
// The sink keeps one connection and writes a batch's packets in order,
// up to Config.Window packets ahead of their acknowledgements (the
// receiver answers each packet with one 0x11, in order, so the k-th 0x11
// accepts the k-th packet). A receiver that reads one packet at a time
// still works: the unread packets wait in its socket buffer. Window 1
// sends a packet only after the previous one's 0x11.
//
// When the connection fails mid-batch — closed, reset, an answer other
// than 0x11, no answer before the stream's write timeout or
// Config.AckTimeout — the connection is closed and Write returns a
// [*stream.BatchError]: the acknowledged messages are accepted and only
// the rest are retried, on a new connection, after the stream's backoff.
// A connection that the receiver closed while idle is noticed before a
// batch is written to it and replaced at once.
//
// # Message ids and duplicates
//
// The Retranslator protocol has no field for a message id, so the stable
// ids of [stream.Message.ID] do not reach the receiver. Duplicates happen
// as with every sink (a crash with a batch in flight, an acknowledgement
// lost with its connection); Wialon, and receivers in general, drop them
// by unit and time: a packet with the same controller id and time as one
// already stored is the same message.
//
// # Messages that cannot be sent
//
// A message without an ident or a time, or that cannot be a packet for
// another reason (see [wialonretranslator.Append]), is refused for good
// ([stream.Permanent], inside the BatchError): the stream's reject policy
// takes it and the others are delivered. The parameters are mapped to
// Wialon's blocks as the table in protocol/wialonretranslator says;
// Config.Convert of the stream chooses which ones are sent.
package wialonsink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gnssgate/gnssgate/protocol/wialonretranslator"
	"github.com/gnssgate/gnssgate/stream"
)

// Config configures a [Sink]. Addr is required; every other field's zero
// value is documented.
type Config struct {
	// Addr is the receiver's host:port.
	Addr string
	// TLS, when set, wraps the connection in TLS (a private CA or a client
	// certificate: internal/tlsconf builds one from files). nil is plain
	// TCP, as Wialon servers listen.
	TLS *tls.Config
	// Window is how many packets may wait for their 0x11 at once; 0 means
	// 64. 1 sends each packet after the previous one's answer.
	Window int
	// DialTimeout bounds connecting (and the TLS handshake); 0 means 10 s.
	// The stream's write timeout bounds it too.
	DialTimeout time.Duration
	// AckTimeout bounds the wait for each 0x11; 0 means only the stream's
	// write timeout does.
	AckTimeout time.Duration
	// Dial connects; nil means a net.Dialer. For tests and proxies.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Sink is the Wialon Retranslator sink. Its methods are safe for
// concurrent use (a stream calls Write from one goroutine).
type Sink struct {
	cfg    Config
	window int

	mu      sync.Mutex // one Write at a time: the connection is a sequence
	conn    net.Conn
	buf     []byte // encoded packets of the batch
	ends    []int  // where each message's packet ends in buf; -1 for none
	packets []int
	ack     []byte
}

// ErrBadAck is wrapped by the error of a Write whose receiver answered
// something other than 0x11.
var ErrBadAck = errors.New("wialonsink: receiver answered something other than 0x11")

// New returns a sink for cfg.
func New(cfg *Config) (*Sink, error) {
	if cfg.Addr == "" {
		return nil, errors.New("wialonsink: Config.Addr is required")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("wialonsink: Config.Addr: %w", err)
	}
	s := &Sink{cfg: *cfg, window: cfg.Window}
	if s.window <= 0 {
		s.window = 64
	}
	if s.cfg.DialTimeout <= 0 {
		s.cfg.DialTimeout = 10 * time.Second
	}
	s.ack = make([]byte, min(s.window, 4096))
	return s, nil
}

// Write implements [stream.Sink]: it sends each message of b as a packet
// and returns when every packet was acknowledged, or which were not.
func (s *Sink) Write(ctx context.Context, b *stream.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	// Encode first: a message that cannot be a packet is refused before
	// anything is sent.
	var be *stream.BatchError
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	pending := 0 // messages to send
	for i := range b.Messages {
		out, err := wialonretranslator.Append(s.buf, b.Messages[i].Message)
		if err != nil {
			if be == nil {
				be = stream.NewBatchError()
			}
			be.Failed(i, stream.Permanent(fmt.Errorf("wialonsink: message %s: %w", b.Messages[i].ID(), err)))
			s.ends = append(s.ends, -1)
			continue
		}
		s.buf = out
		s.ends = append(s.ends, len(out))
		pending++
	}
	if pending == 0 {
		return batchResult(be)
	}

	acked, err := s.send(ctx)
	if err == nil {
		return batchResult(be)
	}
	if acked == 0 && be == nil {
		return err // nothing got through: the whole batch is retried
	}
	if be == nil {
		be = stream.NewBatchError()
	}
	// The first acked packets were accepted; the rest failed with err.
	n := 0
	for i, end := range s.ends {
		if end < 0 {
			continue
		}
		if n >= acked {
			be.Failed(i, err)
		}
		n++
	}
	return be
}

func batchResult(be *stream.BatchError) error {
	if be == nil {
		return nil
	}
	return be
}

// send writes the encoded packets and reads their acknowledgements. It
// returns how many packets were acknowledged; on error the connection is
// closed.
func (s *Sink) send(ctx context.Context) (acked int, err error) {
	conn, err := s.connection(ctx)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			s.closeConn()
		}
	}()
	// The stream's deadline (or cancellation) ends blocked reads and
	// writes.
	if d, ok := ctx.Deadline(); ok {
		conn.SetWriteDeadline(d)
	} else {
		conn.SetWriteDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// buf holds the packets back to back; packets[i] is where the i-th
	// ends.
	packets := s.packets[:0]
	for _, end := range s.ends {
		if end >= 0 {
			packets = append(packets, end)
		}
	}
	s.packets = packets
	sent := 0
	from := 0 // buf offset of the first unsent byte
	for acked < len(packets) {
		// Fill the window with one write.
		if sent < len(packets) && sent-acked < s.window {
			upto := min(len(packets), acked+s.window)
			if _, err := conn.Write(s.buf[from:packets[upto-1]]); err != nil {
				return acked, s.ioError(ctx, "writing packets", err)
			}
			from = packets[upto-1]
			sent = upto
		}
		// Read what answers there are, at most one per packet in flight.
		if err := s.readDeadline(ctx, conn); err != nil {
			return acked, err
		}
		n, err := conn.Read(s.ack[:min(sent-acked, len(s.ack))])
		for _, c := range s.ack[:n] {
			if c != wialonretranslator.Ack {
				return acked, fmt.Errorf("%w: 0x%02x after %d acknowledged packets", ErrBadAck, c, acked)
			}
			acked++
		}
		if err != nil && acked < len(packets) {
			return acked, s.ioError(ctx, "reading acknowledgements", err)
		}
	}
	return acked, nil
}

// readDeadline sets the read deadline: the stream's, or AckTimeout from
// now when that is sooner.
func (s *Sink) readDeadline(ctx context.Context, conn net.Conn) error {
	d, ok := ctx.Deadline()
	if s.cfg.AckTimeout > 0 {
		if a := time.Now().Add(s.cfg.AckTimeout); !ok || a.Before(d) {
			d, ok = a, true
		}
	}
	if !ok {
		d = time.Time{}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return conn.SetReadDeadline(d)
}

// ioError describes a failed read or write; a deadline that the stream's
// context set reads as the context's error.
func (s *Sink) ioError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("wialonsink: %s: %w", op, ctx.Err())
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("wialonsink: %s: timed out: %w", op, err)
	}
	return fmt.Errorf("wialonsink: %s: %w", op, err)
}

// connection returns the open connection, or dials one. A connection
// that the receiver closed (or that has unexpected bytes waiting) is
// replaced first, so that an idle timeout on the receiver's side costs no
// failed batch.
func (s *Sink) connection(ctx context.Context) (net.Conn, error) {
	if s.conn != nil && !s.alive(s.conn) {
		s.closeConn()
	}
	if s.conn != nil {
		return s.conn, nil
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	dial := s.cfg.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(dctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("wialonsink: %w", err)
	}
	if s.cfg.TLS != nil {
		cfg := s.cfg.TLS
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(s.cfg.Addr)
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("wialonsink: TLS handshake: %w", err)
		}
		conn = tc
	}
	s.conn = conn
	return conn, nil
}

// peekState is what an idle connection's socket holds.
type peekState uint8

const (
	peekUnknown peekState = iota // cannot tell (not a socket, another OS)
	peekIdle                     // open, nothing to read
	peekClosed                   // the peer closed or reset it
	peekData                     // bytes nobody asked for
)

// alive reports whether an idle connection can still be used: the
// receiver has not closed it and sent nothing unasked (a receiver that
// did is out of step). Over TLS, bytes may be the server's session
// tickets or its close_notify: a short read through TLS tells them apart.
func (s *Sink) alive(conn net.Conn) bool {
	raw := conn
	tc, isTLS := conn.(*tls.Conn)
	if isTLS {
		raw = tc.NetConn()
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return true
	}
	switch peekConn(sc) {
	case peekClosed:
		return false
	case peekData:
		if !isTLS {
			return false
		}
		tc.SetReadDeadline(time.Now().Add(time.Millisecond))
		var b [1]byte
		n, err := tc.Read(b[:])
		return n == 0 && errors.Is(err, os.ErrDeadlineExceeded)
	}
	return true
}

func (s *Sink) closeConn() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// Close closes the connection.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeConn()
	return nil
}
