package paho

import (
	"io"
	"net"
)

// paho writes a packet as net.Buffers under the connection's lock: for a
// PUBLISH the fixed header, the variable header, the properties and the
// payload. On a bare *net.TCPConn that is one writev, but a wrapped
// connection (ours, or packets.NewThreadSafeConn) takes one Write per
// piece: four syscalls and, with TCP_NODELAY, up to four segments per
// PUBLISH, four TLS records over TLS, four WebSocket messages over
// WebSocket. packetWriter gathers the pieces of one packet and writes it
// in one call, which made a QoS 1 publish through the adapter cost about
// as much CPU as one through a plain paho client (BENCHMARKS.md).

// gatherMax bounds the bytes gathered before a large piece is written
// through: the payload is the last piece and is never copied when it is
// large; a packet whose earlier pieces are large is written in more calls.
const gatherMax = 16 << 10

// packetWriter writes MQTT packets given in pieces to w, one call per
// packet. Its caller serialises Write (paho holds the connection's lock
// for the whole packet). The error of a failed write is returned by the
// Write that completed (or flushed) the packet, which is the last Write
// paho makes for it; earlier pieces report success.
type packetWriter struct {
	w      io.Writer
	buf    []byte // bytes of the current packet not yet written
	header int    // bytes of the current packet's fixed header seen so far
	length int    // remaining length, decoded so far
	left   int    // bytes of the current packet not yet given, once its header is complete
	raw    bool   // a malformed header: pass everything through
}

// Write implements io.Writer.
func (pw *packetWriter) Write(p []byte) (int, error) {
	if pw.raw {
		return pw.w.Write(p)
	}
	given := 0
	for len(p) > 0 {
		if pw.header == 0 || pw.left < 0 {
			// In the fixed header: a type byte, then 1 to 4 length bytes.
			c := p[0]
			p, given = p[1:], given+1
			pw.buf = append(pw.buf, c)
			pw.header++
			if pw.header == 1 {
				pw.length, pw.left = 0, -1
				continue
			}
			pw.length |= int(c&0x7F) << (7 * (pw.header - 2))
			switch {
			case c < 0x80:
				pw.left = pw.length
			case pw.header == 5:
				// Not MQTT: stop gathering rather than guess.
				pw.raw = true
				buf := pw.buf
				pw.buf = pw.buf[:0]
				if _, err := pw.w.Write(buf); err != nil {
					return given, err
				}
				n, err := pw.w.Write(p)
				return given + n, err
			default:
				continue
			}
			if pw.left == 0 { // PINGREQ, DISCONNECT without a body
				if err := pw.flush(nil); err != nil {
					return given, err
				}
			}
			continue
		}
		k := min(len(p), pw.left)
		piece := p[:k]
		p, given, pw.left = p[k:], given+k, pw.left-k
		switch {
		case pw.left == 0:
			if err := pw.flush(piece); err != nil {
				return given, err
			}
		case len(pw.buf)+k > gatherMax:
			err := pw.write(piece)
			pw.buf = pw.buf[:0]
			if err != nil {
				return given, err
			}
		default:
			pw.buf = append(pw.buf, piece...)
		}
	}
	return given, nil
}

// flush writes the gathered bytes and last, the end of the packet, and
// starts the next packet.
func (pw *packetWriter) flush(last []byte) error {
	err := pw.write(last)
	pw.header = 0
	if cap(pw.buf) > gatherMax {
		pw.buf = nil // do not keep a large buffer for small packets
	} else {
		pw.buf = pw.buf[:0]
	}
	return err
}

// write writes pw.buf followed by last: in one Write when last is small
// (copied behind buf), else as net.Buffers, which is one writev on a TCP
// connection.
func (pw *packetWriter) write(last []byte) error {
	switch {
	case len(pw.buf) == 0:
		if len(last) == 0 {
			return nil
		}
		_, err := pw.w.Write(last)
		return err
	case len(last) <= gatherMax/4:
		pw.buf = append(pw.buf, last...)
		_, err := pw.w.Write(pw.buf)
		return err
	}
	bufs := net.Buffers{pw.buf, last}
	_, err := bufs.WriteTo(pw.w)
	return err
}
