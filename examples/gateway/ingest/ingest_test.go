package ingest

import (
	"context"
	"errors"
	"fmt"
	"github.com/gnssgate/gnssgate/internal/syncbuf"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
)

type fixture struct {
	reg  *registry.Registry
	db   *memory.Store
	in   *Ingest
	logs *syncbuf.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(ctx, registry.NewMemoryKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	db := memory.New(nil)
	t.Cleanup(func() { db.Close() })
	logs := &syncbuf.Buffer{}
	return &fixture{reg: reg, db: db, logs: logs,
		in: &Ingest{Log: db.Log(), Registry: reg, Logger: slog.New(slog.NewTextHandler(logs, nil))}}
}

// account creates a subaccount of the root with limits.
func (f *fixture) account(t *testing.T, limits registry.Limits) int64 {
	t.Helper()
	a, err := f.reg.Accounts.Create(context.Background(), registry.Account{Meta: registry.Meta{CID: registry.RootCID}, Name: "customer", Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func (f *fixture) device(t *testing.T, d registry.Device) registry.Device {
	t.Helper()
	d, err := f.reg.Devices.Create(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// logged returns the messages in the log.
func (f *fixture) logged(t *testing.T) []protocol.Message {
	t.Helper()
	recs, err := f.db.Log().Read(context.Background(), 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []protocol.Message
	for _, r := range recs {
		out = append(out, r.Message.Clone())
	}
	return out
}

func msg(ident string, serverTS float64) protocol.Message {
	var m protocol.Message
	if ident != "" {
		m.SetString(protocol.ParamIdent, ident)
	}
	m.SetFloat(protocol.ParamServerTimestamp, serverTS)
	m.SetInt(protocol.ParamChannelID, 3)
	return m
}

func no() *bool { b := false; return &b }

// stamp is what ingest adds to a message: "" for an absent parameter.
type stamp struct{ deviceID, name, cid string }

func stampOf(m *protocol.Message) stamp {
	get := func(name string) string {
		if v, ok := m.Lookup(name); ok {
			return string(v.AppendJSON(nil))
		}
		return ""
	}
	return stamp{get(protocol.ParamDeviceID), get(protocol.ParamDeviceName), get(protocol.ParamCID)}
}

func TestAppendDevices(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, f *fixture) registry.Channel
		idents  []string
		want    []stamp
		created int64
		logs    string // in the log output
	}{
		{
			name: "registered device: its id, name and account",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				cid := f.account(t, registry.Limits{})
				f.device(t, registry.Device{Meta: registry.Meta{CID: cid}, Name: "truck 1", Configuration: registry.DeviceConfig{Ident: "A"}})
				return registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika", Configuration: registry.ChannelConfig{AutoCreateDevices: no()}}
			},
			idents: []string{"A", "A"},
			want:   []stamp{{"1", `"truck 1"`, "2"}, {"1", `"truck 1"`, "2"}},
		},
		{
			name: "registered device without a name",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				f.device(t, registry.Device{Meta: registry.Meta{CID: registry.RootCID}, Configuration: registry.DeviceConfig{Ident: "A"}})
				return registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika"}
			},
			idents: []string{"A"},
			want:   []stamp{{"1", "", "1"}},
		},
		{
			name: "auto-created on the channel's account",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				cid := f.account(t, registry.Limits{})
				return registry.Channel{Meta: registry.Meta{ID: 3, CID: cid}, ProtocolName: "teltonika"}
			},
			idents:  []string{"A", "B", "A"},
			want:    []stamp{{"1", `"A"`, "2"}, {"2", `"B"`, "2"}, {"1", `"A"`, "2"}},
			created: 2,
			logs:    "device registered",
		},
		{
			name: "not auto-created: the channel's account only",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				return registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika", Configuration: registry.ChannelConfig{AutoCreateDevices: no()}}
			},
			idents: []string{"A"},
			want:   []stamp{{"", "", "1"}},
		},
		{
			name: "no account at all",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				return registry.Channel{Meta: registry.Meta{ID: 3}, ProtocolName: "teltonika", Configuration: registry.ChannelConfig{AutoCreateDevices: no()}}
			},
			idents: []string{"A"},
			want:   []stamp{{"", "", ""}},
		},
		{
			name: "messages without ident are kept, unstamped",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				return registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika"}
			},
			idents:  []string{"", "A", ""},
			want:    []stamp{{"", "", ""}, {"1", `"A"`, "1"}, {"", "", ""}},
			created: 1,
		},
		{
			name: "the account's device limit: stored without a device",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				cid := f.account(t, registry.Limits{Devices: 1})
				return registry.Channel{Meta: registry.Meta{ID: 3, CID: cid}, ProtocolName: "teltonika"}
			},
			idents:  []string{"A", "B"},
			want:    []stamp{{"1", `"A"`, "2"}, {"", "", "2"}},
			created: 1,
			logs:    "account 2: limit of 1 devices reached",
		},
		{
			name: "an ident the registry refuses: stored without a device",
			setup: func(t *testing.T, f *fixture) registry.Channel {
				return registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika"}
			},
			idents: []string{"a/b"},
			want:   []stamp{{"", "", "1"}},
			logs:   "ingest: registering a device failed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ch := tc.setup(t, f)
			var msgs []protocol.Message
			for i, ident := range tc.idents {
				msgs = append(msgs, msg(ident, float64(1000+i)))
			}
			if err := f.in.Append(context.Background(), ch, msgs); err != nil {
				t.Fatal(err)
			}
			got := f.logged(t)
			if len(got) != len(tc.want) {
				t.Fatalf("log has %d messages, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if s := stampOf(&got[i]); s != tc.want[i] {
					t.Errorf("message %d (ident %q): %+v, want %+v", i, tc.idents[i], s, tc.want[i])
				}
			}
			if st := f.in.Stats(); st.DevicesCreated != tc.created || st.Appended != int64(len(tc.idents)) {
				t.Errorf("Stats = %+v, want %d created, %d appended", st, tc.created, len(tc.idents))
			}
			if !strings.Contains(f.logs.String(), tc.logs) {
				t.Errorf("log output lacks %q: %s", tc.logs, f.logs)
			}
			if tc.created > 0 {
				d, ok := f.reg.DeviceByIdent("A")
				if !ok || d.Name != "A" || d.ProtocolName != "teltonika" || d.CID != ch.CID {
					t.Errorf("auto-created device %+v (found %v): want name A, protocol teltonika, cid %d", d, ok, ch.CID)
				}
			}
		})
	}
}

