package egts_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/egts"
)

// A terminal sends a record with a position (a public capture); the
// platform confirms the record with an EGTS_PT_RESPONSE.
func Example() {
	packet, _ := hex.DecodeString("0100020b004f00ae1101d24400ae1191af8304000202101800d9238213008dcea08070ec789338003c00000001008200001106001a740007020014050000180000041207000f000010000000130100001b0700010000af0f0000312a")

	d := protocol.NewStreamDecoder(&egts.Codec{}, protocol.TCP, 0)
	err := d.Feed(packet, func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			lat, _ := m.Float(protocol.ParamLatitude)
			lon, _ := m.Float(protocol.ParamLongitude)
			sats, _ := m.Int(protocol.ParamSatellites)
			fmt.Printf("%s at %.5f %.5f, %d satellites\n", m.Ident(), lat, lon, sats)
		}
		fmt.Printf("reply %x\n", r.Reply)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 295855 at 56.53365 85.02440, 7 satellites
	// reply 0100000b0010000100002eae110006000100000202000300ae11004dd5
}
