package wsstream

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// ErrProtocol matches every *FrameError: the peer broke RFC 6455 and the
// connection is over (a close frame with the FrameError's code has been
// sent).
var ErrProtocol = errors.New("wsstream: WebSocket protocol error")

// ErrCloseSent is Write's error once a close frame has been sent: nothing
// may follow it (RFC 6455 §5.5.1).
var ErrCloseSent = errors.New("wsstream: close frame sent")

// ServerConfig configures a ServerConn; the zero value works.
type ServerConfig struct {
	// MaxMessage bounds the payload of one message (all its fragments);
	// a longer one is refused with close status 1009. 0 means no bound:
	// a ServerConn streams payload and never holds a message, so memory
	// does not depend on it.
	MaxMessage int64
	// BinaryOnly refuses text messages: Read returns ErrTextFrame, and the
	// caller decides how to close (MQTT 5.0 §6: a protocol error).
	BinaryOnly bool
	// Subprotocols are the ones Accept's handshake agrees to, in no
	// order: the client's first that is listed here is chosen. Nil: none
	// (the response names no subprotocol).
	Subprotocols []string
}

// rawSize is the read buffer a ServerConn borrows while bytes wait to be
// decoded; it holds at least one whole control frame with its header.
const rawSize = 4 << 10

var rawPool = sync.Pool{New: func() any { b := make([]byte, rawSize); return &b }}

// controlWait bounds the write of a pong or close frame from Read when no
// write deadline is set or the one set has passed.
const controlWait = 5 * time.Second

// ServerConn is the server end of a WebSocket whose handshake is done,
// read with a frame reader of our own rather than gorilla/websocket's: an
// idle ServerConn holds no buffer (a read buffer is borrowed from a pool
// while bytes are waiting to be decoded), nothing outside the socket is
// hidden from a caller that asks with a read deadline in the past (Read
// then returns what it holds or the timeout), and NetConn gives the
// socket, so an idle connection can be parked in a poller (the embedded
// broker's internal/idlepoll) with no goroutine.
//
// Read decodes client frames (RFC 6455 §5): they must be masked; binary
// (and, without BinaryOnly, text) payload is returned as one byte stream
// across frames and messages; a ping is answered with a pong, a close
// frame with a close frame echoing its status, after which Read returns
// io.EOF. A violation sends a close frame with the matching status and
// Read returns a *FrameError (errors.Is ErrProtocol) from then on. Each
// Write is one binary message. Read is for one goroutine; Write may be
// called concurrently with Read (pongs are serialised with it).
type ServerConn struct {
	nc  net.Conn
	fr  frameReader
	raw *[]byte // borrowed from rawPool while it holds undecoded bytes
	r   int
	w   int
	err error // sticky read error (a violation, the peer's close)
	// sock reads a socket without a buffer while waiting (isSock); other
	// connections are read through one byte first.
	sock   socketReader
	isSock bool
	one    [1]byte

	pending   bool     // Accept: the opening handshake is still to be read
	protocols []string // Accept: the subprotocols the handshake may choose

	wm        sync.Mutex
	wdeadline time.Time // the caller's write deadline
	closeSent bool
}

// NewServerConn returns the WebSocket whose handshake has been answered on
// nc (gorilla's Upgrader, then NetConn) as a byte stream. nc must hold
// nothing the handshake's reader has buffered past the request.
func NewServerConn(nc net.Conn, cfg *ServerConfig) *ServerConn {
	c := &ServerConn{nc: nc}
	c.isSock = c.sock.init(c)
	if cfg != nil {
		c.fr.max, c.fr.binaryOnly = cfg.MaxMessage, cfg.BinaryOnly
	}
	return c
}

// NetConn returns the connection the WebSocket runs on.
func (c *ServerConn) NetConn() net.Conn { return c.nc }

