package gps103_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/gps103"
)

// A Coban tracker logs on, sends a heartbeat and a report (the Coban
// protocol document's examples); the decoder answers LOAD and ON.
func Example() {
	d := protocol.NewStreamDecoder(&gps103.Codec{}, protocol.TCP, 0)
	stream := "##,imei:359586015829802,A;359586015829802;" +
		"imei:359586015829802,tracker,0809231929,13554900601,F,112909.397,A,2234.4669,N,11354.3287,E,0.11,;"
	err := d.Feed([]byte(stream), func(_ []byte, r *protocol.Result) error {
		for i := range r.Messages {
			fmt.Println(r.Messages[i].String())
		}
		if len(r.Reply) > 0 {
			fmt.Printf("reply %q\n", r.Reply)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Name: gps103.CommandPeriodic, Text: "60"})
	fmt.Printf("command %s\n", cmd)
	// Output:
	// reply "LOAD"
	// reply "ON"
	// {"ident":"359586015829802","timestamp":1222169349.397,"position.latitude":22.574448333333333,"position.longitude":113.90547833333333,"position.speed":0.20372,"position.valid":true,"custom.phone":"13554900601","custom.packet.type":"tracker"}
	// command **,imei:359586015829802,C,01m;
}
