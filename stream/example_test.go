package stream_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
)

// A stream forwards the log's messages of one device that pass
// validate_message, with the parameters Convert keeps, to a sink: here a
// function that prints what it is given (httpsink, mqttsink, wialonsink
// and amqpsink are the real targets). The cursor commits only what the
// sink accepted, so a restarted program resumes after it.
func Example() {
	db := memory.New(nil)
	defer db.Close()
	ctx := context.Background()

	subs := &stream.Subscriptions{}
	subs.AddIdent("352093081452251")
	fast, err := filter.Compile(`position.speed > 60`)
	if err != nil {
		panic(err)
	}
	delivered := make(chan int)
	sink := stream.SinkFunc(func(ctx context.Context, b *stream.Batch) error {
		for _, m := range b.Messages {
			fmt.Printf("%s\n", m.JSON)
		}
		delivered <- len(b.Messages)
		return nil
	})
	s, err := stream.New(db.Log(), sink, &stream.Config{Name: "crm", Subscriptions: subs, Validate: fast,
		Convert: stream.Convert{Fields: []string{"ident", "position.*"}}, MaxWait: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if _, err := s.Open(ctx); err != nil { // forward what arrives from now on
		panic(err)
	}
	for i, speed := range []float64{80, 30, 95} {
		var m protocol.Message
		m.SetString("ident", "352093081452251")
		m.SetFloat("timestamp", float64(1700000000+i))
		m.SetFloat("position.speed", speed)
		m.SetFloat("position.latitude", 54.7)
		if _, err := db.Log().Append(ctx, []protocol.Message{m}); err != nil {
			panic(err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	go s.Run(ctx)
	for n := 0; n < 2; n += <-delivered {
	}
	cancel()
	st := s.Stats()
	fmt.Println("skipped by validate_message:", st.Skipped)
	// Output:
	// {"ident":"352093081452251","position.speed":80,"position.latitude":54.7}
	// {"ident":"352093081452251","position.speed":95,"position.latitude":54.7}
	// skipped by validate_message: 1
}
