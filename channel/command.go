package channel

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Call is one command on its way to a device: queued until the device is
// connected, sent through the session's [protocol.CommandEncoder], then
// answered, expired, canceled or failed. It is a future: wait on
// [Call.Done] or [Call.Wait].
type Call struct {
	Ident   string           // the device the command is for
	Command protocol.Command // with its ID filled in
	Expires time.Time        // the command's time to live ends here

	srv   *Server
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	timer *time.Timer
	conn  *Conn // the connection it was sent on, under mu
	sent  time.Time
	resp  protocol.CommandResponse
	err   error
}

func newCall(s *Server, ident string, cmd protocol.Command, expires time.Time) *Call {
	return &Call{Ident: ident, Command: cmd, Expires: expires, srv: s, done: make(chan struct{})}
}

// Done is closed when the call completes.
func (c *Call) Done() <-chan struct{} { return c.done }

// Wait blocks until the call completes or ctx ends, and returns the
// device's answer or why there is none: [ErrCommandExpired],
// [ErrConnClosed], [ErrQueueFull], [ErrServerClosed], [ErrCanceled],
// [protocol.ErrNoCommands], an encoding or write error. When ctx ends first
// it returns ctx.Err() and the call stays queued: use [Call.Cancel] to drop
// it.
func (c *Call) Wait(ctx context.Context) (protocol.CommandResponse, error) {
	select {
	case <-c.done:
		return c.resp, c.err
	case <-ctx.Done():
		return protocol.CommandResponse{}, ctx.Err()
	}
}

// Result returns the outcome of a completed call without waiting; before
// completion the error is [ErrPending].
func (c *Call) Result() (protocol.CommandResponse, error) {
	select {
	case <-c.done:
		return c.resp, c.err
	default:
		return protocol.CommandResponse{}, ErrPending
	}
}

// Sent returns when the command was written to the device, if it was.
func (c *Call) Sent() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, !c.sent.IsZero()
}

// Cancel drops the command if it has not completed yet; it then completes
// with [ErrCanceled]. A command already sent cannot be taken back: only
// its answer is ignored.
func (c *Call) Cancel() {
	c.finish(protocol.CommandResponse{}, ErrCanceled, c.forget)
}

func (c *Call) expire() {
	c.finish(protocol.CommandResponse{}, ErrCommandExpired, func() {
		c.forget()
		if c.srv != nil {
			c.srv.stats.commandsExpired.Add(1)
		}
	})
}

// complete sets the outcome once; it reports whether this call did it.
func (c *Call) complete(resp protocol.CommandResponse, err error) bool {
	return c.finish(resp, err, nil)
}

// finish sets the outcome once and, if it did, runs before (bookkeeping
// that a waiter must see done) before waking the waiters.
func (c *Call) finish(resp protocol.CommandResponse, err error, before func()) bool {
	first := false
	c.once.Do(func() {
		first = true
		c.mu.Lock()
		c.resp, c.err = resp, err
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
		if before != nil {
			before()
		}
		close(c.done)
	})
	return first
}

func (c *Call) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// forget removes a completed call from the queue or the pending list.
func (c *Call) forget() {
	if s := c.srv; s != nil {
		s.mu.Lock()
		if q := s.queues[c.Ident]; q != nil {
			if i := slices.Index(q, c); i >= 0 {
				q = slices.Delete(q, i, i+1)
				if len(q) == 0 {
					delete(s.queues, c.Ident)
				} else {
					s.queues[c.Ident] = q
				}
			}
		}
		s.mu.Unlock()
	}
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.cmu.Lock()
		if i := slices.Index(conn.pending, c); i >= 0 {
			conn.pending = slices.Delete(conn.pending, i, i+1)
		}
		conn.cmu.Unlock()
	}
}

func (s *Server) commandTTL() time.Duration {
	if s.CommandTTL > 0 {
		return s.CommandTTL
	}
	return DefaultCommandTTL
}

func (s *Server) commandID() uint32 {
	for {
		if id := s.nextCmdID.Add(1); id != 0 {
			return id
		}
	}
}

// Send queues cmd for the device with this ident and returns at once. The
// command is sent as soon as the device is connected and identified (at
// once if it is), through its session's [protocol.CommandEncoder]; the
// device's answer is matched to it by ID where the protocol carries one
// ([protocol.CommandResponse.HasID]) and otherwise first in, first out.
// A zero cmd.ID is replaced by a fresh one. ttl bounds the whole life of
// the command, queued and awaiting an answer; 0 means [Server.CommandTTL].
//
// A protocol whose devices do not answer commands leaves the call to
// expire after being sent: [Call.Sent] tells the two cases apart.
func (s *Server) Send(ident string, cmd protocol.Command, ttl time.Duration) *Call {
	if ttl <= 0 {
		ttl = s.commandTTL()
	}
	if cmd.ID == 0 {
		cmd.ID = s.commandID()
	}
	call := newCall(s, ident, cmd, time.Now().Add(ttl))
	max := s.MaxQueuedCommands
	if max <= 0 {
		max = DefaultMaxQueued
	}
	call.mu.Lock()
	call.timer = time.AfterFunc(ttl, call.expire)
	call.mu.Unlock()

	s.mu.Lock()
	s.initLocked()
	if s.shutdown.Load() {
		s.mu.Unlock()
		call.complete(protocol.CommandResponse{}, ErrServerClosed)
		return call
	}
	q := s.queues[ident]
	if len(q) >= max {
		s.mu.Unlock()
		call.complete(protocol.CommandResponse{}, ErrQueueFull)
		return call
	}
	s.queues[ident] = append(q, call)
	conn := s.byIdent[ident]
	s.mu.Unlock()
	s.stats.commandsQueued.Add(1)
	if conn != nil && conn.cmdReady.Load() {
		go s.flushQueue(conn)
	}
	return call
}

