package testproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo is a line echo server.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						return
					}
					c.Write(line)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, r *bufio.Reader, d time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

func TestProxy(t *testing.T) {
	p := New(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if s, err := roundTrip(c, r, time.Second); s != "ping\n" || err != nil {
		t.Fatalf("through the proxy: %q %v", s, err)
	}
	p.Pause(true)
	if _, err := roundTrip(c, r, 100*time.Millisecond); err == nil {
		t.Fatal("a paused proxy forwarded")
	}
	p.Pause(false)
	c.SetDeadline(time.Now().Add(time.Second))
	if s, err := r.ReadString('\n'); s != "ping\n" || err != nil { // the held bytes flow again
		t.Fatalf("after the pause: %q %v", s, err)
	}
	p.SetDown(true)
	if _, err := roundTrip(c, r, time.Second); err == nil {
		t.Fatal("a cut connection still works")
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		if _, err := roundTrip(c2, bufio.NewReader(c2), time.Second); err == nil {
			t.Fatal("a down proxy forwarded a new connection")
		}
	}
	p.SetDown(false)
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if s, err := roundTrip(c3, bufio.NewReader(c3), time.Second); s != "ping\n" || err != nil {
		t.Fatalf("after coming back: %q %v", s, err)
	}
	if n := p.Accepted(); n != 2 {
		t.Fatalf("accepted %d, want 2", n)
	}
	p.CutAfter(7) // "ping\n" passes, the cut comes 2 bytes into the next
	r3 := bufio.NewReader(c3)
	if s, err := roundTrip(c3, r3, time.Second); s != "ping\n" || err != nil {
		t.Fatalf("before the cut: %q %v", s, err)
	}
	if s, err := roundTrip(c3, r3, time.Second); err == nil {
		t.Fatalf("after the cut: %q", s)
	}
}
