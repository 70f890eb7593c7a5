package channel_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// A Teltonika device logs in with its IMEI, sends one Codec 8 record, and
// gets its ACK (the number of records) because the handler accepted it.
func Example_gateway() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &channel.Server{Codec: &teltonika.Codec{},
		Handler: channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
			for _, m := range msgs {
				lat, _ := m.Float("position.latitude")
				lon, _ := m.Float("position.longitude")
				fmt.Println(c.Ident(), lat, lon)
			}
			return nil // nil: the messages are stored, the device gets its ACK
		})}
	go srv.Serve(ctx, ln)
	defer srv.Close()

	dev, _ := net.Dial("tcp", ln.Addr().String())
	defer dev.Close()
	dev.Write(unhex("000f333536333037303432343431303133")) // IMEI 356307042441013
	fmt.Printf("login % x\n", readN(dev, 1))
	dev.Write(unhex("000000000000003008010000019078358db0011941b81a1941b81a02db0106050000ef0603ef01f00101000342314a43103109002b0000010000c897"))
	fmt.Printf("ack % x\n", readN(dev, 4))
	// Output:
	// login 01
	// 356307042441013 42.373737 42.373737
	// ack 00 00 00 01
}

func unhex(s string) []byte { b, _ := hex.DecodeString(s); return b }

func readN(c net.Conn, n int) []byte {
	b := make([]byte, n)
	io.ReadFull(c, b)
	return b
}
