package channel

import (
	"bufio"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

func TestCommandQueuedUntilDeviceConnects(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink()}
	addr := start(t, srv)
	call := srv.Send("dev9", protocol.Command{ID: 42, Text: "getinfo"}, time.Minute)
	if _, ok := call.Sent(); ok {
		t.Fatal("sent before the device connected")
	}
	if st := srv.Stats(); st.QueuedCommands != 1 {
		t.Fatalf("queued %d", st.QueuedCommands)
	}
	c := dial(t, addr)
	r := bufio.NewReader(c)
	c.Write([]byte("Ldev9\n"))
	if got := readLine(t, r, c); got != "A\n" {
		t.Fatalf("login reply %q", got)
	}
	if got := readLine(t, r, c); got != "X42:getinfo\n" {
		t.Fatalf("command %q", got)
	}
	c.Write([]byte("R42:fw 1.2\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := call.Wait(ctx)
	if err != nil || resp.Text != "fw 1.2" || resp.ID != 42 {
		t.Fatalf("resp %+v err %v", resp, err)
	}
	if _, ok := call.Sent(); !ok {
		t.Fatal("Sent() false after an answer")
	}
}

func TestCommandsAnsweredByIDAndFIFO(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink()}
	c := dial(t, start(t, srv))
	r := bufio.NewReader(c)
	c.Write([]byte("Ldev\n"))
	readLine(t, r, c)
	waitFor(t, "the device to be registered", func() bool { return srv.Conn("dev") != nil })

	a := srv.Send("dev", protocol.Command{ID: 1, Text: "a"}, time.Minute)
	if got := readLine(t, r, c); got != "X1:a\n" {
		t.Fatalf("%q", got)
	}
	b := srv.Send("dev", protocol.Command{ID: 2, Text: "b"}, time.Minute)
	if got := readLine(t, r, c); got != "X2:b\n" {
		t.Fatalf("%q", got)
	}
	// The device answers the second first, by ID; then an answer without ID
	// goes to the oldest pending command.
	c.Write([]byte("R2:second\nR:first\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if resp, err := b.Wait(ctx); err != nil || resp.Text != "second" {
		t.Fatalf("b: %+v %v", resp, err)
	}
	if resp, err := a.Wait(ctx); err != nil || resp.Text != "first" {
		t.Fatalf("a: %+v %v", resp, err)
	}
	// Conn.Send writes now and waits.
	conn := srv.Conn("dev")
	go func() {
		line := readLine(t, r, c)
		if line == "X77:now\n" {
			c.Write([]byte("R77:done\n"))
		}
	}()
	resp, err := conn.Send(ctx, protocol.Command{ID: 77, Text: "now"})
	if err != nil || resp.Text != "done" {
		t.Fatalf("Conn.Send: %+v %v", resp, err)
	}
	if st := srv.Stats(); st.CommandsSent != 3 || st.CommandsAnswered != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCommandExpiresAndFailsOnClose(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink()}
	addr := start(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	never := srv.Send("absent", protocol.Command{Text: "x"}, 50*time.Millisecond)
	if _, err := never.Wait(ctx); !errors.Is(err, ErrCommandExpired) {
		t.Fatalf("never: %v", err)
	}
	if never.Command.ID == 0 {
		t.Fatal("no ID assigned")
	}
	if st := srv.Stats(); st.QueuedCommands != 0 || st.CommandsExpired != 1 {
		t.Fatalf("stats %+v", st)
	}

	c := dial(t, addr)
	r := bufio.NewReader(c)
	c.Write([]byte("Ldev\n"))
	readLine(t, r, c)
	waitFor(t, "registration", func() bool { return srv.Conn("dev") != nil })
	sent := srv.Send("dev", protocol.Command{Text: "y"}, time.Minute)
	readLine(t, r, c)
	c.Close() // the device goes away before answering
	if _, err := sent.Wait(ctx); !errors.Is(err, ErrConnClosed) {
		t.Fatalf("sent: %v", err)
	}

	canceled := srv.Send("absent", protocol.Command{Text: "z"}, time.Minute)
	canceled.Cancel()
	if _, err := canceled.Wait(ctx); !errors.Is(err, ErrCanceled) {
		t.Fatalf("canceled: %v", err)
	}
	if st := srv.Stats(); st.QueuedCommands != 0 {
		t.Fatalf("queued %d after cancel", st.QueuedCommands)
	}
}

func TestCommandQueueLimitAndShutdown(t *testing.T) {
	srv := &Server{Codec: lineCodec{}, Handler: newSink(), MaxQueuedCommands: 2}
	start(t, srv)
	ctx := context.Background()
	a := srv.Send("d", protocol.Command{Text: "1"}, 0)
	srv.Send("d", protocol.Command{Text: "2"}, 0)
	full := srv.Send("d", protocol.Command{Text: "3"}, 0)
	if _, err := full.Wait(ctx); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("full: %v", err)
	}
	srv.Close()
	if _, err := a.Wait(ctx); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := srv.Send("d", protocol.Command{}, 0).Wait(ctx); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

type noCommandsCodec struct{ lineCodec }

type plainSession struct{ s *lineSession }

func (p plainSession) Decode(f []byte, r *protocol.Result) error { return p.s.Decode(f, r) }
func (noCommandsCodec) NewSession(protocol.Transport) protocol.Session {
	return plainSession{&lineSession{}}
}

func TestCommandToCodecWithoutEncoder(t *testing.T) {
	srv := &Server{Codec: noCommandsCodec{}, Handler: newSink()}
	c := dial(t, start(t, srv))
	c.Write([]byte("Ldev\n"))
	readN(t, c, 2)
	waitFor(t, "registration", func() bool { return srv.Conn("dev") != nil })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := srv.Send("dev", protocol.Command{Text: "x"}, time.Minute).Wait(ctx); !errors.Is(err, protocol.ErrNoCommands) {
		t.Fatalf("err %v", err)
	}
}
