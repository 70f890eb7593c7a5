package ruptela_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/ruptela"
)

// A device answers an SMS command sent over GPRS (a Traccar capture): the
// answer is a message and a response; then the server sends a command.
func Example() {
	answer, _ := hex.DecodeString("0044000313612d76c5cb0744494e313d312c44494e323d302c44494e333d302c44494e343d302c444f5554313d312c444f5554323d312c41494e313d31372c41494e323d3236ac80")
	d := protocol.NewStreamDecoder(&ruptela.Codec{}, protocol.TCP, 0)
	err := d.Feed(answer, func(_ []byte, r *protocol.Result) error {
		for _, m := range r.Messages {
			text, _ := m.Str(protocol.ParamCommandResponse)
			fmt.Printf("%s answered %q\n", m.Ident(), text)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Text: " Setio 2,1"})
	fmt.Printf("command %x\n", cmd)
	// Output:
	// 865733025646027 answered "DIN1=1,DIN2=0,DIN3=0,DIN4=0,DOUT1=1,DOUT2=1,AIN1=17,AIN2=26"
	// command 000b6c20536574696f20322c31eb3e
}
