package jt808_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/jt808"
)

// A terminal registers, then reports its location (both frames from public
// captures). Each is answered: 0x8100 with the authentication code, then
// the platform general response 0x8001.
func Example() {
	register, _ := hex.DecodeString("7e01000021013345678906000f002c012f373031313142534a2d4d3742203030303030303001d4c1423838383838b47e")
	location, _ := hex.DecodeString("7e0200007a0133061391970804" +
		"00000000000c000302315c4406f57bd40020000000c62305010000340104000014bf0202000003020000140480000000150400000000160400000000170200002504000000002b040000000030011c310117eb17000800233037392e3330000300d400000600f880000000ef0d00000048000049249200001103" +
		"df7e")

	codec := &jt808.Codec{AuthCode: func(ident string) string { return "secret" }}
	for _, frame := range [][]byte{register, location} {
		d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
		err := d.Feed(frame, func(_ []byte, r *protocol.Result) error {
			for _, m := range r.Messages {
				if lat, ok := m.Float(protocol.ParamLatitude); ok {
					lon, _ := m.Float(protocol.ParamLongitude)
					fmt.Printf("%s at %.6f %.6f\n", m.Ident(), lat, lon)
				} else {
					model, _ := m.Str("device.model")
					fmt.Printf("%s registered, model %s\n", m.Ident(), model)
				}
			}
			fmt.Printf("reply %x\n", r.Reply)
			return nil
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// 13345678906 registered, model BSJ-M7B
	// reply 7e810000090133456789060001000f007365637265740f7e
	// 13306139197 at 36.789316 116.751316
	// reply 7e8001000501330613919700010804020000aa7e
}
