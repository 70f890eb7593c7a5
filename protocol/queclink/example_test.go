package queclink_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/queclink"
)

// A GL300 sends a heartbeat and a report with two fixes (the GL300 @Track
// document's examples); the heartbeat is answered, and each fix is a
// message.
func Example() {
	d := protocol.NewStreamDecoder(&queclink.Codec{}, protocol.TCP, 0)
	stream := "+ACK:GTHBD,1A0102,135790246811220,,20100214093254,11F0$" +
		"+RESP:GTFRI,1A0102,135790246811220,,0,0,2,1,4.3,92,70.0,121.354335,31.222073,20090214013254,0460,0000,18d8,6141,00," +
		"0,4.3,92,70.0,121.354335,31.222073,20090101000000,0460,0000,18d8,6141,00,,20090214093254,11F0$"
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
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{ID: 0x12, Name: queclink.CommandPosition})
	fmt.Printf("command %s\n", cmd)
	// Output:
	// reply "+SACK:GTHBD,1A0102,11F0$"
	// {"ident":"135790246811220","timestamp":1234575174,"position.latitude":31.222073,"position.longitude":121.354335,"position.speed":4.3,"position.direction":92,"position.altitude":70,"position.valid":true,"position.hdop":1,"gsm.mcc":460,"gsm.mnc":0,"gsm.lac":6360,"gsm.cellid":24897,"custom.send.timestamp":1234603974,"record.seqnum":4592,"custom.protocol.version":"1A0102","device.model":"GL300","custom.packet.type":"GTFRI"}
	// {"ident":"135790246811220","timestamp":1230768000,"position.latitude":31.222073,"position.longitude":121.354335,"position.speed":4.3,"position.direction":92,"position.altitude":70,"position.valid":false,"gsm.mcc":460,"gsm.mnc":0,"gsm.lac":6360,"gsm.cellid":24897,"custom.report.fix.count":2,"custom.report.id":0,"custom.report.type":0,"custom.send.timestamp":1234603974,"record.seqnum":4592,"custom.protocol.version":"1A0102","device.model":"GL300","custom.packet.type":"GTFRI"}
	// command AT+GTRTO=gl300,1,,,,,,0012$
}