// flushQueue sends the commands queued for c's ident, in order.
func (s *Server) flushQueue(c *Conn) {
	ident := c.Ident()
	if ident == "" {
		return
	}
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	for {
		s.mu.Lock()
		q := s.queues[ident]
		if len(q) == 0 || s.byIdent[ident] != c {
			s.mu.Unlock()
			return
		}
		call := q[0]
		if len(q) == 1 {
			delete(s.queues, ident)
		} else {
			s.queues[ident] = q[1:]
		}
		s.mu.Unlock()
		if call.isDone() {
			continue
		}
		if err := c.sendCall(call); err != nil {
			if !c.closed.Load() {
				call.complete(protocol.CommandResponse{}, err) // the codec cannot encode it
				continue
			}
			// The connection broke: keep the command for the next one.
			s.mu.Lock()
			if !s.shutdown.Load() {
				s.queues[ident] = append([]*Call{call}, s.queues[ident]...)
			}
			s.mu.Unlock()
			return
		}
	}
}

// sendCall encodes and writes call on c and makes it await an answer.
func (c *Conn) sendCall(call *Call) error {
	if c.guard == nil || c.guard.sess == nil {
		return protocol.ErrNoCommands
	}
	c.wmu.Lock()
	buf, err := c.guard.encode(c.wbuf[:0], call.Command)
	if err != nil {
		c.wmu.Unlock()
		return err
	}
	call.mu.Lock()
	call.conn = c
	call.mu.Unlock()
	c.cmu.Lock()
	c.pending = append(c.pending, call)
	c.cmu.Unlock()
	err = c.writeLocked(buf)
	c.wbuf = buf[:0]
	c.wmu.Unlock()
	if err != nil {
		c.cmu.Lock()
		if i := slices.Index(c.pending, call); i >= 0 {
			c.pending = slices.Delete(c.pending, i, i+1)
		}
		c.cmu.Unlock()
		call.mu.Lock()
		call.conn = nil
		call.mu.Unlock()
		c.closed.Store(true) // a failed write leaves the stream in an unknown state
		c.Close()
		return err
	}
	call.mu.Lock()
	call.sent = time.Now()
	call.mu.Unlock()
	if c.srv != nil {
		c.srv.stats.commandsSent.Add(1)
	}
	return nil
}

// Send writes cmd to the device on this connection now and waits for its
// answer, until ctx ends. Commands for a device that may not be connected
// go through [Server.Send] instead.
func (c *Conn) Send(ctx context.Context, cmd protocol.Command) (protocol.CommandResponse, error) {
	if c.srv == nil || c.guard == nil {
		return protocol.CommandResponse{}, protocol.ErrNoCommands
	}
	if cmd.ID == 0 {
		cmd.ID = c.srv.commandID()
	}
	dl, _ := ctx.Deadline()
	call := newCall(nil, c.Ident(), cmd, dl)
	c.cmdMu.Lock()
	err := c.sendCall(call)
	c.cmdMu.Unlock()
	if err != nil {
		return protocol.CommandResponse{}, err
	}
	select {
	case <-call.done:
		return call.resp, call.err
	case <-ctx.Done():
		call.Cancel()
		return protocol.CommandResponse{}, ctx.Err()
	}
}

// answered matches the device's answers with the commands awaiting them.
func (c *Conn) answered(resps []protocol.CommandResponse) {
	for _, r := range resps {
		var call *Call
		c.cmu.Lock()
		i := -1
		if r.HasID {
			i = slices.IndexFunc(c.pending, func(p *Call) bool { return p.Command.ID == r.ID })
		} else if len(c.pending) > 0 {
			i = 0
		}
		if i >= 0 {
			call = c.pending[i]
			c.pending = slices.Delete(c.pending, i, i+1)
		}
		c.cmu.Unlock()
		if call == nil {
			if c.srv != nil {
				c.srv.stats.commandsUnmatched.Add(1)
				c.srv.logger().Info("channel: command answer matches no pending command", "peer", c.peer, "ident", c.Ident(), "id", r.ID, "has_id", r.HasID, "text", r.Text)
			}
			continue
		}
		r.Data = bytes.Clone(r.Data) // the Result's storage is reused
		call.finish(r, nil, func() {
			if c.srv != nil {
				c.srv.stats.commandsAnswered.Add(1)
			}
		})
	}
}

// failPending completes the commands awaiting an answer on c with err.
func (c *Conn) failPending(err error) {
	c.cmu.Lock()
	calls := c.pending
	c.pending = nil
	c.cmu.Unlock()
	for _, call := range calls {
		call.complete(protocol.CommandResponse{}, err)
	}
}
