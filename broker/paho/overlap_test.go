package paho

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/internal/testenv"
)

// Overlapping local subscriptions of one Broker each get every message
// they match exactly once, whether the server sends one copy per
// subscription (Mosquitto) or one copy with every identifier (embedded).
func TestOverlappingSubscriptions(t *testing.T) {
	t.Run("mosquitto", func(t *testing.T) { testOverlapping(t, testenv.MQTTAddr(t)) })
	t.Run("embedded", func(t *testing.T) { testOverlapping(t, startEmbedded(t)) })
}

func startEmbedded(t *testing.T) string {
	t.Helper()
	srv := embedded.New(&embedded.Config{AllowAnonymous: true, Logger: quietLogger()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		srv.Close()
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func testOverlapping(t *testing.T, addr string) {
	b := newTestBroker(t, Config{Server: addr})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := "gnssgate-test/" + uuid.NewString() + "/x"
	group := "$share/g" + uuid.NewString()[:8] + "/"

	var mu sync.Mutex
	got := map[string][]string{} // subscription name → payloads
	subscribe := func(name, filter string) {
		t.Helper()
		_, err := b.Subscribe(ctx, filter, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
			mu.Lock()
			got[name] = append(got[name], m.Topic[len(base):]+"="+string(m.Payload))
			mu.Unlock()
			return nil
		}))
		if err != nil {
			t.Fatalf("Subscribe %s: %v", filter, err)
		}
	}
	subscribe("plus", base+"/+")
	subscribe("hash", base+"/#")
	subscribe("exact3", base+"/3")
	subscribe("comma", base+"/1,2")                   // same server filter as "plus"
	subscribe("share1", group+base+"/+")              // one group, two members
	subscribe("share2", group+base+"/+")              //
	subscribe("filtered", "$filter/cid=7/"+base+"/+") // same server filter as "plus"

	const n = 5
	var want int
	for i := range n {
		for _, leaf := range []string{"1", "3"} {
			m := broker.Message{Topic: base + "/" + leaf, Payload: fmt.Appendf(nil, "%d", i), QoS: 1}
			if i%2 == 0 {
				m.Properties.UserProperties = []broker.UserProperty{{Key: "cid", Value: "7"}}
			}
			if err := b.Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	// plus 10, hash 10, exact3 5, comma 5, shares 10, filtered 6.
	want = 10 + 10 + 5 + 5 + 10 + 6
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		total := 0
		for _, v := range got {
			total += len(v)
		}
		mu.Unlock()
		if total >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let duplicates, if any, arrive

	mu.Lock()
	defer mu.Unlock()
	all := func(leaves ...string) []string {
		var out []string
		for i := range n {
			for _, l := range leaves {
				out = append(out, fmt.Sprintf("/%s=%d", l, i))
			}
		}
		sort.Strings(out)
		return out
	}
	check := func(name string, gotList, want []string) {
		t.Helper()
		sort.Strings(gotList)
		if fmt.Sprint(gotList) != fmt.Sprint(want) {
			t.Errorf("%s got %v, want %v", name, gotList, want)
		}
	}
	check("plus", got["plus"], all("1", "3"))
	check("hash", got["hash"], all("1", "3"))
	check("exact3", got["exact3"], all("3"))
	check("comma", got["comma"], all("1"))
	check("share group", append(append([]string(nil), got["share1"]...), got["share2"]...), all("1", "3"))
	check("filtered", got["filtered"], []string{"/1=0", "/1=2", "/1=4", "/3=0", "/3=2", "/3=4"})
}
