package channel

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// The many-connections benchmark. The devices run in a child process (this
// test binary again, as TestBenchDevices), so that the server's memory is
// measured alone and each process stays under its own file limit:
//
//	GNSSGATE_BENCH_CONNS=10000 GNSSGATE_BENCH_SECONDS=30 \
//	  go test -run '^$' -bench BenchmarkConnections -benchtime=1x ./channel/
//
// With GNSSGATE_BENCH_IDLE=5s the devices first stay silent that long after
// logging in, and the server's memory is measured again at the end of the
// silence, once idle connections have parked (GNSSGATE_BENCH_PARK sets
// Server.IdleParkAfter; -1ns never parks).
const (
	benchConnsEnv   = "GNSSGATE_BENCH_CONNS"
	benchSecondsEnv = "GNSSGATE_BENCH_SECONDS"
	benchAddrEnv    = "GNSSGATE_BENCH_ADDR"
	benchIdleEnv    = "GNSSGATE_BENCH_IDLE"
	benchParkEnv    = "GNSSGATE_BENCH_PARK"
	// GNSSGATE_BENCH_HEAPPROFILE=/tmp/heap.pb.gz writes a heap profile of
	// the idle server (every allocation sampled) for go tool pprof.
	benchHeapProfileEnv = "GNSSGATE_BENCH_HEAPPROFILE"
)

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// deviceReport is what the device process prints when done.
type deviceReport struct {
	Connected, Failed int
	Sent, Acked       int64
	Errors            int64
	P50, P99, Max     time.Duration
}

