// Package testproxy is a TCP proxy for fault tests: it sits between a
// client and a real server (a broker, a receiver) and the test cuts it
// (SetDown: every connection closed, new ones refused) or silences it
// (Pause: bytes stop flowing both ways while connections stay open, as
// on a dead network path).
package testproxy

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards connections to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	down   bool
	paused bool
	conns  map[net.Conn]bool
	n      int // connections accepted while up
	// cutIn > 0 counts down the client bytes until the next cut.
	cutIn int64
}

// New starts a proxy to target on a loopback port; it stops with the test.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port, for the client.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted returns how many connections were forwarded so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// SetDown cuts every connection and refuses new ones (accepting them only
// to close them, so the client's handshake fails) until SetDown(false).
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.cut()
	}
}

// Pause stops forwarding bytes, both ways, until Pause(false); the
// connections stay open and new ones are held the same way.
func (p *Proxy) Pause(paused bool) {
	p.mu.Lock()
	p.paused = paused
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.cut()
	p.Pause(false)
}

func (p *Proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.cond.Broadcast() // a paused pipe of a cut connection gives up
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.n++
		p.mu.Unlock()
		go p.pipe(c, up, false)
		go p.pipe(up, c, true)
	}
}

// CutAfter cuts every connection once n more bytes have gone from the
// clients to the server: a failure in the middle of what a client sends,
// at a point the test chooses. New connections are forwarded as usual.
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	p.cutIn = n
	p.mu.Unlock()
}

func (p *Proxy) pipe(dst, src net.Conn, fromClient bool) {
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused && p.conns[src] {
				p.cond.Wait()
			}
			alive := p.conns[src]
			cut := false
			if fromClient && p.cutIn > 0 {
				if int64(n) >= p.cutIn {
					n, p.cutIn, cut = int(p.cutIn), 0, true
				} else {
					p.cutIn -= int64(n)
				}
			}
			p.mu.Unlock()
			if !alive {
				return
			}
			if cut {
				dst.Write(buf[:n])
				p.cut()
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
