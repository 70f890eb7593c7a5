package arnavi_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/arnavi"
)

// An Arnavi 4 device sends its HEADER (version 0x22) and a PACKAGE with
// one record (a public capture); both are confirmed.
func Example() {
	header, _ := hex.DecodeString("ff22f30c45f5c90f0300")
	pkg, _ := hex.DecodeString("5b01013c00fd5aaa5a03958b5e42048fd51442050015770097db000000075fd69b130802fa00180900d0c564010f11ea3a5b070009015c00009c005d00008c00fa32010000a65d")

	d := protocol.NewStreamDecoder(&arnavi.Codec{}, protocol.TCP, 0)
	err := d.Feed(append(header, pkg...), func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			lat, _ := m.Float(protocol.ParamLatitude)
			lon, _ := m.Float(protocol.ParamLongitude)
			hdop, _ := m.Float(protocol.ParamHDOP)
			fmt.Printf("%s at %.5f %.5f, HDOP %.2f\n", m.Ident(), lat, lon, hdop)
		}
		fmt.Printf("reply %x\n", r.Reply)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// reply 7b00007d
	// 861785007918323 at 55.63631 37.20855, HDOP 2.19
	// reply 7b00017d
}
