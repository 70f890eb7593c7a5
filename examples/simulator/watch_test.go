package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
)

// A server that publishes every stored message on a platform topic, as
// the gateway does: -watch counts them and reports the delay from the
// server's receipt, beside the fleet's summary.
func TestWatch(t *testing.T) {
	bsrv := embedded.New(&embedded.Config{AllowAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go bsrv.Serve(context.Background(), bln)
	t.Cleanup(func() { bsrv.Close() })

	h := channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
		for i := range msgs {
			m := broker.Message{Topic: "flespi/message/gw/channels/1/" + msgs[i].Ident(), Payload: msgs[i].AppendJSON(nil), QoS: 1}
			if err := bsrv.Publish(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	addr := serveHandler(t, h)

	code, out, errs := run(t, "-p", "teltonika", "-addr", addr, "-devices", "3", "-rate", "10",
		"-duration", "1s", "-progress", "0", "-json", "-watch", bln.Addr().String())
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	var sum struct {
		Acked uint64       `json:"acked"`
		Watch WatchSummary `json:"watch"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("stdout: %v\n%s", err, out)
	}
	w := sum.Watch
	if sum.Acked == 0 || w.Received < sum.Acked || w.Stamped != w.Received || w.P99 <= 0 || w.Max < w.P99 || w.Topic == "" {
		t.Fatalf("acked %d, watch %+v", sum.Acked, w)
	}

	// Text: one more line. A broker that refuses the subscription is an error.
	code, out, errs = run(t, "-p", "teltonika", "-addr", addr, "-devices", "1", "-duration", "1s",
		"-progress", "0", "-watch", bln.Addr().String())
	if code != 0 || !strings.Contains(out, "delay from the server's receipt") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if code, _, errs = run(t, "-p", "teltonika", "-addr", addr, "-devices", "1", "-duration", "1s",
		"-progress", "0", "-watch", bln.Addr().String(), "-watch-token", "nobody"); code != 1 || !strings.Contains(errs, "-watch") {
		t.Fatalf("an unknown token: exit %d, stderr:\n%s", code, errs)
	}
}
