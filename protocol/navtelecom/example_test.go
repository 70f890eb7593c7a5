package navtelecom_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/navtelecom"
)

// A device's handshake, its FLEX 2.0 negotiation and an out-of-turn
// record (a public capture), each answered.
func Example() {
	var stream []byte
	for _, h := range []string{
		"404e544301000000c9b5f602130046c52a3e533a383639363936303439373232383235",
		"404e544301000000a9eef6021a003f8e2a3e464c4558b014147afffff008080800000e00000000000000",
		"7e5428000000280000002111d16b435c00a900154bd16b435ce19e030259f6920133050000b7623e429300c9e7f03f2ba45a3e1f001f007b6c5910850f0100001629080a000000000000060947",
	} {
		b, _ := hex.DecodeString(h)
		stream = append(stream, b...)
	}
	d := protocol.NewStreamDecoder(&navtelecom.Codec{}, protocol.TCP, 0)
	err := d.Feed(stream, func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			lat, _ := m.Float(protocol.ParamLatitude)
			lon, _ := m.Float(protocol.ParamLongitude)
			fmt.Printf("%s at %.5f %.5f\n", m.Ident(), lat, lon)
		}
		fmt.Printf("reply %x\n", r.Reply)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// reply 404e5443c9b5f60201000000030045d62a3c53
	// reply 404e5443a9eef602010000000900b1132a3c464c4558b01414
	// 869696049722825 at 56.31952 44.01423
	// reply 7e542800000075
}
