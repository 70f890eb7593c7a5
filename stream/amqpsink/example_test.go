package amqpsink_test

import (
	"context"
	"log"

	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/amqpsink"
)

// A stream publishes a log's messages to a RabbitMQ topic exchange, one
// routing key per device; a message is removed from the stream's queue
// when the broker confirms it. (Needs a broker on 127.0.0.1:5672 with an
// exchange "fleet", so it has no Output.)
func Example() {
	sink, err := amqpsink.New(&amqpsink.Config{
		URL:        "amqp://guest:guest@127.0.0.1:5672/",
		Exchange:   "fleet",
		RoutingKey: "messages.%ident%",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sink.Close()

	db := memory.New(nil) // store/pebble in production: the queue survives restarts
	s, err := stream.New(db.Log(), sink, &stream.Config{Name: "rabbit"})
	if err != nil {
		log.Fatal(err)
	}
	// Run forwards until ctx ends; a broker that is down is retried, and
	// a message it refuses (nacked, or returned: no queue bound for its
	// key) goes to the stream's reject policy.
	if err := s.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}
