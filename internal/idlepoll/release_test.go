//go:build linux

package idlepoll

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

func expectByte(t *testing.T, c net.Conn, want byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != want {
		t.Fatalf("read %v %v, want %d", b[0], err, want)
	}
}

// TestReleaseRevive: a released socket stays open (no FIN to the peer),
// wakes its owner when bytes arrive, and works again through the
// net.Conn Revive makes, parked or not.
func TestReleaseRevive(t *testing.T) {
	supported(t)
	srv, cli := pair(t)
	woken := make(chan struct{}, 2)
	s := For(srv, func() { woken <- struct{}{} })
	defer s.Stop()
	if err := s.Release(srv); err != nil {
		t.Fatal(err)
	}
	if s.Raw() != nil {
		t.Fatal("Raw() of a released socket")
	}
	if err := s.Release(srv); err == nil {
		t.Fatal("second Release succeeded")
	}
	cli.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := cli.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("peer read after Release: %v, want a timeout (the socket must stay open)", err)
	}
	if !s.Park() {
		t.Fatal("Park of a released socket refused")
	}
	cli.Write([]byte{7})
	waitWoken(t, woken, "a byte to a released socket")
	nc, err := s.Revive()
	if err != nil {
		t.Fatal(err)
	}
	if s.Raw() == nil {
		t.Fatal("no Raw() after Revive")
	}
	expectByte(t, nc, 7)
	nc.Write([]byte{8})
	expectByte(t, cli, 8)

	// Released, parked, then revived by a writer while parked: still
	// parked, and woken by the next bytes on the new descriptor.
	if err := s.Release(nc); err != nil {
		t.Fatal(err)
	}
	if !s.Park() {
		t.Fatal("Park refused")
	}
	nc2, err := s.Revive()
	if err != nil {
		t.Fatal(err)
	}
	nc2.Write([]byte{9})
	expectByte(t, cli, 9)
	select {
	case <-woken:
		t.Fatal("woken by Revive")
	case <-time.After(50 * time.Millisecond):
	}
	cli.Write([]byte{10})
	waitWoken(t, woken, "a byte after a Revive while parked")
	expectByte(t, nc2, 10)

	// Parked, then released (by a writer finishing): still parked, and
	// woken by the next bytes on the duplicate.
	if !s.Park() {
		t.Fatal("Park refused")
	}
	if err := s.Release(nc2); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
		t.Fatal("woken by Release")
	case <-time.After(50 * time.Millisecond):
	}
	cli.Write([]byte{11})
	waitWoken(t, woken, "a byte after a Release while parked")
	nc3, err := s.Revive()
	if err != nil {
		t.Fatal(err)
	}
	expectByte(t, nc3, 11)
	if got := nc2.RemoteAddr().String(); got != cli.LocalAddr().String() {
		t.Fatalf("revived RemoteAddr %s, want %s", got, cli.LocalAddr())
	}
}

// TestReleaseNoLeak releases, parks, wakes and revives many times, then
// stops a released socket: no descriptor is left open, and the peer sees
// the end of the stream.
func TestReleaseNoLeak(t *testing.T) {
	supported(t)
	before := openFDs(t)
	for range 3 {
		srv, cli := pair(t)
		woken := make(chan struct{}, 1)
		s := For(srv, func() { woken <- struct{}{} })
		nc := srv
		for round := range 20 {
			if err := s.Release(nc); err != nil {
				t.Fatal(err)
			}
			if !s.Park() {
				t.Fatal("Park refused")
			}
			cli.Write([]byte{byte(round)})
			waitWoken(t, woken, "a byte")
			var err error
			if nc, err = s.Revive(); err != nil {
				t.Fatal(err)
			}
			expectByte(t, nc, byte(round))
		}
		if err := s.Release(nc); err != nil {
			t.Fatal(err)
		}
		s.Stop()
		if _, err := s.Revive(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Revive after Stop: %v, want net.ErrClosed", err)
		}
		cli.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := cli.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("peer read after Stop of a released socket: %v, want EOF", err)
		}
		cli.Close()
		srv.Close() // closed already by Release: harmless
	}
	// The pairs' listeners and the test's own are closed; allow the
	// runtime a moment to finish closing.
	deadline := time.Now().Add(2 * time.Second)
	for openFDs(t) > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := openFDs(t); after > before {
		t.Fatalf("%d descriptors open after, %d before", after, before)
	}
}

// BenchmarkParkWakeReleased: BenchmarkParkWake with the socket released
// before each park and revived after each wake, the cost a connection
// that gives up its net.Conn pays each time it runs out of input.
func BenchmarkParkWakeReleased(b *testing.B) {
	if shared() == nil {
		b.Skip("no poller")
	}
	srv, cli := pair(b)
	woken := make(chan struct{}, 1)
	s := For(srv, func() { woken <- struct{}{} })
	defer s.Stop()
	buf := make([]byte, 1)
	nc := srv
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Release(nc); err != nil {
			b.Fatal(err)
		}
		s.Park()
		cli.Write(buf)
		<-woken
		var err error
		if nc, err = s.Revive(); err != nil {
			b.Fatal(err)
		}
		nc.Read(buf)
	}
	nc.Close()
}

// TestReviveAtDescriptorLimit: with no descriptor left for net.FileConn's
// duplicate, Revive fails, closes the socket (the peer sees the end of
// the stream) and leaks nothing; later calls report it closed.
func TestReviveAtDescriptorLimit(t *testing.T) {
	supported(t)
	srv, cli := pair(t)
	s := For(srv, func() {})
	defer s.Stop()
	if err := s.Release(srv); err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	tight := lim
	tight.Cur = uint64(before) // ReadDir's own descriptor is closed again
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &tight); err != nil {
		t.Skip(err)
	}
	// Fill the holes below the limit, so that no descriptor is left.
	var fill []int
	for {
		fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		fill = append(fill, fd)
	}
	_, err := s.Revive()
	for _, fd := range fill {
		syscall.Close(fd)
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if err == nil {
		t.Fatal("Revive succeeded with no descriptor left")
	}
	if _, err := s.Revive(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Revive: %v, want net.ErrClosed", err)
	}
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := cli.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("peer read after a failed Revive: %v, want EOF", err)
	}
	if after := openFDs(t); after != before-1 {
		t.Fatalf("%d descriptors open, want %d (the released socket's closed)", after, before-1)
	}
}
