package channel_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
)

func TestNewConnAndStamp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4242}
	c := channel.NewConn(ctx, "mqtt", remote, "dev-1")
	if c.Ident() != "dev-1" || c.Network() != "mqtt" || c.RemoteAddr() != remote {
		t.Fatalf("conn %+v", c.Info())
	}
	c.Received(120, 3)
	if i := c.Info(); i.BytesIn != 120 || i.MessagesIn != 3 || i.Peer != "192.0.2.7:4242" {
		t.Fatalf("info %+v", i)
	}
	if _, err := c.Send(ctx, protocol.Command{Name: "x"}); !errors.Is(err, protocol.ErrNoCommands) {
		t.Fatalf("Send: %v", err)
	}
	cancel()
	select {
	case <-c.Context().Done():
	case <-time.After(time.Second):
		t.Fatal("conn context outlived its parent")
	}

	msgs := make([]protocol.Message, 2)
	msgs[0].SetFloat(protocol.ParamTimestamp, 1700000000)
	msgs[1].SetString(protocol.ParamIdent, "own")
	now := time.Unix(1700000100, 500_000_000)
	channel.Stamp(msgs, now, 7, 41, "192.0.2.7:4242", "dev-1")
	want := []string{
		`{"timestamp":1700000000,"ident":"dev-1","server.timestamp":1700000100.5,"channel.id":7,"protocol.id":41,"peer":"192.0.2.7:4242"}`,
		`{"ident":"own","timestamp":1700000100.5,"server.timestamp":1700000100.5,"channel.id":7,"protocol.id":41,"peer":"192.0.2.7:4242"}`,
	}
	for i := range msgs {
		if got := msgs[i].String(); got != want[i] {
			t.Errorf("message %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
}
