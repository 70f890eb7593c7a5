package wialonips_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// A 2.0 device logs in and sends an extended data packet (the spec's
// example); the decoder hands back the message and the answers.
func Example() {
	d := protocol.NewStreamDecoder(&wialonips.Codec{}, protocol.TCP, 0)
	stream := "#L#2.0;860000000000000;NA;46D4\r\n" +
		"#D#231012;153959;5354.49260;N;02731.44990;E;0;0;300;7;1.1;0;0;1,0,0,0;NA;" +
		"ign:1:1,dparam:2:3.14159265,tparam:3:lorem,iparam:1:-55,SOS:1:1;4BC3\r\n"
	err := d.Feed([]byte(stream), func(_ []byte, r *protocol.Result) error {
		for i := range r.Messages {
			fmt.Println(r.Messages[i].String())
		}
		fmt.Printf("reply %q\n", r.Reply)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// reply "#AL#1\r\n"
	// {"ident":"860000000000000","timestamp":1351006799,"position.latitude":53.90821,"position.longitude":27.524165,"position.speed":0,"position.direction":0,"position.altitude":300,"position.satellites":7,"position.hdop":1.1,"din":0,"dout":0,"ain#1":1,"ain#2":0,"ain#3":0,"ain#4":0,"engine.ignition.status":true,"custom.dparam":3.14159265,"custom.tparam":"lorem","custom.iparam":-55,"alarm.event.trigger":true}
	// reply "#AD#1\r\n"
}

// Commands go to the device through the session.
func ExampleSession_EncodeCommand() {
	d := protocol.NewStreamDecoder(&wialonips.Codec{}, protocol.TCP, 0)
	_ = d.Feed([]byte("#L#860000000000000;NA\r\n"), func([]byte, *protocol.Result) error { return nil })
	cmd, err := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Text: "Please call the office"})
	fmt.Printf("%q %v\n", cmd, err)
	// Output:
	// "#M#Please call the office\r\n" <nil>
}
