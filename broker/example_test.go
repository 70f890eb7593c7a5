package broker_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/broker"
)

func ExampleMatchTopic() {
	fmt.Println(broker.MatchTopic("flespi/state/gw/devices/+/telemetry/#", "flespi/state/gw/devices/7/telemetry/position.speed"))
	fmt.Println(broker.MatchTopic("#", "$SYS/broker/uptime"))
	// Output:
	// true
	// false
}

func ExampleParseFilter() {
	f, err := broker.ParseFilter("$share/by_device:4:1/flespi/state/gw/devices/1,2,3/telemetry/+")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Topic())
	fmt.Println(f.MQTTTopic())
	fmt.Println(f.Match("flespi/state/gw/devices/2/telemetry/position.speed"))
	fmt.Println(f.Match("flespi/state/gw/devices/4/telemetry/position.speed"))
	sh := f.Share()
	fmt.Println(sh.Group, sh.From, sh.Count)
	// The same device always goes to the same one of 3 members.
	a := sh.Pick("flespi/state/gw/devices/2/telemetry/position.speed", 3)
	b := sh.Pick("flespi/state/gw/devices/2/telemetry/battery.voltage", 3)
	fmt.Println(a == b)
	// Output:
	// flespi/state/gw/devices/1,2,3/telemetry/+
	// flespi/state/gw/devices/+/telemetry/+
	// true
	// false
	// by_device 4 1
	// true
}
