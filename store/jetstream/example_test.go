package jetstream_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/jetstream"
)

// Two gateway nodes open the same store: what one appends, the other reads,
// with the same sequence numbers and the same log identity.
func Example() {
	ctx := context.Background()
	const url = "nats://127.0.0.1:4222"
	a, err := jetstream.Dial(ctx, url, &jetstream.Options{Name: "fleet"})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	b, err := jetstream.Dial(ctx, url, &jetstream.Options{Name: "fleet"})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	var m protocol.Message
	m.SetString(protocol.ParamIdent, "356307042441013")
	m.SetFloat(protocol.ParamTimestamp, 1.7e9)
	first, err := a.Log().Append(ctx, []protocol.Message{m})
	if err != nil {
		log.Fatal(err) // not acknowledged: the tracker will resend
	}
	last, _ := b.Log().Wait(ctx, first-1) // wakes when the record is stored
	recs, _ := b.Log().Read(ctx, first, 10)
	fmt.Println(last >= first, recs[0].Message.Ident())
	// A consumer guarded by a lease commits with its fencing token.
	var token uint64 = 42 // from examples/gateway/cluster: lease.Token()
	if err := b.Log().(jetstream.Fenced).CommitFenced(ctx, "stream-7", first+1, token); err != nil {
		log.Fatal(err)
	}
}
