package fdlimit

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// Two listeners share a budget of two: a third connection on either is
// closed at once and counted; closing one frees its slot, once.
func TestBudgetSharedByListeners(t *testing.T) {
	b := NewBudget(2)
	var lns []net.Listener
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		lns = append(lns, b.Listener(ln))
	}
	accepted := make(chan net.Conn, 10)
	for _, ln := range lns {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
	}
	dial := func(ln net.Listener) net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	next := func() net.Conn {
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
		}
		return nil
	}
	dial(lns[0])
	first := next()
	dial(lns[1])
	next()
	if b.InUse() != 2 {
		t.Fatalf("in use %d, want 2", b.InUse())
	}
	// Over the budget: the client sees the connection closed.
	over := dial(lns[1])
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := over.Read(make([]byte, 1)); err != io.EOF && !isReset(err) {
		t.Fatalf("over the budget: read %v, want EOF", err)
	}
	if b.Rejected() != 1 {
		t.Fatalf("rejected %d, want 1", b.Rejected())
	}
	// A TCP connection stays a socket for servers' raw paths.
	if _, ok := first.(syscall.Conn); !ok {
		t.Error("an accepted TCP connection does not implement syscall.Conn")
	}
	first.Close()
	first.Close() // a second Close frees nothing more
	if b.InUse() != 1 {
		t.Fatalf("in use %d after a close, want 1", b.InUse())
	}
	dial(lns[0])
	next()
	if b.InUse() != 2 || b.Rejected() != 1 {
		t.Fatalf("in use %d, rejected %d; want 2, 1", b.InUse(), b.Rejected())
	}
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
