package embedded

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// inputSize is the read buffer a connection borrows while bytes are
// waiting to be parsed.
const inputSize = 4 << 10

var inputPool = sync.Pool{New: func() any { b := make([]byte, inputSize); return &b }}

// input is a connection's buffered reader. An idle MQTT connection spends
// its life waiting for the next packet, and with a bufio.Reader it would
// hold a read buffer for all of that time. input takes one from a pool
// when a packet starts arriving and gives it back, through idle, when the
// packet has been read and nothing else is buffered. On a socket
// (syscall.Conn) it waits for readability through syscall.RawConn and takes
// the buffer once there is something to read: the same system calls as
// bufio (one read per burst, one EAGAIN before each wait). Other
// connections (TLS, WebSocket, net.Pipe) wait for a packet's first byte in
// a one-byte read and read the rest into the pooled buffer.
type input struct {
	nc    net.Conn
	raw   syscall.RawConn // nil: not a socket
	under syscall.RawConn // the socket under a TLS connection, for fillNoWait
	buf   *[]byte         // borrowed from inputPool from a packet's first byte until idle
	r, w  int

	// The state of one raw read, kept here so that readFn is built once.
	dst    []byte // nil: read into a pooled buffer
	n      int
	err    error
	readFn func(fd uintptr) bool
	// The byte-sized fields share a word (the struct then fits a smaller
	// allocation size class).
	noWait  bool // return at EAGAIN instead of waiting for readability
	blocked bool // noWait read found nothing
	one     [1]byte

	// lift, when set, is called when a read times out: true means the
	// deadline was not the connection's own (the wait before parking,
	// park.go) and has been lifted, and the read is tried again.
	lift func() bool
}

// errWouldBlock: fillNoWait found nothing to read.
var errWouldBlock = errors.New("embedded: nothing to read")

// aLongTimeAgo is a read deadline that has passed: a read with it returns
// what is buffered, or a timeout at once.
var aLongTimeAgo = time.Unix(1, 0)

// inputs holds the input state of connections that are parked (park.go):
// a parked connection has nothing buffered, so it gives its input back
// and takes one again when it wakes.
var inputs = sync.Pool{New: func() any { return new(input) }}

func newInput(nc net.Conn) *input {
	in := inputs.Get().(*input)
	in.nc = nc
	if raw := rawConn(nc); raw != nil {
		in.raw = raw
		if in.readFn == nil {
			in.readFn = in.readSyscall // bound to in: kept across reuses
		}
	} else if under := parkable(nc); under != nc {
		in.under = rawConn(under)
	}
	return in
}

// release gives an input whose connection is parked back to inputs; it
// must hold nothing (empty, after idle).
func (in *input) release() {
	in.idle()
	*in = input{readFn: in.readFn}
	inputs.Put(in)
}

// ReadByte implements io.ByteReader.
func (in *input) ReadByte() (byte, error) {
	if in.r == in.w {
		err := in.fill()
		if err != nil && in.lifted(err) {
			err = in.fill()
		}
		if err != nil {
			return 0, err
		}
	}
	b := (*in.buf)[in.r]
	in.r++
	return b, nil
}

// Read implements io.Reader.
func (in *input) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if in.r == in.w {
		if len(p) >= inputSize {
			// A large body: read straight into it, as bufio does.
			n, err := in.readDirect(p)
			if n == 0 && err != nil && in.lifted(err) {
				n, err = in.readDirect(p)
			}
			return n, err
		}
		err := in.fill()
		if err != nil && in.lifted(err) {
			err = in.fill()
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, (*in.buf)[in.r:in.w])
	in.r += n
	return n, nil
}

func (in *input) readDirect(p []byte) (int, error) {
	if in.raw == nil {
		return in.nc.Read(p)
	}
	return in.read(p)
}

// lifted reports whether err is a timeout of a deadline that lift has
// taken away.
func (in *input) lifted(err error) bool {
	return in.lift != nil && errors.Is(err, os.ErrDeadlineExceeded) && in.lift()
}

