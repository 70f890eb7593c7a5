package tk103_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/tk103"
)

// A TK103 tracker shakes hands, logs in and reports (real captures); the
// decoder answers the handshake and the log-in.
func Example() {
	d := protocol.NewStreamDecoder(&tk103.Codec{}, protocol.TCP, 0)
	stream := "(088046338039BP00088046338039HSO)\r\n" +
		"(088046338039BP05000088046338039160727A3354.7768N03540.7258E000.0140309065.1000000000L00BEB0D4+017.3)\r\n" +
		"(088046338039BR00160727A3354.7768N03540.7258E000.0140832068.4700000000L00BEB0D4+017.7)\r\n"
	err := d.Feed([]byte(stream), func(_ []byte, r *protocol.Result) error {
		for i := range r.Messages {
			m := &r.Messages[i]
			lat, _ := m.Float(protocol.ParamLatitude)
			lon, _ := m.Float(protocol.ParamLongitude)
			km, _ := m.Float("vehicle.mileage")
			fmt.Printf("%s %.5f %.5f %.3f km\n", m.Ident(), lat, lon, km)
		}
		if len(r.Reply) > 0 {
			fmt.Printf("reply %s\n", r.Reply)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Name: tk103.CommandPeriodic, Text: "60"})
	fmt.Printf("command %s\n", cmd)
	// Output:
	// reply (088046338039AP01HSO)
	// 088046338039 33.91295 35.67876 12497.108 km
	// reply (088046338039AP05)
	// 088046338039 33.91295 35.67876 12497.108 km
	// command (088046338039AR00003C0000)
}
