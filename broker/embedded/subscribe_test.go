package embedded

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// subSet against a map, through puts, replacements and removals that take
// it past subSetIndexAt (where it starts a map) and back below.
func TestSubSet(t *testing.T) {
	var ss *subSet
	if ss.get("a") != nil || ss.len() != 0 || ss.all() != nil {
		t.Fatal("a nil subSet is not empty")
	}
	ss = new(subSet)
	want := map[string]*subscription{}
	var order []string // first-made order of the filters present
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 2000 {
		f := fmt.Sprintf("t/%d", rng.IntN(3*subSetIndexAt))
		if rng.IntN(3) == 0 {
			got := ss.remove(f)
			if got != want[f] {
				t.Fatalf("step %d: remove(%q) = %p, want %p", step, f, got, want[f])
			}
			if got != nil {
				delete(want, f)
				order = slices.DeleteFunc(order, func(o string) bool { return o == f })
			}
		} else {
			pf, err := parseFilter(f)
			if err != nil {
				t.Fatal(err)
			}
			sub := &subscription{filter: pf, id: step}
			if want[f] == nil {
				order = append(order, f)
			}
			want[f] = sub
			ss.put(sub)
		}
		if ss.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, ss.len(), len(want))
		}
		var got []string
		for _, sub := range ss.all() {
			got = append(got, sub.filter.String())
			if want[sub.filter.String()] != sub {
				t.Fatalf("step %d: all() has a stale subscription to %q", step, sub.filter.String())
			}
		}
		if !slices.Equal(got, order) {
			t.Fatalf("step %d: all() = %v, want %v", step, got, order)
		}
		for i := range 3 * subSetIndexAt {
			f := fmt.Sprintf("t/%d", i)
			if ss.get(f) != want[f] {
				t.Fatalf("step %d: get(%q) = %p, want %p", step, f, ss.get(f), want[f])
			}
		}
	}
}

// A session with more subscriptions than subSetIndexAt: replacing one
// keeps one subscription with the new options, unsubscribing removes
// exactly the ones named, and deliveries follow.
func TestManySubscriptionsOneSession(t *testing.T) {
	s, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("many", true, 30, nil)
	const n = 3 * subSetIndexAt
	for i := range n {
		r.subscribe(uint16(i+1), subOpt(fmt.Sprintf("m/%d", i), 0))
	}
	// Again with QoS 1 and an identifier: replaces m/3.
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 100,
		Filters: packets.Subscriptions{{Filter: "m/3", Qos: 1}}}
	pk.Properties.SubscriptionIdentifier = []int{7}
	r.sendPacket(pk)
	if sa := r.read(); sa.FixedHeader.Type != packets.Suback || fmt.Sprint(sa.ReasonCodes) != "[1]" {
		t.Fatalf("want SUBACK [1], got %+v", sa)
	}
	var gone packets.Subscriptions
	for i := 0; i < n; i += 2 {
		if i != 4 {
			gone = append(gone, packets.Subscription{Filter: fmt.Sprintf("m/%d", i)})
		}
	}
	gone = append(gone, packets.Subscription{Filter: "m/none"})
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe}, PacketID: 101, Filters: gone})
	ua := r.read()
	if ua.FixedHeader.Type != packets.Unsuback || len(ua.ReasonCodes) != len(gone) || ua.ReasonCodes[len(gone)-1] != 0x11 {
		t.Fatalf("want UNSUBACK ending in 0x11, got %+v", ua)
	}

	info, err := s.Session("", "many")
	if err != nil {
		t.Fatal(err)
	}
	var filters []string
	for _, sub := range info.Subscriptions {
		filters = append(filters, sub.Filter)
		if sub.Filter == "m/3" && (sub.QoS != 1 || sub.ID != 7) {
			t.Errorf("m/3 after its second SUBSCRIBE: %+v", sub)
		}
	}
	var want []string
	for i := range n {
		if i%2 == 1 || i == 4 {
			want = append(want, fmt.Sprintf("m/%d", i))
		}
	}
	slices.Sort(want)
	if !slices.Equal(filters, want) {
		t.Fatalf("subscriptions %v, want %v", filters, want)
	}
	if st := s.Stats(); st.Subscriptions != int64(len(want)) {
		t.Fatalf("Stats().Subscriptions = %d, want %d", st.Subscriptions, len(want))
	}

	ctx := context.Background()
	for i := range n {
		s.Publish(ctx, broker.Message{Topic: fmt.Sprintf("m/%d", i), QoS: 1, Payload: []byte{byte(i)}})
	}
	var got []string
	for range want {
		m := r.read()
		if m.FixedHeader.Type != packets.Publish {
			t.Fatalf("want PUBLISH, got %+v", m)
		}
		if m.FixedHeader.Qos == 1 {
			r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: m.PacketID})
		}
		if m.TopicName == "m/3" && (m.FixedHeader.Qos != 1 || fmt.Sprint(m.Properties.SubscriptionIdentifier) != "[7]") {
			t.Errorf("m/3 delivered at QoS %d with ids %v", m.FixedHeader.Qos, m.Properties.SubscriptionIdentifier)
		}
		got = append(got, m.TopicName)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	r.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if b, err := r.br.ReadByte(); err == nil {
		t.Fatalf("a delivery to an unsubscribed filter (header %x)", b)
	}
}