// fill reads at least one byte into the buffer, taking one from the pool
// if input holds none; in.r == in.w.
func (in *input) fill() error {
	in.r, in.w = 0, 0
	if in.raw != nil {
		n, err := in.read(nil)
		if n == 0 {
			return err
		}
		in.w = n
		return nil
	}
	if in.buf == nil {
		// Waiting for a packet: no buffer until its first byte is in.
		if _, err := io.ReadFull(in.nc, in.one[:]); err != nil {
			return err
		}
		in.buf = inputPool.Get().(*[]byte)
		(*in.buf)[0] = in.one[0]
		in.w = 1
		return nil
	}
	for {
		n, err := in.nc.Read(*in.buf)
		if n > 0 {
			in.w = n
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// empty reports whether everything read has been consumed.
func (in *input) empty() bool { return in.r == in.w }

// fillNoWait is fill without waiting: it reads what has arrived, taking a
// buffer only if something has, and returns errWouldBlock when nothing
// has; in.r == in.w. A connection that is not a raw socket (TLS) may hold
// bytes in its own layer: it is asked first, with a read deadline that has
// passed (a read then returns what the layer holds and does not touch the
// socket; TLS keeps a partial record across the timeout), and the deadline
// is put back to restore. If it holds nothing whole and its socket has
// bytes, fillNoWait reads through it, waiting for the rest of a record.
func (in *input) fillNoWait(restore time.Time) error {
	in.r, in.w = 0, 0
	if in.raw != nil {
		in.noWait = true
		n, err := in.read(nil)
		in.noWait = false
		if err != nil {
			return err
		}
		in.w = n
		return nil
	}
	in.nc.SetReadDeadline(aLongTimeAgo)
	n, err := in.nc.Read(in.one[:])
	in.nc.SetReadDeadline(restore)
	if n == 0 {
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if in.under == nil || socketReadable(in.under) {
			return in.fill()
		}
		return errWouldBlock
	}
	if in.buf == nil {
		in.buf = inputPool.Get().(*[]byte)
	}
	(*in.buf)[0] = in.one[0]
	in.w = 1
	return nil
}

// idle gives the buffer back to the pool if nothing is left in it. The
// connection calls it between packets, before waiting for the next one.
func (in *input) idle() {
	if in.r == in.w && in.buf != nil {
		in.r, in.w = 0, 0
		in.putBuf()
	}
}

// read waits until the socket is readable and reads into p or, when p is
// nil, into a buffer from inputPool that it leaves in in.buf. It returns
// n > 0 or an error (io.EOF at the end of the stream).
func (in *input) read(p []byte) (int, error) {
	in.dst, in.n, in.err, in.blocked = p, 0, nil, false
	if err := in.raw.Read(in.readFn); err != nil {
		return 0, err
	}
	in.dst = nil
	if in.err != nil {
		return 0, in.err
	}
	if in.blocked {
		return 0, errWouldBlock
	}
	if in.n == 0 {
		return 0, io.EOF
	}
	return in.n, nil
}

// readSyscall is the syscall.RawConn callback: it returns false, to wait
// for readability, when the socket has nothing yet. The pooled buffer is
// taken only for the attempt and given back before waiting.
func (in *input) readSyscall(fd uintptr) bool {
	dst, pooled := in.dst, false
	if dst == nil {
		if in.buf == nil {
			in.buf = inputPool.Get().(*[]byte)
			pooled = true
		}
		dst = *in.buf
	}
	for {
		n, err := sysRead(fd, dst)
		switch err {
		case nil:
			in.n = n
			if n == 0 && pooled {
				in.putBuf()
			}
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if pooled {
				in.putBuf()
			}
			in.blocked = in.noWait
			return in.noWait
		default:
			if pooled {
				in.putBuf()
			}
			in.err = &net.OpError{Op: "read", Net: in.nc.LocalAddr().Network(), Err: err}
			return true
		}
	}
}

func (in *input) putBuf() {
	inputPool.Put(in.buf)
	in.buf = nil
}
