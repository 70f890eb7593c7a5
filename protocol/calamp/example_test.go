package calamp_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/calamp"
)

// An LMU sends an event report over UDP with the acknowledged service (a
// Traccar capture) and gets its ACK; then the server sends text to the
// device on the unit's serial port, and the unit acknowledges it.
func Example() {
	report, _ := hex.DecodeString("8308352648068863398f01070102039c5cfc4dcd5cfc4dcd19913f5dcce1291e000033fa0000005801110800019aff9d6f0e13003e0b02000000000000000000")
	d := protocol.NewStreamDecoder(&calamp.Codec{}, protocol.UDP, 0)
	show := func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			if lat, ok := m.Float(protocol.ParamLatitude); ok {
				lon, _ := m.Float(protocol.ParamLongitude)
				event, _ := m.Int("event.enum")
				fmt.Printf("%s at %.7f %.7f, event %d\n", m.Ident(), lat, lon, event)
			}
		}
		for _, resp := range r.Responses {
			fmt.Printf("answer to command %d: %s\n", resp.ID, resp.Text)
		}
		if len(r.Reply) > 0 {
			fmt.Printf("reply %x\n", r.Reply)
		}
		return nil
	}
	if err := d.Feed(report, show); err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{ID: 7, Text: "$PING"})
	fmt.Printf("command %x\n", cmd)
	ack, _ := hex.DecodeString("02010001040000000000") // service 2, ACK, sequence 1, user message, code 0
	if err := d.Feed(ack, show); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 352648068863398 at 42.8949341 -85.7659106, event 11
	// reply 0201039c020000000000
	// command 01040001000000052450494e47
	// answer to command 7: ACK
}