// TestBenchDevices is the device side of BenchmarkConnections; it does
// nothing unless started by it.
func TestBenchDevices(t *testing.T) {
	addr := os.Getenv(benchAddrEnv)
	if addr == "" {
		t.Skip("device process of BenchmarkConnections")
	}
	n, _ := strconv.Atoi(os.Getenv(benchConnsEnv))
	secs, _ := strconv.Atoi(os.Getenv(benchSecondsEnv))
	_, frame := teltonikaFrame(t, 1)
	var rep deviceReport
	var mu sync.Mutex
	var lat []time.Duration
	var sent, acked, errs atomic.Int64
	conns := make([]net.Conn, 0, n)
	sem := make(chan struct{}, 100) // do not overflow the listen backlog
	var wg sync.WaitGroup
	var cmu sync.Mutex
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			imei := []byte(fmt.Sprintf("%015d", 356000000000000+i))
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err == nil {
				c.SetDeadline(time.Now().Add(20 * time.Second))
				_, err = c.Write(append([]byte{0, 15}, imei...))
				if err == nil {
					_, err = io.ReadFull(c, make([]byte, 1))
				}
			}
			cmu.Lock()
			defer cmu.Unlock()
			if err != nil {
				rep.Failed++
				if c != nil {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}()
	}
	wg.Wait()
	rep.Connected = len(conns)
	fmt.Println("CONNECTED", rep.Connected) // the parent measures memory now
	if idle, _ := time.ParseDuration(os.Getenv(benchIdleEnv)); idle > 0 {
		time.Sleep(idle)
	}
	end := time.Now().Add(time.Duration(secs) * time.Second)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			ack := make([]byte, 4)
			// Spread the devices over the second, as real ones are.
			time.Sleep(time.Duration(i%1000) * time.Millisecond)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			var mine []time.Duration
			for time.Now().Before(end) {
				t0 := time.Now()
				c.SetDeadline(t0.Add(10 * time.Second))
				sent.Add(1)
				if _, err := c.Write(frame); err != nil {
					errs.Add(1)
					return
				}
				if _, err := io.ReadFull(c, ack); err != nil {
					errs.Add(1)
					return
				}
				acked.Add(1)
				mine = append(mine, time.Since(t0))
				<-tick.C
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep.Sent, rep.Acked, rep.Errors = sent.Load(), acked.Load(), errs.Load()
	slices.Sort(lat)
	if len(lat) > 0 {
		rep.P50, rep.P99, rep.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	b, _ := json.Marshal(rep)
	fmt.Println("REPORT", string(b))
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

func rssBytes() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkConnections holds GNSSGATE_BENCH_CONNS Teltonika devices, each
// sending one record a second for GNSSGATE_BENCH_SECONDS, and reports the
// server's memory per connection and the ACK latency. It runs once,
// whatever b.N is: use -benchtime=1x.
func BenchmarkConnections(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv(benchConnsEnv))
	if n <= 0 {
		b.Skipf("set %s (and optionally %s) to run", benchConnsEnv, benchSecondsEnv)
	}
	secs, _ := strconv.Atoi(os.Getenv(benchSecondsEnv))
	if secs <= 0 {
		secs = 20
	}
	if os.Getenv(benchHeapProfileEnv) != "" {
		runtime.MemProfileRate = 1
	}
	idle, _ := time.ParseDuration(os.Getenv(benchIdleEnv))
	park, _ := time.ParseDuration(os.Getenv(benchParkEnv))
	h := &memHandler{}
	srv := &Server{Codec: &teltonika.Codec{}, Handler: h, IdleParkAfter: park}
	addr := start(b, srv)
	before, rssBefore := heapAndStacks(), rssBytes()
	var idlePerConn, idleRSSPerConn float64

	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchDevices$", "-test.v")
	cmd.Env = append(os.Environ(), benchAddrEnv+"="+addr, benchConnsEnv+"="+strconv.Itoa(n), benchSecondsEnv+"="+strconv.Itoa(secs))
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var rep deviceReport
	var perConn, rssPerConn float64
	var cpuFrom time.Duration // the server's CPU time when the devices start sending
	var connected int
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "CONNECTED "); ok {
			connected, _ = strconv.Atoi(rest)
			waitForStats(b, srv, connected)
			after := heapAndStacks()
			perConn = float64(after-before) / float64(connected)
			rssPerConn = float64(rssBytes()-rssBefore) / float64(connected)
			b.Logf("%d connections: heap+stacks %.1f MiB -> %.1f MiB", connected, float64(before)/(1<<20), float64(after)/(1<<20))
			cpuFrom = cputime.Process()
			if idle > 0 {
				// Near the end of the devices' silence, with memory the
				// runtime no longer uses given back, as a long-lived
				// server's scavenger would.
				time.Sleep(idle - idle/5)
				idleAfter := heapAndStacks()
				debug.FreeOSMemory()
				idlePerConn = float64(idleAfter-before) / float64(connected)
				idleRSSPerConn = float64(rssBytes()-rssBefore) / float64(connected)
				if path := os.Getenv(benchHeapProfileEnv); path != "" {
					writeHeapProfile(b, path)
				}
				cpuFrom = cputime.Process()
				b.Logf("after %v silent: heap+stacks %.1f MiB, %d parked", idle-idle/5, float64(idleAfter)/(1<<20), parkedConns(srv))
			}
		}
		if rest, ok := strings.CutPrefix(line, "REPORT "); ok {
			json.Unmarshal([]byte(rest), &rep)
		}
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("device process: %v", err)
	}
	cpu := cputime.Process() - cpuFrom
	if rep.Connected == 0 {
		b.Fatal("device process reported nothing")
	}
	b.Logf("devices: %+v; server stats: %+v", rep, srv.Stats())
	b.ReportMetric(float64(rep.Connected), "conns")
	b.ReportMetric(float64(rep.Failed), "failed-conns")
	b.ReportMetric(perConn, "heap+stack-B/conn")
	b.ReportMetric(rssPerConn, "rss-B/conn")
	if idle > 0 {
		b.ReportMetric(idlePerConn, "idle-heap+stack-B/conn")
		b.ReportMetric(idleRSSPerConn, "idle-rss-B/conn")
	}
	b.ReportMetric(float64(rep.Acked)/float64(secs), "acked-msgs/s")
	b.ReportMetric(float64(rep.Errors), "errors")
	if rep.Acked > 0 && cpu > 0 {
		// The server's alone: the devices are another process.
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(rep.Acked), "server-cpu-ns/msg")
	}
	b.ReportMetric(float64(rep.P99.Microseconds())/1000, "p99-ack-ms")
}

func waitForStats(b *testing.B, srv *Server, n int) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ids := 0
		for _, c := range srv.Conns() {
			if c.Ident != "" {
				ids++
			}
		}
		if ids >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("server never saw %d identified connections", n)
}
