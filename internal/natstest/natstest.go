// Package natstest starts NATS servers with JetStream for tests: a cluster
// of nats-server processes on loopback ports, each with its own store
// directory, that a test can SIGKILL and restart node by node. It uses the
// nats-server binary of the machine (GNSSGATE_NATS_SERVER, else
// nats-server on PATH or in /usr/sbin); a test skips when there is none,
// and fails under GNSSGATE_REQUIRE_SERVICES=1.
package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/testenv"
)

// BinaryEnv names the nats-server binary to use.
const BinaryEnv = "GNSSGATE_NATS_SERVER"

// Binary returns the nats-server binary, skipping t when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv(BinaryEnv); b != "" {
		return b
	}
	if b, err := exec.LookPath("nats-server"); err == nil {
		return b
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	if testenv.Required() {
		t.Fatalf("%s=1 but no nats-server binary (set %s)", testenv.RequireEnv, BinaryEnv)
	}
	t.Skipf("skipping: no nats-server binary (set %s)", BinaryEnv)
	return ""
}

// Node is one server of a Cluster.
type Node struct {
	Name string
	URL  string // nats://127.0.0.1:port
	conf string
	cmd  *exec.Cmd
	log  *os.File
}

// Cluster is a set of nats-server processes routed to each other.
type Cluster struct {
	t     testing.TB
	bin   string
	Nodes []*Node
}

// StartCluster starts n servers with JetStream (n >= 1; n == 1 is a plain
// server) and waits until JetStream answers. They are killed when t ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, bin: Binary(t)}
	dir := t.TempDir()
	ports := freePorts(t, 2*n)
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[n+i]))
	}
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		var b strings.Builder
		fmt.Fprintf(&b, "server_name: %s\nlisten: 127.0.0.1:%d\n", name, ports[i])
		fmt.Fprintf(&b, "jetstream { store_dir: %q }\n", filepath.Join(dir, name))
		if n > 1 {
			fmt.Fprintf(&b, "cluster { name: gnssgate-test\n listen: 127.0.0.1:%d\n routes: [%s] }\n",
				ports[n+i], strings.Join(routes, ", "))
		}
		conf := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		nd := &Node{Name: name, URL: fmt.Sprintf("nats://127.0.0.1:%d", ports[i]), conf: conf}
		var err error
		if nd.log, err = os.Create(filepath.Join(dir, name+".log")); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, nd)
	}
	t.Cleanup(func() {
		for i := range c.Nodes {
			c.Kill(i)
		}
	})
	for i := range c.Nodes {
		c.Start(i)
	}
	c.WaitReady(30 * time.Second)
	return c
}

// URL returns every node's URL, comma-separated, for nats.Connect.
func (c *Cluster) URL() string {
	var urls []string
	for _, n := range c.Nodes {
		urls = append(urls, n.URL)
	}
	return strings.Join(urls, ",")
}

// Start starts node i (again, after Kill), on its store directory.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	n := c.Nodes[i]
	n.cmd = exec.Command(c.bin, "-c", n.conf)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		c.t.Fatalf("starting %s: %v", n.Name, err)
	}
}

// Kill sends SIGKILL to node i and waits for it to die.
func (c *Cluster) Kill(i int) {
	n := c.Nodes[i]
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	n.cmd.Wait()
	n.cmd = nil
}

// Stop kills every node.
func (c *Cluster) Stop() {
	for i := range c.Nodes {
		c.Kill(i)
	}
}

// WaitReady waits until every running node answers JetStream requests
// and, when all nodes run, until the cluster can place a stream on every
// node (its JetStream peers have all joined: creating a replicated stream
// right after start fails otherwise).
func (c *Cluster) WaitReady(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	defer func() {
		running := 0
		for _, n := range c.Nodes {
			if n.cmd != nil {
				running++
			}
		}
		if running != len(c.Nodes) || running < 2 {
			return
		}
		for {
			err := c.probe(running)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("cluster cannot place a stream on %d nodes: %v", running, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	for _, n := range c.Nodes {
		if n.cmd == nil {
			continue
		}
		for {
			err := jsReady(n.URL)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("%s not ready: %v", n.Name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// probe creates and deletes a stream with one replica per node.
func (c *Cluster) probe(replicas int) error {
	nc, err := nats.Connect(c.URL(), nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name := fmt.Sprintf("natstest_probe_%d", time.Now().UnixNano())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Replicas: replicas, Storage: jetstream.MemoryStorage}); err != nil {
		return err
	}
	return js.DeleteStream(ctx, name)
}

func jsReady(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

func freePorts(t testing.TB, n int) []int {
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
