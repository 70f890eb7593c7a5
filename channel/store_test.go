package channel

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/store/pebble"
)

// A device's record goes through a real socket into the durable log, and
// only then is acknowledged; reopening the store finds it.
func TestLogHandlerAcksDurableMessages(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Codec: &teltonika.Codec{}, Handler: LogHandler(db.Log()), ChannelID: 7}
	c := dial(t, start(t, srv))
	converse(t, c, loadTraffic(t, "teltonika-tcp.hex")) // checks the login reply and the ACK bytes

	srv.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = pebble.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, err := db.Log().Read(context.Background(), 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records after reopening, want 1", len(recs))
	}
	m := &recs[0].Message
	if m.Ident() != "356307042441013" {
		t.Fatalf("stored message %s", m)
	}
	if id, _ := m.Int("channel.id"); id != 7 {
		t.Fatalf("stored message lacks the channel's stamp: %s", m)
	}
}

// A full log under the Block policy withholds the ACK: the device keeps its
// data and resends.
func TestLogHandlerFullLogWithholdsAck(t *testing.T) {
	st := memory.New(&store.Config{Log: store.LogConfig{MaxBytes: 1, Overflow: store.Block}})
	srv := &Server{Codec: &teltonika.Codec{}, Handler: LogHandler(st.Log())}
	c := dial(t, start(t, srv))
	session := loadTraffic(t, "teltonika-tcp.hex")
	c.Write(session[0].Data) // login
	if got := readN(t, c, 1); !bytes.Equal(got, []byte{1}) {
		t.Fatalf("login reply %x", got)
	}
	c.Write(session[2].Data) // the record
	expectSilence(t, c, 200*time.Millisecond)
	if n, _ := st.Log().Read(context.Background(), 1, 10); len(n) != 0 {
		t.Fatalf("%d records stored in a full log", len(n))
	}
}
