package device_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/store/memory"
)

// Conn logs in and sends points to a real channel, each acknowledged, for
// every protocol.
func TestConnAgainstAChannel(t *testing.T) {
	for _, proto := range device.Protocols() {
		t.Run(proto, func(t *testing.T) {
			codec, _ := codecs.New(proto, codecs.Options{})
			st := memory.New(nil)
			defer st.Close()
			srv := &channel.Server{Codec: codec, Handler: channel.LogHandler(st.Log())}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go srv.Serve(ctx, ln)
			c, err := device.Dial(ctx, proto, device.IMEI(35630704249000), ln.Addr().String(), device.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			trk := device.NewTrack(1, 1, device.Area{}, zero)
			for i := range 3 {
				if err := c.Send(trk.At(trk.Start().Add(timeStep(i)))); err != nil {
					t.Fatalf("point %d: %v", i, err)
				}
			}
			st2, _ := st.Log().Stats(ctx)
			if st2.Count < 3 {
				t.Fatalf("the log holds %d messages, want at least 3", st2.Count)
			}
		})
	}
}

var zero = time.Unix(1_800_000_000, 0)

func timeStep(i int) time.Duration { return time.Duration(i+1) * 10 * time.Second }