// A subscription does not keep its SUBSCRIBE packet: 40 subscriptions
// made by packets of 256 kB (user properties) add far less than the
// 10 MB those packets are to the live heap.
func TestSubscriptionKeepsNoPacket(t *testing.T) {
	s, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("big", true, 30, nil)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	const n, size = 40, 256_000
	for i := range n {
		pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: uint16(i + 1),
			Filters: packets.Subscriptions{{Filter: fmt.Sprintf("big/%d", i)}}}
		for range size / 64000 { // a string has at most 65,535 bytes
			pk.Properties.User = append(pk.Properties.User, packets.UserProperty{Key: "pad", Val: strings.Repeat("x", 64000)})
		}
		r.sendPacket(pk)
		if sa := r.read(); sa.FixedHeader.Type != packets.Suback || fmt.Sprint(sa.ReasonCodes) != "[0]" {
			t.Fatalf("want SUBACK [0], got %+v", sa)
		}
	}
	if st := s.Stats(); st.Subscriptions != n {
		t.Fatalf("%d subscriptions, want %d", st.Subscriptions, n)
	}
	if grown := int64(heap()) - int64(before); grown > n*size/4 {
		t.Fatalf("the live heap grew by %d bytes for %d subscriptions: their packets are kept", grown, n)
	}
}

// A client that sends faster than it reads its acknowledgements: past
// ctrlLimit of them waiting for the writer, the read loop waits for room
// (the session's cond, made then) and goes on when the client reads.
func TestControlBacklogWaits(t *testing.T) {
	s := New(&Config{AllowAnonymous: true, IdleParkAfter: -1, Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	server, client := net.Pipe() // unbuffered: the writer waits for every read
	go s.ServeConn(server)
	defer client.Close()
	r := &rawClient{t: t, nc: client, br: bufio.NewReader(client), v: 4}
	r.connect("backlog", true, 0, nil)

	// Their PINGRESPs are 2·ctrlLimit+4 bytes: the writer, blocked in its
	// first write, holds at most what c.ctrl held then (ctrlLimit+2), so
	// more than ctrlLimit are left to wait in c.ctrl.
	const pings = ctrlLimit + 2
	sent := make(chan error, 1)
	go func() {
		_, err := client.Write(bytes.Repeat([]byte{packets.Pingreq << 4, 0}, pings))
		sent <- err
	}()
	waited := func() bool {
		s.mu.Lock()
		se := s.sessions["backlog"]
		s.mu.Unlock()
		se.mu.Lock()
		defer se.mu.Unlock()
		return se.cond != nil
	}
	for deadline := time.Now().Add(time.Minute); !waited(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the read loop never waited for room in its control backlog")
		}
	}
	for i := range pings {
		if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
			t.Fatalf("response %d: want PINGRESP, got %+v", i, pk)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}
