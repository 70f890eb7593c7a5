package cluster_test

import (
	"context"
	"log"

	"github.com/nats-io/nats.go"

	"github.com/gnssgate/gnssgate/examples/gateway/cluster"
)

// Each node runs a stream only while it holds the stream's lease; when the
// holder dies, another node's Acquire returns within the TTL.
func Example() {
	ctx := context.Background()
	nc, err := nats.Connect("nats://127.0.0.1:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	e, err := cluster.NewNATS(ctx, nc, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	lease, err := e.Acquire(ctx, "stream-7")
	if err != nil {
		log.Fatal(err)
	}
	work, stop := context.WithCancel(ctx)
	go func() {
		<-lease.Lost() // renewal failed, taken over, or released: stop now
		stop()
	}()
	// Run the stream until work ends, committing its cursor with
	// CommitFenced(ctx, "stream-7", next, lease.Token()) (store/jetstream).
	<-work.Done()
}
