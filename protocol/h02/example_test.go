package h02_test

import (
	"fmt"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/h02"
)

// A tracker whose clock runs on Beijing time (UTC+8) sends a V1 report;
// the codec takes the offset off and answers with the UTC time.
func Example() {
	codec := &h02.Codec{
		UTCOffset: 8 * time.Hour,
		Now:       func() time.Time { return time.Date(2026, 11, 22, 10, 15, 4, 0, time.UTC) },
	}
	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
	frame := "*HQ,4103000861,V1,172853,A,2234.2029,N,11351.4197,E,000.40,000,270215,FFFFFBFF,460,00,0,0,6#"
	err := d.Feed([]byte(frame), func(_ []byte, r *protocol.Result) error {
		m := &r.Messages[0]
		ts, _ := m.Timestamp()
		lat, _ := m.Float(protocol.ParamLatitude)
		lon, _ := m.Float(protocol.ParamLongitude)
		fmt.Println(m.Ident(), time.Unix(int64(ts), 0).UTC().Format(time.RFC3339), lat, lon)
		fmt.Printf("reply %s\n", r.Reply)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	cmd, _ := d.Session().(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Name: h02.CommandEngineStop})
	fmt.Printf("command %s\n", cmd)
	// Output:
	// 4103000861 2015-02-27T09:28:53Z 22.570048333333332 113.856995
	// reply *HQ,4103000861,V4,V1,20261122101504#
	// command *HQ,4103000861,S20,101504,1,1#
}
