package embedded_test

import (
	"context"
	"fmt"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
)

// Retained messages, administered per namespace: the root space's filter
// does not reach a namespace's topics, and a namespace sees its own
// without the prefix.
func ExampleServer_Retained() {
	srv := embedded.New(nil)
	defer srv.Close()
	ctx := context.Background()
	for topic, state := range map[string]string{
		"fleet/1/state":             "parked",
		"fleet/2/state":             "moving",
		"$accounts/7/fleet/1/state": "towed",
	} {
		srv.Publish(ctx, broker.Message{Topic: topic, Payload: []byte(state), QoS: 1, Retain: true})
	}

	root, _ := srv.Retained("", "fleet/+/state")
	for _, m := range root {
		fmt.Println(m.Topic, string(m.Payload))
	}
	sub, _ := srv.Retained("$accounts/7/", "#")
	fmt.Println("account 7:", sub[0].Topic, string(sub[0].Payload))

	deleted, _ := srv.DeleteRetained(ctx, "", "fleet/1/state", "fleet/9/state")
	left, _ := srv.Retained("", "#")
	fmt.Println("deleted", deleted, "left", len(left))
	// Output:
	// fleet/1/state parked
	// fleet/2/state moving
	// account 7: fleet/1/state towed
	// deleted [fleet/1/state] left 1
}
