package watch_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/watch"
)

// A watch keeps its link (the protocol document's example), sends an SOS
// alarm with its cells (a Traccar capture), is answered both times, then
// is asked for its position.
func Example() {
	d := protocol.NewStreamDecoder(&watch.Codec{}, protocol.TCP, 0)
	show := func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			sos, _ := m.Bool("sos.event.trigger")
			battery, _ := m.Int("battery.level")
			fmt.Printf("%s: battery %d%%, SOS %v\n", m.Ident(), battery, sos)
		}
		fmt.Printf("reply %s\n", r.Reply)
		return nil
	}
	frames := "[SG*8800000015*000D*LK,50,100,100]" +
		"[3G*8809008845*00C0*AL,271219,094744,V,00.000000,N, 0.0000000,E,0.00,0.0,0.0,0,100,81,0,0,00010000,7,0,460,0,9336,3981,141,9336,3912,141,9336,3982,140,9765,4233,134,9765,4071,134,9765,4321,134,9336,4353,132,0,0.0]"
	if err := d.Feed([]byte(frames), show); err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Text: "CR"})
	fmt.Printf("command %s\n", cmd)
	// Output:
	// 8800000015: battery 100%, SOS false
	// reply [SG*8800000015*0002*LK]
	// 8809008845: battery 81%, SOS true
	// reply [3G*8809008845*0002*AL]
	// command [SG*8809008845*0002*CR]
}
