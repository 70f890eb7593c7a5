package embedded

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func TestInputUsesRawSocketForTCP(t *testing.T) {
	s, _ := tcpPair(t)
	if in := newInput(s); in.raw == nil {
		t.Fatal("a TCP connection should be read through its raw socket")
	}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if in := newInput(p1); in.raw != nil {
		t.Fatal("a net.Pipe has no raw socket")
	}
}

// TestInputStream sends bytes in uneven writes and reads them back with a
// mix of ReadByte, small reads and reads larger than the pooled buffer.
func TestInputStream(t *testing.T) {
	t.Run("socket", func(t *testing.T) { s, c := tcpPair(t); testInputStream(t, s, c) })
	t.Run("conn", func(t *testing.T) { s, c := tcpPair(t); testInputStream(t, plainConn{s}, c) })
}

// plainConn hides a TCP connection's socket: input reads it as it reads
// TLS or WebSocket connections.
type plainConn struct{ net.Conn }

func testInputStream(t *testing.T, s, c net.Conn) {
	in := newInput(s)
	want := make([]byte, 3*inputSize+123)
	for i := range want {
		want[i] = byte(i * 7)
	}
	go func() {
		rest := want
		for _, n := range []int{1, 2, 5, 100, inputSize, 17, 2 * inputSize} {
			n = min(n, len(rest))
			c.Write(rest[:n])
			rest = rest[n:]
			time.Sleep(time.Millisecond)
		}
		c.Write(rest)
		c.Close()
	}()
	var got []byte
	for step := 0; ; step++ {
		var err error
		switch step % 3 {
		case 0:
			var b byte
			if b, err = in.ReadByte(); err == nil {
				got = append(got, b)
			}
		case 1:
			buf := make([]byte, 10)
			var n int
			n, err = in.Read(buf)
			got = append(got, buf[:n]...)
		case 2:
			buf := make([]byte, inputSize+1)
			var n int
			n, err = in.Read(buf)
			got = append(got, buf[:n]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d (first difference matters)", len(got), len(want))
	}
	if in.idle(); in.buf != nil {
		t.Fatal("the pooled buffer is still held after everything was read")
	}
}

// TestInputHoldsNoBufferWhileWaiting: the point of input.
func TestInputHoldsNoBufferWhileWaiting(t *testing.T) {
	t.Run("socket", func(t *testing.T) { s, c := tcpPair(t); testInputNoBuffer(t, s, c) })
	t.Run("conn", func(t *testing.T) { s, c := tcpPair(t); testInputNoBuffer(t, plainConn{s}, c) })
}

func testInputNoBuffer(t *testing.T, s, c net.Conn) {
	in := newInput(s)
	c.Write([]byte{1, 2})
	for range 2 {
		if _, err := in.ReadByte(); err != nil {
			t.Fatal(err)
		}
	}
	if in.idle(); in.buf != nil {
		t.Fatal("buffer held after the input was drained")
	}
	done := make(chan error, 1)
	go func() { _, err := in.ReadByte(); done <- err }()
	time.Sleep(20 * time.Millisecond)
	c.Write([]byte{3, 4})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestInputReadsWhatIsThere: a read in the middle of a packet returns the
// bytes that arrived, even one, and never waits for more. (An earlier
// version read a second time after a one-byte read, which deadlocked
// when the packet's last byte arrived alone.)
func TestInputReadsWhatIsThere(t *testing.T) {
	t.Run("socket", func(t *testing.T) { s, c := tcpPair(t); testInputReadsWhatIsThere(t, s, c) })
	t.Run("conn", func(t *testing.T) { s, c := tcpPair(t); testInputReadsWhatIsThere(t, plainConn{s}, c) })
	t.Run("pipe", func(t *testing.T) {
		s, c := net.Pipe()
		defer s.Close()
		defer c.Close()
		testInputReadsWhatIsThere(t, s, c)
	})
}

func testInputReadsWhatIsThere(t *testing.T, s, c net.Conn) {
	in := newInput(s)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i, chunk := range [][]byte{{0x30, 3}, {0}, {1}, {'x'}} {
		go c.Write(chunk)
		for range chunk {
			if _, err := in.ReadByte(); err != nil {
				t.Fatalf("chunk %d: %v", i, err)
			}
		}
	}
	go c.Write([]byte{1, 2, 3})
	buf := make([]byte, 10)
	if n, err := io.ReadAtLeast(in, buf, 3); n != 3 || err != nil {
		t.Fatalf("read %d, %v; want the 3 bytes written", n, err)
	}
}

func TestInputDeadlineAndClose(t *testing.T) {
	s, _ := tcpPair(t)
	in := newInput(s)
	s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := in.ReadByte()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the deadline: %v, want a timeout", err)
	}
	s.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := in.ReadByte(); done <- err }()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read waiting on a closed connection did not return")
	}
}

func TestInputPeerReset(t *testing.T) {
	s, c := tcpPair(t)
	in := newInput(s)
	c.(*net.TCPConn).SetLinger(0)
	c.Write([]byte{9})
	c.Close() // RST after the byte
	b, err := in.ReadByte()
	if err == nil && b != 9 {
		t.Fatalf("read %d", b)
	}
	for err == nil {
		_, err = in.ReadByte()
	}
	if err != io.EOF {
		var oe *net.OpError
		if !errors.As(err, &oe) {
			t.Fatalf("after a reset: %T %v, want io.EOF or a *net.OpError", err, err)
		}
	}
}

// BenchmarkInput reads 30-byte packets from a loopback socket through the
// raw socket, through the path TLS and WebSocket take, and through bufio
// (what input replaced).
func BenchmarkInput(b *testing.B) {
	for _, mode := range []string{"socket", "conn", "bufio"} {
		b.Run(mode, func(b *testing.B) {
			s, c := tcpPair(b)
			var in interface {
				io.Reader
				io.ByteReader
			}
			switch mode {
			case "socket":
				in = newInput(s)
			case "conn":
				in = newInput(plainConn{s})
			case "bufio":
				in = bufio.NewReaderSize(s, 2048)
			}
			pkt := make([]byte, 30)
			body := make([]byte, len(pkt)-1)
			go func() {
				for {
					if _, err := c.Write(pkt); err != nil {
						return
					}
				}
			}()
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for b.Loop() {
				if _, err := in.ReadByte(); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(in, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
