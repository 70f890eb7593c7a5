//go:build unix

package embedded

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

var long = flag.Bool("long", false, "SIGKILL the durable broker 50 times instead of 10")

const (
	killDirEnv  = "GNSSGATE_BROKER_KILL_DIR"
	killAddrEnv = "GNSSGATE_BROKER_KILL_ADDR"
)

// TestDurableKill runs the broker on a data directory in a child process
// and SIGKILLs it at random moments, again and again, while publishers
// (QoS 1 and QoS 2) and persistent subscribers (QoS 2 subscriptions, made
// once before the first kill) run against it, reconnecting whenever it
// dies. A last child runs until the subscribers have caught up. Every
// message a publisher got its PUBACK or PUBREC for must have reached every
// subscriber's session; QoS 2 messages exactly once (the subscribers keep
// their QoS 2 receive state across reconnections, as MQTT clients must).
func TestDurableKill(t *testing.T) {
	if dir := os.Getenv(killDirEnv); dir != "" {
		killChild(dir, os.Getenv(killAddrEnv))
		return
	}
	reconnects.Store(0)
	kills := 10
	if *long {
		kills = 50
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()

	const nsubs, npubs = 3, 4
	subs := make([]*killSub, nsubs)
	for i := range subs {
		subs[i] = &killSub{id: fmt.Sprintf("ksub-%d", i), addr: addr, got: map[string]int{}, pending: map[uint16]bool{}}
	}
	pubs := make([]*killPub, npubs)
	for i := range pubs {
		pubs[i] = &killPub{id: fmt.Sprintf("kpub-%d", i), addr: addr, qos: byte(1 + i%2), acked: map[string]byte{}}
	}
	// A retained publisher: the retained message after the last restart
	// must be the last one acknowledged, or a later one.
	ret := &killPub{id: "kret", addr: addr, qos: 1, retain: true, acked: map[string]byte{}}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	pubCtx, stopPubs := context.WithCancel(ctx)
	defer stopPubs()
	for gen := 0; gen <= kills; gen++ {
		last := gen == kills
		cmd := exec.Command(os.Args[0], "-test.run=^TestDurableKill$", "-test.count=1", "-test.v=false")
		cmd.Env = append(os.Environ(), killDirEnv+"="+dir, killAddrEnv+"="+addr)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if sc.Text() == "READY" {
					close(ready)
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("child %d not ready", gen)
		}
		if gen == 0 {
			// The sessions and subscriptions exist before the first kill;
			// from then on the subscribers only resume them.
			for _, s := range subs {
				if err := s.setup(); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range subs {
				wg.Add(1)
				go func() { defer wg.Done(); s.run(ctx) }()
			}
			for _, p := range append(pubs[:len(pubs):len(pubs)], ret) {
				wg.Add(1)
				go func() { defer wg.Done(); p.run(pubCtx) }()
			}
		}
		if !last {
			time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
			cmd.Process.Kill()
			cmd.Wait()
			continue
		}
		// The last child: stop publishing, wait until every acknowledged
		// message has arrived (or time runs out), then check.
		time.Sleep(300 * time.Millisecond)
		stopPubs()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) && !killDone(pubs, subs) {
			time.Sleep(100 * time.Millisecond)
		}
		stop()
		wg.Wait()
		checkRetained(t, addr, ret)
		cmd.Process.Kill()
		cmd.Wait()
	}
	total, q2 := 0, 0
	for _, p := range pubs {
		total += len(p.acked)
		for payload, qos := range p.acked {
			if qos == 2 {
				q2++
			}
			for _, s := range subs {
				n := s.got[payload]
				switch {
				case n == 0:
					t.Errorf("%s: acknowledged message %s (QoS %d) never reached %s", p.id, payload, qos, s.id)
				case n > 1 && qos == 2:
					t.Errorf("%s: QoS 2 message %s reached %s %d times", p.id, payload, s.id, n)
				}
			}
		}
	}
	dups := 0
	for _, s := range subs {
		dups += s.dups
	}
	t.Logf("%d kills; %d messages acknowledged (%d at QoS 2), each to %d persistent sessions; %d QoS 1 duplicates; %d reconnections",
		kills, total, q2, nsubs, dups, reconnects.Load())
	if total < 100 {
		t.Errorf("only %d messages acknowledged: the load did not run", total)
	}
}

var reconnects atomic.Int64

// checkRetained reads the retained message of ret's topic and checks it is
// no older than the last one acknowledged.
func checkRetained(t *testing.T, addr string, ret *killPub) {
	t.Helper()
	last := 0
	for payload := range ret.acked {
		n, _ := strconv.Atoi(strings.TrimPrefix(payload, ret.id+"-"))
		last = max(last, n)
	}
	c, _, err := dialKill(addr, "kret-check", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.nc.Close()
	c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: ret.topic(), Qos: 1}}})
	for {
		pk, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatalf("no retained message on %s (last acknowledged: %d): %v", ret.topic(), last, err)
		}
		if pk.FixedHeader.Type != packets.Publish {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimPrefix(string(pk.Payload), ret.id+"-"))
		if !pk.FixedHeader.Retain || n < last {
			t.Fatalf("retained %q (retain %v) after the last restart; last acknowledged %d", pk.Payload, pk.FixedHeader.Retain, last)
		}
		t.Logf("retained: %s, last acknowledged %d", pk.Payload, last)
		return
	}
}

func killDone(pubs []*killPub, subs []*killSub) bool {
	for _, p := range pubs {
		p.mu.Lock()
		acked := make([]string, 0, len(p.acked))
		for k := range p.acked {
			acked = append(acked, k)
		}
		p.mu.Unlock()
		for _, s := range subs {
			s.mu.Lock()
			for _, k := range acked {
				if s.got[k] == 0 {
					s.mu.Unlock()
					return false
				}
			}
			s.mu.Unlock()
		}
	}
	return true
}

