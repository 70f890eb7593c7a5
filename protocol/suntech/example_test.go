package suntech_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/suntech"
)

// An ST300 sends a status report over UDP (a Traccar capture) and gets the
// acknowledgement the manual prescribes; the server then asks for its
// status and the device answers.
func Example() {
	report := "ST300STT;007238270;40;313;20190220;12:05:04;c99e48;+04.644623;-074.076922;010.390;202.77;20;1;997100;14.10;100000;2;8384;003634;4.1;1\r"
	d := protocol.NewStreamDecoder(&suntech.Codec{}, protocol.UDP, 0)
	show := func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			if lat, ok := m.Float(protocol.ParamLatitude); ok {
				lon, _ := m.Float(protocol.ParamLongitude)
				speed, _ := m.Float(protocol.ParamSpeed)
				fmt.Printf("%s at %.6f %.6f, %.2f km/h\n", m.Ident(), lat, lon, speed)
			}
		}
		for _, resp := range r.Responses {
			fmt.Printf("answer %q\n", resp.Text)
		}
		if len(r.Reply) > 0 {
			fmt.Printf("reply %q\n", r.Reply)
		}
		return nil
	}
	if err := d.Feed([]byte(report), show); err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Text: "Disable1"})
	fmt.Printf("command %q\n", cmd)
	if err := d.Feed([]byte("ST300CMD;Res;007238270;313;Disable1\r"), show); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 007238270 at 4.644623 -74.076922, 10.39 km/h
	// reply "ST300ACK;007238270"
	// command "ST300CMD;007238270;02;Disable1\r"
	// answer "Disable1"
}
