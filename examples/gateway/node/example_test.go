package node_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/protocol"
)

// The whole gateway inside a Go program: a Teltonika channel, the REST
// API, the store in memory. A tracker logs in and sends one record; the
// device is registered on its first message and its history is on REST.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := node.New(ctx, node.Config{
		HTTP:        node.Listen{Addr: "127.0.0.1:0"},
		MasterToken: "example-master-token-0123",
		Channels: []node.ChannelSpec{{Name: "trackers", Protocol: "teltonika",
			TCP: node.Listen{Addr: "127.0.0.1:0"}}},
		ExplicitChannels: true,
		Codecs: func(name string, lenient bool) (protocol.Codec, bool) {
			return codecs.New(name, codecs.Options{Lenient: lenient})
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer n.Close()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	<-n.Ready()

	// A tracker: IMEI login, then one AVL record (the README's bytes).
	id, _ := n.Registry.Channels.Lookup("name=trackers")
	conn, err := net.Dial("tcp", n.Addrs().Channels[id][0])
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	for _, frame := range []string{"000f333536333037303432343431303133",
		"000000000000003608010000016b40d8ea30010000000000000000000000000000000105021503010101425e0f01f10000601a014e0000000000000000010000c7cf"} {
		b, _ := hex.DecodeString(frame)
		conn.Write(b)
		reply := make([]byte, 4)
		n, _ := conn.Read(reply)
		fmt.Printf("tracker got %x\n", reply[:n])
	}

	// History over REST, once the history writer has it.
	get := func(path string) string {
		req, _ := http.NewRequest("GET", "http://"+n.Addrs().HTTP+path, nil)
		req.Header.Set("Authorization", "FlespiToken example-master-token-0123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	path := "/gw/devices/configuration.ident=356307042441013/messages?data=" +
		url.QueryEscape(`{"fields":"ident,timestamp,channel.id"}`)
	for range 100 {
		if out := get(path); out != `{"result":[]}` {
			fmt.Println(out)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	// Output:
	// tracker got 01
	// tracker got 00000001
	// {"result":[{"ident":"356307042441013","timestamp":1560161086,"channel.id":1}]}
}