// Read implements io.Reader across frames and messages. It returns as soon
// as it has decoded some payload, and waits for the socket only when it
// holds none.
func (c *ServerConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.pending {
		if err := c.handshake(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := 0
	for {
		if c.raw != nil && c.r < c.w {
			used, m, ctl, err := c.fr.next((*c.raw)[c.r:c.w], p[n:])
			c.r += used
			n += m
			if err != nil {
				return c.fail(n, err)
			}
			if ctl != nil {
				if err := c.control(ctl); err != nil {
					return c.fail(n, err)
				}
				continue
			}
		}
		c.releaseIfEmpty()
		if n > 0 {
			return n, nil
		}
		if c.raw == nil && c.fr.inFrame && c.fr.remaining >= int64(len(p)) && len(p) >= 512 {
			// A large payload: read it straight into p, as bufio does.
			m, err := c.nc.Read(p)
			c.fr.keyPos = mask(c.fr.key, c.fr.keyPos, p[:m])
			c.fr.remaining -= int64(m)
			if m > 0 {
				return m, nil
			}
			return 0, c.readErr(err)
		}
		if c.raw != nil && c.r > 0 && len(*c.raw)-c.w < maxHeader+maxControl {
			// Keep room for a whole control frame with its header.
			c.w = copy(*c.raw, (*c.raw)[c.r:c.w])
			c.r = 0
		}
		if m, err := c.fill(); m == 0 && err != nil {
			return 0, c.readErr(err)
		}
	}
}

// fill reads more input into the buffer, waiting for it without holding
// a buffer: on a socket, until it is readable (socketReader); on anything
// else (TLS), in a one-byte read, which TLS serves from the record it
// decrypts into its own buffer.
func (c *ServerConn) fill() (int, error) {
	if c.isSock {
		return c.sock.fill()
	}
	if c.raw == nil {
		m, err := c.nc.Read(c.one[:])
		if m == 0 {
			return 0, err
		}
		c.raw = rawPool.Get().(*[]byte)
		(*c.raw)[0] = c.one[0]
		c.r, c.w = 0, 1
		return 1, nil
	}
	m, err := c.nc.Read((*c.raw)[c.w:])
	c.w += m
	return m, err
}

// readErr is err from the socket. A timeout (a read deadline) passes
// through as it is, keeping what is buffered for the next read; any other
// error ends reading, and the end of the stream inside a frame is
// io.ErrUnexpectedEOF.
func (c *ServerConn) readErr(err error) error {
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.releaseIfEmpty()
		return err
	}
	if err == io.EOF && (c.fr.inMessage || c.r < c.w) {
		err = io.ErrUnexpectedEOF
	}
	c.err = err
	c.r, c.w = 0, 0
	c.releaseIfEmpty()
	return err
}

// fail ends reading at a violation or the peer's close: the error sticks,
// and the payload decoded before it is returned first.
func (c *ServerConn) fail(n int, err error) (int, error) {
	c.err = err
	var fe *FrameError
	if errors.As(err, &fe) {
		c.writeClose(fe.Code)
	}
	c.r, c.w = 0, 0
	c.releaseIfEmpty()
	if n > 0 {
		return n, nil
	}
	return 0, err
}

func (c *ServerConn) releaseIfEmpty() {
	if c.raw != nil && c.r == c.w {
		rawPool.Put(c.raw)
		c.raw = nil
	}
}

// control handles a control frame; io.EOF after the peer's close.
func (c *ServerConn) control(ctl *control) error {
	switch ctl.op {
	case opPing:
		c.writeControl(opPong, ctl.payload)
		return nil
	case opPong:
		return nil // unsolicited pongs are allowed and ignored
	}
	code, err := closeReply(ctl.payload)
	if err != nil {
		return err
	}
	var b [2]byte
	if code == 0 {
		c.writeControl(opClose, nil)
	} else {
		b[0], b[1] = byte(code>>8), byte(code)
		c.writeControl(opClose, b[:])
	}
	return io.EOF
}

func (c *ServerConn) writeClose(code uint16) {
	c.writeControl(opClose, []byte{byte(code >> 8), byte(code)})
}

// writeControl sends a control frame from Read. Its write deadline is the
// caller's if one is set and still ahead, else controlWait from now, so
// that a client that does not read cannot hold Read forever; the caller's
// is put back.
func (c *ServerConn) writeControl(op byte, payload []byte) {
	c.wm.Lock()
	defer c.wm.Unlock()
	if c.closeSent {
		return
	}
	if op == opClose {
		c.closeSent = true
	}
	var frame [2 + maxControl]byte
	b := append(appendHeader(frame[:0], op, len(payload)), payload...)
	now := time.Now()
	if c.wdeadline.IsZero() || !c.wdeadline.After(now) {
		c.nc.SetWriteDeadline(now.Add(controlWait))
		defer c.nc.SetWriteDeadline(c.wdeadline)
	}
	c.nc.Write(b)
}

// Write sends p as one binary message.
func (c *ServerConn) Write(p []byte) (int, error) {
	c.wm.Lock()
	defer c.wm.Unlock()
	if c.closeSent {
		return 0, ErrCloseSent
	}

	var err error
	if len(p) <= rawSize-maxHeader {
		// One write of header and payload: one TCP segment, one TLS record.
		bp := rawPool.Get().(*[]byte)
		b := append(appendHeader((*bp)[:0], opBinary, len(p)), p...)
		_, err = c.nc.Write(b)
		rawPool.Put(bp)
	} else {
		var h [maxHeader]byte
		bufs := net.Buffers{appendHeader(h[:0], opBinary, len(p)), p}
		_, err = bufs.WriteTo(c.nc)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite starts the close handshake: it sends a close frame (status
// 1000) and half-closes the connection under it if that can (TCP). The
// peer answers with its own close frame, which Read reports as io.EOF, and
// closes: a server that has said its last word (an MQTT DISCONNECT) learns
// at once that the client has read it.
func (c *ServerConn) CloseWrite() error {
	c.writeClose(CloseNormal)
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection without a close frame, as gorilla/websocket's
// Close does: the MQTT layer has said what it had to.
func (c *ServerConn) Close() error                      { return c.nc.Close() }
func (c *ServerConn) LocalAddr() net.Addr               { return c.nc.LocalAddr() }
func (c *ServerConn) RemoteAddr() net.Addr              { return c.nc.RemoteAddr() }
func (c *ServerConn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of Write (and of pongs sent while it
// is ahead).
func (c *ServerConn) SetWriteDeadline(t time.Time) error {
	c.wm.Lock()
	defer c.wm.Unlock()
	c.wdeadline = t
	return c.nc.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines.
func (c *ServerConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}
