package wialonretranslator_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	wr "github.com/gnssgate/gnssgate/protocol/wialonretranslator"
)

// A Wialon server forwards a unit's message (the protocol document's
// example); the receiver decodes it and answers 0x11.
func Example() {
	pkt, _ := hex.DecodeString("74000000333533393736303133343435343835004b0bfb70000000030bbb000000270102706f73696e666f00a027afdf5d9848403ac7253383dd4b400000000000805a40003601460b0bbb0000001200047077725f657874002b8716d9ce973b400bbb00000011010361766c5f696e707574730000000001")
	d := protocol.NewStreamDecoder(&wr.Codec{}, protocol.TCP, 0)
	err := d.Feed(pkt, func(_ []byte, r *protocol.Result) error {
		fmt.Println(r.Messages[0].String())
		fmt.Printf("reply %x\n", r.Reply)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"ident":"353976013445485","timestamp":1259076464,"position.longitude":49.1903648,"position.latitude":55.7305664,"position.altitude":106,"position.speed":54,"position.direction":326,"position.satellites":11,"external.powersource.voltage":27.593,"din":1}
	// reply 11
}

// A stream encodes a message for a Wialon server: posinfo from the
// position, table rows to Wialon's blocks, the rest under their names.
func ExampleAppend() {
	var m protocol.Message
	m.SetString("ident", "356307042441013")
	m.SetInt("timestamp", 1700000000)
	m.SetFloat("position.latitude", 54.6872)
	m.SetFloat("position.longitude", 25.2797)
	m.SetFloat("position.altitude", 112)
	m.SetInt("position.speed", 63)
	m.SetInt("position.direction", 270)
	m.SetInt("position.satellites", 9)
	m.SetBool("engine.ignition.status", true)
	m.SetFloat("custom.fuel_lvl", 41.5)
	pkt, err := wr.Append(nil, &m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes\n", len(pkt))

	// A receiver decodes it back.
	var r protocol.Result
	if err := (&wr.Codec{}).NewSession(protocol.TCP).Decode(pkt, &r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Messages[0].String())
	// Output:
	// 114 bytes
	// {"ident":"356307042441013","timestamp":1700000000,"position.longitude":25.2797,"position.latitude":54.6872,"position.altitude":112,"position.speed":63,"position.direction":270,"position.satellites":9,"engine.ignition.status":true,"custom.fuel_lvl":41.5}
}