// killChild runs the broker until it is killed.
func killChild(dir, addr string) {
	s, err := Open(&Config{DataDir: dir, AllowAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	var ln net.Listener
	for range 100 { // the last child's port may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	fmt.Println("READY")
	s.Serve(context.Background(), ln)
	select {}
}

// killConn is a raw MQTT 3.1.1 connection.
type killConn struct {
	nc net.Conn
	br *bufio.Reader
	wm sync.Mutex
}

func dialKill(addr, id string, clean bool) (*killConn, bool, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, false, err
	}
	c := &killConn{nc: nc, br: bufio.NewReader(nc)}
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: clean, Keepalive: 30}
	if err := c.send(pk); err != nil {
		nc.Close()
		return nil, false, err
	}
	ca, err := c.read(5 * time.Second)
	if err != nil || ca.FixedHeader.Type != packets.Connack || ca.ReasonCode != 0 {
		nc.Close()
		return nil, false, fmt.Errorf("connect %s: %v %+v", id, err, ca)
	}
	return c, ca.SessionPresent, nil
}

func (c *killConn) send(pk *packets.Packet) error {
	b, err := encodePacket(pk, 4)
	if err != nil {
		return err
	}
	c.wm.Lock()
	defer c.wm.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = c.nc.Write(b)
	return err
}

func (c *killConn) read(timeout time.Duration) (*packets.Packet, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	return readPacket(c.br, 4)
}

// killSub is a persistent subscriber. got counts each message received as
// new; pending is its QoS 2 receive state (IDs PUBREC'd, awaiting PUBREL),
// kept across connections.
type killSub struct {
	id, addr string
	mu       sync.Mutex
	got      map[string]int
	pending  map[uint16]bool
	dups     int
}

func (s *killSub) setup() error {
	c, _, err := dialKill(s.addr, s.id, true)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	c.nc.Close()
	c, _, err = dialKill(s.addr, s.id, false)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	if err := c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: "kill/#", Qos: 2}}}); err != nil {
		return err
	}
	sa, err := c.read(5 * time.Second)
	if err != nil || sa.FixedHeader.Type != packets.Suback || len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0] != 2 {
		return fmt.Errorf("subscribe: %v %+v", err, sa)
	}
	return nil
}

func (s *killSub) run(ctx context.Context) {
	for ctx.Err() == nil {
		c, present, err := dialKill(s.addr, s.id, false)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		reconnects.Add(1)
		if !present {
			panic(s.id + ": session lost")
		}
		stop := context.AfterFunc(ctx, func() { c.nc.Close() })
		for {
			pk, err := c.read(time.Hour)
			if err != nil {
				break
			}
			switch pk.FixedHeader.Type {
			case packets.Publish:
				payload := string(pk.Payload)
				s.mu.Lock()
				if pk.FixedHeader.Qos == 2 && s.pending[pk.PacketID] {
					// Sent again before its PUBREL: the same message.
				} else {
					if s.got[payload] > 0 {
						s.dups++
					}
					s.got[payload]++
					if pk.FixedHeader.Qos == 2 {
						s.pending[pk.PacketID] = true
					}
				}
				s.mu.Unlock()
				typ := byte(packets.Puback)
				if pk.FixedHeader.Qos == 2 {
					typ = packets.Pubrec
				}
				c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: typ}, PacketID: pk.PacketID})
			case packets.Pubrel:
				s.mu.Lock()
				delete(s.pending, pk.PacketID)
				s.mu.Unlock()
				c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: pk.PacketID})
			}
		}
		stop()
		c.nc.Close()
	}
}

// killPub publishes numbered messages with up to 16 in flight, recording
// those the broker acknowledged (PUBACK, or PUBREC for QoS 2).
type killPub struct {
	id, addr string
	qos      byte
	retain   bool
	n        int
	mu       sync.Mutex
	acked    map[string]byte
}

func (p *killPub) run(ctx context.Context) {
	for ctx.Err() == nil {
		c, _, err := dialKill(p.addr, p.id, true)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		p.session(ctx, c)
		c.nc.Close()
	}
}

func (p *killPub) session(ctx context.Context, c *killConn) {
	window := make(chan struct{}, 16)
	inflight := sync.Map{} // packet ID → payload
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			pk, err := c.read(time.Hour)
			if err != nil {
				return
			}
			switch pk.FixedHeader.Type {
			case packets.Puback, packets.Pubrec:
				if v, ok := inflight.Load(pk.PacketID); ok {
					p.mu.Lock()
					p.acked[v.(string)] = p.qos
					p.mu.Unlock()
				}
				if pk.FixedHeader.Type == packets.Pubrec {
					c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: pk.PacketID})
					continue
				}
				inflight.Delete(pk.PacketID)
				<-window
			case packets.Pubcomp:
				inflight.Delete(pk.PacketID)
				<-window
			}
		}
	}()
	defer func() { c.nc.Close(); <-done }()
	var id uint16
	for {
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return
		case <-done:
			return
		}
		id = id%1000 + 1
		p.n++
		payload := p.id + "-" + strconv.Itoa(p.n)
		inflight.Store(id, payload)
		err := c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: p.qos, Retain: p.retain},
			PacketID: id, TopicName: p.topic(), Payload: []byte(payload)})
		if err != nil {
			return
		}
	}
}

func (p *killPub) topic() string {
	if p.retain {
		return "kret/" + p.id // outside the subscribers' kill/#
	}
	return "kill/" + strings.TrimPrefix(p.id, "kpub-")
}
