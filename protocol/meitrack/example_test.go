package meitrack_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/meitrack"
)

// A device sends a position report (the SOS example of the Meitrack T622
// GPRS protocol document, §3.16); the server then asks for its location
// (A10) and gets the answer with the command's ID.
func Example() {
	report := "$$G127,353358017784062,AAA,1,22.538169,114.075958,100313095653,A,3,21,4,46,5,581,0,148,0|0|10133|4172,0000,166|204|205|2709|878,*77\r\n"
	d := protocol.NewStreamDecoder(&meitrack.Codec{}, protocol.TCP, 0)
	show := func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			lat, _ := m.Float(protocol.ParamLatitude)
			lon, _ := m.Float(protocol.ParamLongitude)
			sos, _ := m.Bool("sos.event.trigger")
			fmt.Printf("%s at %.6f %.6f, SOS %v\n", m.Ident(), lat, lon, sos)
		}
		for _, resp := range r.Responses {
			fmt.Printf("answer to command %d: %.20s…\n", resp.ID, resp.Text)
		}
		return nil
	}
	if err := d.Feed([]byte(report), show); err != nil {
		fmt.Println(err)
	}

	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{ID: 7, Text: "A10"})
	fmt.Printf("command %q\n", cmd)

	answer := meitrack.AppendFrame(nil, '$', cmd[2], "353358017784062", []byte("AAA"),
		[]byte("34,22.543176,114.078448,100313093738,A,5,22,2,205,5,-14,0,60,0|0|10133|4110,0000,149|153|173|2707|914,"))
	if err := d.Feed(answer, show); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 353358017784062 at 22.538169 114.075958, SOS true
	// command "@@A25,353358017784062,A10*5A\r\n"
	// 353358017784062 at 22.543176 114.078448, SOS false
	// answer to command 7: AAA,34,22.543176,114…
}
