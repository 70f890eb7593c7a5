package memory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
)

// A log with a size cap and the block policy: once full, appends fail with
// store.ErrFull until every consumer has committed past old records.
func ExampleNew() {
	s := memory.New(&store.Config{Log: store.LogConfig{MaxBytes: 250, Overflow: store.Block}})
	defer s.Close()
	ctx := context.Background()
	var m protocol.Message
	m.SetString("ident", "dev")
	m.SetFloat("timestamp", 1700000000)
	m.SetString("note", "forty bytes of payload to fill the log..")

	for i := 1; ; i++ {
		_, err := s.Log().Append(ctx, []protocol.Message{m})
		if errors.Is(err, store.ErrFull) {
			fmt.Println("append", i, "refused: do not acknowledge the tracker")
			break
		}
	}
	s.Log().Commit(ctx, "stream", 2) // record 1 is done with
	first, err := s.Log().Append(ctx, []protocol.Message{m})
	fmt.Println("after commit: seq", first, err)
	// Output:
	// append 3 refused: do not acknowledge the tracker
	// after commit: seq 3 <nil>
}
