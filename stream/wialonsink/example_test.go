package wialonsink_test

import (
	"context"
	"fmt"
	"net"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/wialonretranslator"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/wialonsink"
)

// A stream forwards a log's messages to a Wialon server. Here the server
// is a few lines of the codec: it decodes each packet and answers 0x11.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	got := make(chan string)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		d := protocol.NewStreamDecoder(&wialonretranslator.Codec{}, protocol.TCP, 0)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			d.Feed(buf[:n], func(_ []byte, r *protocol.Result) error {
				got <- r.Messages[0].String()
				_, err := conn.Write(r.Reply) // 0x11
				return err
			})
		}
	}()

	log := memory.New(nil).Log()
	var m protocol.Message
	m.SetString("ident", "356307042441013")
	m.SetInt("timestamp", 1700000000)
	m.SetFloat("position.latitude", 54.6872)
	m.SetFloat("position.longitude", 25.2797)
	m.SetInt("position.speed", 42)
	m.SetFloat("external.powersource.voltage", 12.6)
	log.Append(context.Background(), []protocol.Message{m})

	sink, err := wialonsink.New(&wialonsink.Config{Addr: ln.Addr().String()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sink.Close()
	s, err := stream.New(log, sink, &stream.Config{Name: "wialon", StartAt: stream.StartOldest})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	fmt.Println(<-got)
	// Output:
	// {"ident":"356307042441013","timestamp":1700000000,"position.longitude":25.2797,"position.latitude":54.6872,"position.altitude":0,"position.speed":42,"position.direction":0,"position.satellites":0,"external.powersource.voltage":12.6}
}
