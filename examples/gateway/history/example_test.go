package history_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/history"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
)

// The writer as the sink of a stream of the log: what devices send lands
// in their history and telemetry.
func ExampleWriter() {
	db := memory.New(nil)
	defer db.Close()
	ctx := context.Background()
	w := &history.Writer{Messages: db.Messages(), Telemetry: db.Telemetry()}
	s, err := stream.New(db.Log(), w, &stream.Config{Name: "history", NoJSON: true, StartAt: stream.StartOldest,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println(err)
		return
	}
	var m protocol.Message
	m.SetString(protocol.ParamIdent, "356307042441013")
	m.SetFloat(protocol.ParamTimestamp, 1700000000)
	m.SetInt(protocol.ParamSpeed, 42)
	db.Log().Append(ctx, []protocol.Message{m})

	ctx, cancel := context.WithCancel(ctx)
	go s.Run(ctx)
	defer cancel()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if d, err := db.Messages().Device(ctx, "356307042441013"); err == nil && d.Count == 1 {
			break
		}
	}
	msgs, _ := db.Messages().Query(ctx, "356307042441013", store.Query{})
	speed, _ := db.Telemetry().Get(ctx, "356307042441013", protocol.ParamSpeed)
	fmt.Println(len(msgs), speed[0].Value)
	// Output: 1 42
}
