//go:build soak

package embedded

import (
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestIdleConnectionsMemory connects GNSSGATE_IDLE_CLIENTS (default 5,000)
// MQTT 3.1.1 clients, each subscribed to its own topic, and reports the
// broker's memory per idle connection (heap in use + goroutine stacks).
// Each client costs two file descriptors in this process: raise ulimit -n.
//
//	go test -tags soak -run IdleConnections -v ./broker/embedded/
func TestIdleConnectionsMemory(t *testing.T) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("GNSSGATE_IDLE_CLIENTS")); err == nil && v > 0 {
		n = v
	}
	s, addr := startServer(t, &Config{AllowAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	measure := func() (heap, stack uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse
	}
	h0, s0 := measure()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	connect := []byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 0} // keep-alive 0, empty ID
	buf := make([]byte, 64)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", i, err)
		}
		conns = append(conns, c)
		c.Write(connect)
		if _, err := io.ReadFull(c, buf[:4]); err != nil {
			t.Fatalf("CONNACK %d: %v", i, err)
		}
		topic := "idle/" + strconv.Itoa(i)
		sub := []byte{0x82, byte(2 + 2 + len(topic) + 1), 0, 1, 0, byte(len(topic))}
		sub = append(append(sub, topic...), 1)
		c.Write(sub)
		if _, err := io.ReadFull(c, buf[:5]); err != nil {
			t.Fatalf("SUBACK %d: %v", i, err)
		}
	}
	time.Sleep(time.Second)
	h1, s1 := measure()
	if got := s.nconns.Load(); got != int64(n) {
		t.Fatalf("%d connections served, want %d", got, n)
	}
	per := float64((h1-h0)+(s1-s0)) / float64(n)
	t.Logf("%d idle clients: heap +%.1f MiB, stacks +%.1f MiB, %.0f bytes per connection (includes the test's client-side net.Conn); 50,000 would need %.0f MiB",
		n, float64(h1-h0)/(1<<20), float64(s1-s0)/(1<<20), per, per*50000/(1<<20))
	if per*50000 > 1<<30 {
		t.Errorf("%.0f bytes per connection: 50,000 connections would exceed 1 GiB", per)
	}
}
