package gt06_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/gt06"
)

// A device logs in, then sends a location packet (both from public GT06
// test captures). The login is acknowledged; the location needs no reply.
func Example() {
	login, _ := hex.DecodeString("78780d01012345678901234500018cdd0d0a")
	location, _ := hex.DecodeString("78781f1211071403362aca0543ec4f00ff976e021549010603e6b500e7590074763d0d0a")

	d := protocol.NewStreamDecoder(&gt06.Codec{}, protocol.TCP, 0)
	err := d.Feed(append(login, location...), func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			lat, ok := m.Float(protocol.ParamLatitude)
			lon, _ := m.Float(protocol.ParamLongitude)
			if ok {
				fmt.Printf("%s at %.6f %.6f\n", m.Ident(), lat, lon)
			} else {
				fmt.Printf("%s logged in\n", m.Ident())
			}
		}
		if len(r.Reply) > 0 {
			fmt.Printf("reply %x\n", r.Reply)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}

	// A command; the device's answer (0x15/0x21) carries the same ID.
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{ID: 1, Text: "WHERE#"})
	fmt.Printf("command %x\n", cmd)
	// Output:
	// 123456789012345 logged in
	// reply 787805010001d9dc0d0a
	// 123456789012345 at 49.076382 9.305803
	// command 787810800a000000015748455245230001389f0d0a
}
