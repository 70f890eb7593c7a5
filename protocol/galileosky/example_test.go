package galileosky_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/galileosky"
)

// A device sends its head packet and a main packet (both from the
// pikhovkin/galileosky test suite); each is confirmed with 0x02 and its
// checksum. Then the server sends a command.
func Example() {
	head, _ := hex.DecodeString("0117800182021003383632303537303437373435353331043200b548")
	main, _ := hex.DecodeString("01178004320020e17adf52300eac4f5e0340b610053300004604a2fe")
	d := protocol.NewStreamDecoder(&galileosky.Codec{}, protocol.TCP, 0)
	err := d.Feed(append(head, main...), func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			if lat, ok := m.Float(protocol.ParamLatitude); ok {
				lon, _ := m.Float(protocol.ParamLongitude)
				fmt.Printf("%s at %.6f %.6f\n", r.Ident, lat, lon)
			} else {
				fmt.Printf("%s head packet\n", r.Ident)
			}
		}
		fmt.Printf("reply %x\n", r.Reply)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{ID: 1, Text: "status"})
	fmt.Printf("command %x\n", cmd)
	// Output:
	// 862057047745531 head packet
	// reply 02b548
	// 862057047745531 at 56.512428 84.981312
	// reply 02a2fe
	// command 01200003383632303537303437373435353331043200e001000000e1067374617475732b8d
}
