package rest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/broker"
)

// A POST /mqtt/messages body is anyone's JSON: it becomes a message to
// publish or a clear error, never a panic, and what it becomes is valid.
func FuzzMQTTMessageInput(f *testing.F) {
	f.Add(`{"topic":"a/b","payload":"on","qos":1,"retained":true,"user_properties":{"k":"v"}}`)
	f.Add(`{"topic":"a","payload":{"speed":42},"content_type":"application/json","message_expiry_interval":60}`)
	f.Add(`{"topic":"a","payload_base64":"AP8=","correlation_data":"AQI=","response_topic":"r/1"}`)
	f.Add(`{"topic":"a/+","payload":"x"}`)
	f.Add(`{"topic":"a","payload":"x","payload_base64":"eA=="}`)
	f.Add(`{"topic":"","qos":3}`)
	f.Fuzz(func(t *testing.T, body string) {
		var in mqttMessageInput
		if decodeStrict([]byte(body), &in) != nil {
			return
		}
		m, err := in.message()
		if err != nil {
			return
		}
		if broker.ValidateTopic(m.Topic) != nil || m.QoS > 2 || m.Properties.Expiry < 0 {
			t.Fatalf("%q gave %+v", body, m)
		}
		var s string
		if json.Unmarshal(in.Payload, &s) == nil && string(m.Payload) != s {
			t.Fatalf("%q: payload %q, want %q", body, m.Payload, s)
		}
	})
}

// A session selector is client ids or a selector, never both.
func FuzzSessionSelector(f *testing.F) {
	for _, s := range []string{"car", "car,truck", "all", "client_id=car*", "{connected==false}", ",", "a,,b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sel string) {
		ids, plain := clientIDs(sel)
		if !plain {
			return
		}
		for _, id := range ids {
			if id == "" || id == "all" || strings.ContainsAny(id, ",={}*?!<>\"'") {
				t.Fatalf("%q gave client id %q", sel, id)
			}
		}
	})
}
