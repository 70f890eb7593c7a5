package channel

import (
	"context"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// LogHandler returns the Handler that makes a channel's messages durable:
// each decoded batch is appended to l as one atomic batch, and because
// [store.Log.Append] returns nil only once the batch survives a crash, the
// device gets its ACK only for messages that are really stored. An error
// (store.ErrFull under the Block overflow policy, a closed or failing store)
// withholds the ACK; the device keeps the data in its black box and resends.
//
// The log does not keep the messages it is given, so the channel may reuse
// them after the call.
func LogHandler(l store.Log) Handler {
	return HandlerFunc(func(ctx context.Context, _ *Conn, msgs []protocol.Message) error {
		if _, err := l.Append(ctx, msgs); err != nil {
			return fmt.Errorf("channel: storing %d messages: %w", len(msgs), err)
		}
		return nil
	})
}
