package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// Ingest appends channels' messages to the log. Safe for concurrent use:
// one Ingest serves every channel.
type Ingest struct {
	Log      store.Log
	Registry *registry.Registry
	// Logger receives device registrations and failures; nil means
	// slog.Default().
	Logger *slog.Logger
	// Observe, when set, is told how long each batch's append took: the
	// wait a tracker has for its ACK.
	Observe func(time.Duration)
	// Active, when set, is told each device's newest server time once its
	// messages are durable: its "last_active".
	Active func(ident string, serverTime float64)
	// Admit, when set, is asked before each batch is stored (after it got
	// its devices and "cid"): an error refuses the batch (the tracker gets
	// no ACK), and it may wait to slow a connection down. c is nil for
	// messages that came through no connection.
	Admit func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error

	created  atomic.Int64
	appended atomic.Int64
}

// Stats are the ingest counters.
type Stats struct {
	Appended       int64 // messages made durable
	DevicesCreated int64 // devices registered automatically
}

// Stats returns the counters.
func (in *Ingest) Stats() Stats {
	return Stats{Appended: in.appended.Load(), DevicesCreated: in.created.Load()}
}

// Handler returns the handler of channel ch: its messages get their device,
// and a new ident gets a device when ch auto-creates them.
func (in *Ingest) Handler(ch registry.Channel) channel.Handler {
	return channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
		return in.append(ctx, ch, c, msgs)
	})
}

// Append stamps msgs with their devices and appends them to the log as one
// batch; nil means they are durable.
func (in *Ingest) Append(ctx context.Context, ch registry.Channel, msgs []protocol.Message) error {
	return in.append(ctx, ch, nil, msgs)
}

func (in *Ingest) append(ctx context.Context, ch registry.Channel, c *channel.Conn, msgs []protocol.Message) error {
	last := ""
	var dev registry.Device
	var known bool
	for i := range msgs {
		m := &msgs[i]
		ident := m.Ident()
		if ident == "" {
			continue // the channel refuses these; other callers keep them
		}
		if ident != last { // a batch is usually one device
			dev, known = in.device(ctx, ch, ident)
			last = ident
		}
		cid := ch.CID
		if known {
			m.Set(protocol.ParamDeviceID, protocol.Int(dev.ID))
			if dev.Name != "" {
				m.Set(protocol.ParamDeviceName, protocol.String(dev.Name))
			}
			cid = dev.CID
		}
		if cid != 0 {
			m.Set(protocol.ParamCID, protocol.Int(cid))
		}
	}
	if in.Admit != nil {
		if err := in.Admit(ctx, c, msgs); err != nil {
			return fmt.Errorf("ingest: channel %d: %w", ch.ID, err)
		}
	}
	start := time.Now()
	if _, err := in.Log.Append(ctx, msgs); err != nil {
		return fmt.Errorf("ingest: channel %d: %w", ch.ID, err)
	}
	if in.Observe != nil {
		in.Observe(time.Since(start))
	}
	if in.Active != nil {
		for i := range msgs {
			if st, ok := msgs[i].Float(protocol.ParamServerTimestamp); ok {
				if ident := msgs[i].Ident(); ident != "" {
					in.Active(ident, st)
				}
			}
		}
	}
	in.appended.Add(int64(len(msgs)))
	return nil
}

// device returns the device of ident, registering it when ch auto-creates.
func (in *Ingest) device(ctx context.Context, ch registry.Channel, ident string) (registry.Device, bool) {
	if d, ok := in.Registry.DeviceByIdent(ident); ok {
		return d, true
	}
	if !ch.Configuration.AutoCreate() {
		return registry.Device{}, false
	}
	d, err := in.Registry.Devices.Create(ctx, registry.Device{
		Meta:          registry.Meta{CID: ch.CID},
		Name:          ident,
		ProtocolName:  ch.ProtocolName,
		Configuration: registry.DeviceConfig{Ident: ident},
	})
	if errors.Is(err, registry.ErrConflict) {
		// Another connection registered it first.
		if d, ok := in.Registry.DeviceByIdent(ident); ok {
			return d, true
		}
	}
	if err != nil {
		// The messages are still stored, without a device: losing them
		// over a registry failure would be worse.
		in.logger().Error("ingest: registering a device failed", "ident", ident, "channel", ch.ID, "err", err)
		return registry.Device{}, false
	}
	in.created.Add(1)
	in.logger().Info("device registered", "id", d.ID, "ident", ident, "channel", ch.ID)
	return d, true
}

func (in *Ingest) logger() *slog.Logger {
	if in.Logger != nil {
		return in.Logger
	}
	return slog.Default()
}
