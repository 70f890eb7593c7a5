package fleet_test

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/simulator/fleet"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/store/memory"
)

// Three Teltonika devices against a channel that stores into memory:
// every record is acknowledged, and so stored.
func ExampleRun() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := memory.New(nil)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &channel.Server{Codec: &teltonika.Codec{}, Handler: channel.LogHandler(st.Log())}
	go srv.Serve(ctx, ln)

	var acked atomic.Int64 // OnAck runs on the devices' goroutines
	sum, err := fleet.Run(ctx, fleet.Config{
		Addr: ln.Addr().String(), Devices: 3, Rate: 5, Records: 2, Duration: time.Second,
		OnAck: func(a fleet.Ack) { acked.Add(int64(len(a.Points))) },
	})
	fmt.Println(err, sum.OK(), sum.Connected, sum.Acked == sum.Generated, sum.Acked == acked.Load())
	stats, _ := st.Log().Stats(ctx)
	fmt.Println("in the log:", stats.Count >= sum.Acked)
	// Output:
	// <nil> true 3 true true
	// in the log: true
}
