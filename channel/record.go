package channel

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// A Recorder stores connections' raw traffic. The server calls Record once
// per connection: as soon as the device has identified itself, or, for a
// device that never does, when the connection closes or 64 KiB have come
// in (then c.Ident() is ""). The bytes that came before are kept in memory
// until then, so a recording always starts with the login frame.
//
// The server writes the returned writer in the protocol/traffic format
// (one line per read or datagram, '>' from the device, '<' to it, with
// times) and closes it when the connection ends. Returning nil, nil skips
// the connection. Record is called from connection goroutines, concurrently.
type Recorder interface {
	Record(c *Conn) (io.WriteCloser, error)
}

// RecorderFunc adapts a function to a [Recorder].
type RecorderFunc func(c *Conn) (io.WriteCloser, error)

// Record calls f.
func (f RecorderFunc) Record(c *Conn) (io.WriteCloser, error) { return f(c) }

// DirRecorder records each connection in its own file, grouped per ident:
//
//	Dir/<ident>/<connected-at UTC>_<conn id>.hex
//	Dir/_unidentified/<connected-at UTC>_<conn id>.hex
//
// One file is one session: it replays on its own through
// protocol/protocoltest or the decode tool.
type DirRecorder struct {
	Dir string
	// Idents, when not empty, limits recording to these devices (and leaves
	// out connections that never identify).
	Idents []string
}

// Record implements [Recorder].
func (d *DirRecorder) Record(c *Conn) (io.WriteCloser, error) {
	ident := c.Ident()
	if len(d.Idents) > 0 && !slices.Contains(d.Idents, ident) {
		return nil, nil
	}
	sub := "_unidentified"
	if ident != "" {
		sub = safeName(ident)
	}
	dir := filepath.Join(d.Dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s_%d.hex", c.since.UTC().Format("20060102T150405.000Z"), c.id)
	return os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}

// safeName keeps an ident usable as a directory name on any system.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' && i > 0
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// maxRecordBacklog bounds the bytes held for a connection that has not
// identified yet.
const maxRecordBacklog = 64 << 10

type recState uint8

const (
	recBuffering recState = iota
	recWriting
	recOff
)

type recChunk struct {
	dir  traffic.Direction
	up   int // the upstream of a proxy channel's chunk, from 1
	t    time.Time
	data []byte
}

// recording is the raw traffic of one connection.
type recording struct {
	conn *Conn
	rec  Recorder

	mu      sync.Mutex
	state   recState
	backlog []recChunk
	held    int
	wc      io.WriteCloser
	w       *traffic.Writer
}

func (r *recording) chunk(dir traffic.Direction, p []byte) { r.chunkUp(dir, 0, p) }

// chunkUp records bytes exchanged with upstream up (from 1) of a proxy
// channel, or with the device when up is 0.
func (r *recording) chunkUp(dir traffic.Direction, up int, p []byte) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case recBuffering:
		r.backlog = append(r.backlog, recChunk{dir, up, now, append([]byte(nil), p...)})
		r.held += len(p)
		if r.held > maxRecordBacklog {
			r.open()
		}
	case recWriting:
		if err := r.w.WriteChunk(traffic.Chunk{Dir: dir, Upstream: up, Time: now, Data: p}); err != nil {
			r.failed(err)
		}
	}
}

func (r *recording) identified() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == recBuffering {
		r.open()
	}
}

func (r *recording) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == recBuffering && len(r.backlog) > 0 {
		r.open()
	}
	if r.wc != nil {
		if err := r.wc.Close(); err != nil {
			r.failed(err)
		}
		r.wc = nil
	}
	r.state = recOff
}

// open asks the Recorder for a writer and flushes the backlog into it.
func (r *recording) open() {
	c := r.conn
	wc, err := r.rec.Record(c)
	backlog := r.backlog
	r.backlog, r.held = nil, 0
	if err != nil || wc == nil {
		r.state = recOff
		if err != nil {
			r.failed(err)
		}
		return
	}
	r.wc, r.w, r.state = wc, traffic.NewWriter(wc), recWriting
	proto := ""
	if c.srv != nil && c.srv.Codec != nil {
		proto = c.srv.Codec.Name()
	}
	header := fmt.Sprintf("gnssgate raw traffic: protocol %s, transport %s, peer %s, ident %q, connected %s",
		proto, c.network, c.peer, c.Ident(), c.since.UTC().Format(time.RFC3339Nano))
	if err := r.w.Comment(header); err != nil {
		r.failed(err)
		return
	}
	if px := c.srv; px != nil && len(px.Proxy.Upstreams) > 0 {
		if err := r.w.Comment("proxy upstreams (u1, u2, ...): " + strings.Join(px.Proxy.Upstreams, " ") + "; acknowledgements: " + px.Proxy.Ack.String()); err != nil {
			r.failed(err)
			return
		}
	}
	for _, ch := range backlog {
		if err := r.w.WriteChunk(traffic.Chunk{Dir: ch.dir, Upstream: ch.up, Time: ch.t, Data: ch.data}); err != nil {
			r.failed(err)
			return
		}
	}
}

func (r *recording) failed(err error) {
	c := r.conn
	if c.srv != nil {
		c.srv.stats.recordErrors.Add(1)
		c.srv.logger().Warn("channel: raw traffic recording failed; recording stopped", "peer", c.peer, "ident", c.Ident(), "err", err)
	}
	if r.wc != nil {
		r.wc.Close()
		r.wc = nil
	}
	r.state = recOff
}