// Many connections of one new device register it once; every message
// gets its id.
func TestAutoCreateRace(t *testing.T) {
	f := newFixture(t)
	ch := registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika"}
	h := f.in.Handler(ch)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h.HandleMessages(context.Background(), nil, []protocol.Message{msg("racer", float64(i))})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.reg.Devices.Len() != 1 {
		t.Errorf("%d devices registered, want 1", f.reg.Devices.Len())
	}
	if st := f.in.Stats(); st.DevicesCreated != 1 || st.Appended != 8 {
		t.Errorf("Stats = %+v", st)
	}
	d, _ := f.reg.DeviceByIdent("racer")
	for i, m := range f.logged(t) {
		if id, _ := m.Int(protocol.ParamDeviceID); id != d.ID {
			t.Errorf("message %d: device.id %d, want %d", i, id, d.ID)
		}
	}
}

var errSlowDown = errors.New("over the account's rate")

func TestAdmit(t *testing.T) {
	f := newFixture(t)
	f.device(t, registry.Device{Meta: registry.Meta{CID: registry.RootCID}, Name: "truck", Configuration: registry.DeviceConfig{Ident: "A"}})
	ch := registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika"}
	var seen []stamp
	var conns []*channel.Conn
	refuse := true
	f.in.Admit = func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
		conns = append(conns, c)
		for i := range msgs {
			seen = append(seen, stampOf(&msgs[i]))
		}
		if refuse {
			return errSlowDown
		}
		return nil
	}
	observed := 0
	f.in.Observe = func(time.Duration) { observed++ }

	err := f.in.Append(context.Background(), ch, []protocol.Message{msg("A", 1)})
	if !errors.Is(err, errSlowDown) || !strings.HasPrefix(err.Error(), "ingest: channel 3: ") {
		t.Fatalf("err = %v, want ingest: channel 3: … wrapping the Admit error", err)
	}
	if n := len(f.logged(t)); n != 0 || f.in.Stats().Appended != 0 || observed != 0 {
		t.Errorf("a refused batch: %d in the log, %+v, observed %d", n, f.in.Stats(), observed)
	}
	// Admit sees the batch with its devices and accounts.
	if len(seen) != 1 || seen[0] != (stamp{"1", `"truck"`, "1"}) {
		t.Errorf("Admit saw %+v", seen)
	}
	refuse = false
	if err := f.in.Handler(ch).HandleMessages(context.Background(), nil, []protocol.Message{msg("A", 2)}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.logged(t)); n != 1 || observed != 1 {
		t.Errorf("admitted: %d in the log, observed %d", n, observed)
	}
	for _, c := range conns {
		if c != nil {
			t.Errorf("Admit got a connection for messages that came through none")
		}
	}
}

