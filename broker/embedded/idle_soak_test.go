//go:build soak

package embedded

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIdleConnectionsMemory holds GNSSGATE_IDLE_CLIENTS (default 5,000)
// idle MQTT 3.1.1 clients, each subscribed to its own topic, on one
// broker and reports what they cost it: the process's RSS and the Go heap
// and stacks.
//
// The clients connect over TCP from a child process, as many as this
// process's open-file limit allows (GNSSGATE_IDLE_TCP caps it); the rest,
// if any, are served through Server.ServeConn over net.Pipe, whose client
// ends then live in this process and are counted against the broker. That
// is how 50,000 clients fit on a machine whose per-process file limit is
// lower than that:
//
//	go test -tags soak -run IdleConnections -v ./broker/embedded/
//	GNSSGATE_IDLE_CLIENTS=50000 go test -tags soak -run IdleConnections -v -timeout 20m ./broker/embedded/
//
// It fails when 50,000 clients would need more than 1 GiB.
func TestIdleConnectionsMemory(t *testing.T) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("GNSSGATE_IDLE_CLIENTS")); err == nil && v > 0 {
		n = v
	}
	tcp := min(n, raiseFileLimit(t)-200)
	if v, err := strconv.Atoi(os.Getenv("GNSSGATE_IDLE_TCP")); err == nil && v >= 0 {
		tcp = min(tcp, v)
	}
	if os.Getenv("GNSSGATE_IDLE_HEAPPROFILE") != "" {
		// Every allocation sampled: the profile then shows exact sizes.
		runtime.MemProfileRate = 1
	}
	s, addr := startServer(t, &Config{AllowAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	measure := func() (rss, heap, stack uint64) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return vmRSS(t), ms.HeapInuse, ms.StackInuse
	}
	r0, h0, s0 := measure()

	// TCP clients from a child process (this test binary, re-run).
	if tcp > 0 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientProcess$", "-test.timeout=0")
		cmd.Env = append(os.Environ(), "GNSSGATE_IDLE_CHILD="+addr+","+strconv.Itoa(tcp))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { stdin.Close(); cmd.Wait() }()
		ready := false
		for sc := bufio.NewScanner(stdout); sc.Scan(); {
			if line := sc.Text(); line == "ready" {
				ready = true
				break
			} else if strings.HasPrefix(line, "error:") {
				t.Fatalf("client process: %s", line)
			}
		}
		if !ready {
			t.Fatalf("client process ended before its clients were connected: %s", stderr.String())
		}
	}
	// The rest over net.Pipe.
	pipes := make([]net.Conn, 0, n-tcp)
	defer func() {
		for _, c := range pipes {
			c.Close()
		}
	}()
	for i := tcp; i < n; i++ {
		srv, cli := net.Pipe()
		s.ServeConn(srv)
		if err := idleClient(cli, i); err != nil {
			t.Fatalf("pipe client %d: %v", i, err)
		}
		pipes = append(pipes, cli)
	}
	time.Sleep(time.Second)
	r1, h1, s1 := measure()
	if got := s.nconns.Load(); got != int64(n) {
		t.Fatalf("%d connections served, want %d", got, n)
	}
	if path := os.Getenv("GNSSGATE_IDLE_HEAPPROFILE"); path != "" {
		writeHeapProfile(t, path)
	}
	perRSS := float64(r1-r0) / float64(n)
	perGo := float64((h1-h0)+(s1-s0)) / float64(n)
	t.Logf("%d idle clients (%d TCP from another process, %d net.Pipe in this one): RSS %.1f → %.1f MiB, %.0f bytes per client; Go heap +%.1f MiB, stacks +%.1f MiB, %.0f bytes per client; 50,000 would need %.0f MiB",
		n, tcp, n-tcp, float64(r0)/(1<<20), float64(r1)/(1<<20), perRSS,
		float64(h1-h0)/(1<<20), float64(s1-s0)/(1<<20), perGo, perRSS*50000/(1<<20))
	if perRSS*50000 > 1<<30 {
		t.Errorf("%.0f bytes per client: 50,000 clients would exceed 1 GiB", perRSS)
	}
}

// writeHeapProfile writes the live heap to path (GNSSGATE_IDLE_HEAPPROFILE),
// to see what an idle connection holds: go tool pprof -sample_index=inuse_space.
func writeHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("heap profile in %s; %d goroutines", path, runtime.NumGoroutine())
}

// TestIdleClientProcess is the child of TestIdleConnectionsMemory: it
// connects the clients, says "ready" and holds them until its stdin closes.
func TestIdleClientProcess(t *testing.T) {
	spec := os.Getenv("GNSSGATE_IDLE_CHILD")
	if spec == "" {
		t.Skip("run by TestIdleConnectionsMemory")
	}
	addr, count, _ := strings.Cut(spec, ",")
	n, _ := strconv.Atoi(count)
	raiseFileLimit(t)
	conns := make([]net.Conn, 0, n)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			err = idleClient(c, i)
		}
		if err != nil {
			fmt.Printf("error: client %d: %v\n", i, err)
			return
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// idleClient connects client i (MQTT 3.1.1, keep-alive 0) and subscribes
// it to its own topic.
func idleClient(c net.Conn, i int) error {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.SetDeadline(time.Time{})
	connect := []byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 0} // empty client ID
	if _, err := c.Write(connect); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf[:4]); err != nil {
		return fmt.Errorf("CONNACK: %w", err)
	}
	topic := "idle/" + strconv.Itoa(i)
	sub := []byte{0x82, byte(2 + 2 + len(topic) + 1), 0, 1, 0, byte(len(topic))}
	sub = append(append(sub, topic...), 1)
	if _, err := c.Write(sub); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		return fmt.Errorf("SUBACK: %w", err)
	}
	return nil
}

// raiseFileLimit raises this process's open-file limit to its hard limit
// and returns the limit in force.
func raiseFileLimit(t *testing.T) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return int(lim.Cur)
}

// vmRSS reads this process's resident set size.
func vmRSS(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmRSS in /proc/self/status")
	return 0
}
