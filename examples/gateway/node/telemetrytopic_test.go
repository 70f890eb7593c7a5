package node

import "testing"

func TestTelemetryTopic(t *testing.T) {
	for topic, want := range map[string]bool{
		"flespi/state/gw/devices/7/telemetry/position.speed":              true,
		"flespi/state/gw/devices/7/telemetry/din%231":                     true,
		"$accounts/12/flespi/state/gw/devices/7/telemetry/position.speed": true,
		"flespi/state/gw/devices/7/settings/apn":                          false, // kept on disk: no other copy
		"flespi/state/gw/devices/7/telemetry/":                            false,
		"flespi/state/gw/devices/7/telemetry/a/b":                         false,
		"flespi/state/gw/devices/x/telemetry/a":                           false,
		"flespi/state/gw/devices//telemetry/a":                            false,
		"flespi/state/gw/channels/7/telemetry/a":                          false,
		"flespi/state/gw/devices/7/configuration":                         false,
		"$accounts//flespi/state/gw/devices/7/telemetry/a":                false,
		"$accounts/x/flespi/state/gw/devices/7/telemetry/a":               false,
		"other/flespi/state/gw/devices/7/telemetry/a":                     false, // a client's own topic
		"$accounts/12/other/flespi/state/gw/devices/7/telemetry/a":        false,
	} {
		if got := telemetryTopic(topic); got != want {
			t.Errorf("telemetryTopic(%q) = %v, want %v", topic, got, want)
		}
	}
}
