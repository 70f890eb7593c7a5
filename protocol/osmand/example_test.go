package osmand_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/osmand"
)

// The HTTP channel serves the protocol: OsmAnd or Traccar Client sends its
// position as a query (the documentation's second example) and gets 200
// once the handler has stored it.
func Example() {
	ch := &channel.HTTP{
		Decoder: &osmand.Codec{},
		Handler: channel.HandlerFunc(func(_ context.Context, _ *channel.Conn, msgs []protocol.Message) error {
			for _, m := range msgs {
				lat, _ := m.Float(protocol.ParamLatitude)
				lon, _ := m.Float(protocol.ParamLongitude)
				speed, _ := m.Float(protocol.ParamSpeed)
				fmt.Printf("%s at %.4f %.4f, %.2f km/h\n", m.Ident(), lat, lon, speed)
			}
			return nil // stored: the client gets 200
		}),
	}
	srv := httptest.NewServer(ch)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/?deviceid=12345&lat=48.8566&lon=2.3522&timestamp=2021-01-01T00:00:00Z&speed=15&bearing=270")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 12345 at 48.8566 2.3522, 27.78 km/h
	// 200
}

// ReadRequest decodes a raw request, as the decode tool's -http flag does.
func ExampleCodec_ReadRequest() {
	body := `{"location":{"timestamp":"2025-06-15T13:45:12Z","coords":{"latitude":37.42,"longitude":-122.08}},"device_id":"7"}`
	raw := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	msgs, err := (&osmand.Codec{}).ReadRequest(strings.NewReader(raw))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msgs[0].String())
	// Output:
	// {"ident":"7","timestamp":1749995112,"position.latitude":37.42,"position.longitude":-122.08,"position.valid":true}
}
