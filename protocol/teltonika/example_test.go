package teltonika_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// A device logs in with its IMEI and sends one Codec 8 record (the wiki's
// example): the stream decoder frames, decodes and hands over the reply
// to send once the messages are stored.
func Example() {
	login, _ := hex.DecodeString("000f333536333037303432343431303133")
	record, _ := hex.DecodeString("000000000000003608010000016b40d8ea30010000000000000000000000000000000105021503010101425e0f01f10000601a014e0000000000000000010000c7cf")

	d := protocol.NewStreamDecoder(&teltonika.Codec{}, protocol.TCP, 0)
	show := func(_ []byte, r *protocol.Result) error {
		for i := range r.Messages {
			fmt.Println(r.Messages[i].String())
		}
		fmt.Printf("reply %x\n", r.Reply)
		return nil
	}
	if err := d.Feed(login, show); err != nil {
		fmt.Println(err)
	}
	if err := d.Feed(record, show); err != nil {
		fmt.Println(err)
	}
	// Output:
	// reply 01
	// {"ident":"356307042441013","timestamp":1560161086,"position.latitude":0,"position.longitude":0,"position.altitude":0,"position.direction":0,"position.speed":0,"position.satellites":0,"position.valid":false,"event.priority.enum":1,"event.enum":1,"gsm.signal.level":3,"din#1":true,"external.powersource.voltage":24.079,"gsm.operator.code":"24602","ibutton.code":"0000000000000000"}
	// reply 00000001
}

// A server sends getinfo as a Codec 12 command and reads the device's
// answer from Result.Responses.
func ExampleSession_EncodeCommand() {
	codec := &teltonika.Codec{}
	s := codec.NewSession(protocol.TCP).(*teltonika.Session)
	cmd, err := s.EncodeCommand(nil, protocol.Command{Text: "getinfo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("command %x\n", cmd)

	// The answer from the wiki's getio example.
	answer, _ := hex.DecodeString("00000000000000370c01060000002f4449313a31204449323a30204449333a302041494e313a302041494e323a313639323420444f313a3020444f323a3101000066e3")
	var r protocol.Result
	if err := s.Decode(answer, &r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("answer %q, reply %d bytes\n", r.Responses[0].Text, len(r.Reply))
	// Output:
	// command 000000000000000f0c010500000007676574696e666f0100004312
	// answer "DI1:1 DI2:0 DI3:0 AIN1:0 AIN2:16924 DO1:0 DO2:1", reply 0 bytes
}

// Over UDP each datagram carries the IMEI and is acknowledged with its
// packet id and AVL packet id.
func ExampleCodec_udp() {
	dgram, _ := hex.DecodeString("003dcafe0105000f33353230393330383634303336353508010000016b4f815b30010000000000000000000000000000000103021503010101425dbc000001")
	s := (&teltonika.Codec{}).NewSession(protocol.UDP)
	var r protocol.Result
	if err := s.Decode(dgram, &r); err != nil {
		fmt.Println(err)
		return
	}
	ext, _ := r.Messages[0].Float("external.powersource.voltage")
	fmt.Printf("%s %d record(s), external power %.3f V, reply %x\n", r.Ident, len(r.Messages), ext, r.Reply)
	// Output:
	// 352093086403655 1 record(s), external power 23.996 V, reply 0005cafe010501
}
