package embedded_test

import (
	"context"
	"fmt"
	"net"

	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/broker/embedded"
)

// MQTT over WebSocket on a listener of its own: each connection answers
// its upgrade request itself (wrap ln in tls.NewListener for wss://).
func ExampleServer_ServeWebSocket() {
	srv := embedded.New(&embedded.Config{AllowAnonymous: true})
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.ServeWebSocket(context.Background(), ln)

	d := websocket.Dialer{Subprotocols: []string{"mqtt"}}
	ws, resp, err := d.Dial("ws://"+ln.Addr().String()+"/mqtt", nil)
	if err != nil {
		panic(err)
	}
	defer ws.Close()
	fmt.Println("subprotocol", resp.Header.Get("Sec-WebSocket-Protocol"))
	// An MQTT 3.1.1 CONNECT for client "ex", in one binary message.
	ws.WriteMessage(websocket.BinaryMessage, []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 2, 'e', 'x'})
	_, connack, _ := ws.ReadMessage()
	fmt.Printf("CONNACK % x\n", connack)
	// Output:
	// subprotocol mqtt
	// CONNACK 20 02 00 00
}