func TestLogErrors(t *testing.T) {
	f := newFixture(t)
	ch := registry.Channel{Meta: registry.Meta{ID: 4, CID: registry.RootCID}, ProtocolName: "teltonika", Configuration: registry.ChannelConfig{AutoCreateDevices: no()}}
	var active []string
	f.in.Active = func(ident string, st float64) { active = append(active, fmt.Sprintf("%s@%g", ident, st)) }
	observed := 0
	f.in.Observe = func(time.Duration) { observed++ }

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.in.Append(ctx, ch, []protocol.Message{msg("A", 1)}); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "ingest: channel 4: ") {
		t.Errorf("ended context: err = %v", err)
	}
	f.db.Close()
	if err := f.in.Append(context.Background(), ch, []protocol.Message{msg("A", 1)}); !errors.Is(err, store.ErrClosed) || !strings.HasPrefix(err.Error(), "ingest: channel 4: ") {
		t.Errorf("closed log: err = %v", err)
	}
	if len(active) != 0 || observed != 0 || f.in.Stats().Appended != 0 {
		t.Errorf("after failed appends: active %v, observed %d, %+v", active, observed, f.in.Stats())
	}
}

// Active hears of each device's messages once they are durable, with their
// server time; Observe of each batch.
func TestActiveObserve(t *testing.T) {
	f := newFixture(t)
	ch := registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika", Configuration: registry.ChannelConfig{AutoCreateDevices: no()}}
	var active []string
	f.in.Active = func(ident string, st float64) {
		active = append(active, fmt.Sprintf("%s@%g", ident, st))
		if n := len(f.logged(t)); n != 4 {
			t.Errorf("Active called with %d messages in the log, want 4 (after the append)", n)
		}
	}
	var observed []time.Duration
	f.in.Observe = func(d time.Duration) { observed = append(observed, d) }
	noServerTime := msg("C", 0)
	noServerTime.Delete(protocol.ParamServerTimestamp)
	if err := f.in.Append(context.Background(), ch, []protocol.Message{msg("A", 10), msg("", 11), msg("B", 12.5), noServerTime}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"A@10", "B@12.5"}; fmt.Sprint(active) != fmt.Sprint(want) {
		t.Errorf("Active told %v, want %v", active, want)
	}
	if len(observed) != 1 || observed[0] < 0 {
		t.Errorf("Observe told %v, want one duration", observed)
	}
	// An empty batch is no error.
	if err := f.in.Append(context.Background(), ch, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}
