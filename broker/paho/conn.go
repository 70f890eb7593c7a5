package paho

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/packets"
	mqtt "github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/session"

	"github.com/gnssgate/gnssgate/broker"
)

// The connection manager. autopaho would do this, but it imports
// golang.org/x/net/proxy, which this module does not require; the loop is
// small enough to own: dial, CONNECT, wait for the connection to fail,
// reconnect with backoff, keep one session state across connections so
// that unacknowledged QoS 1 publishes are resent.

// loop keeps a connection up until b.ctx ends. firstUp receives the result
// of the first successful connection (nil) exactly once.
func (b *Broker) loop(u *url.URL, firstUp chan<- struct{}) {
	defer close(b.loopDone)
	first := true
	for attempt := 0; ; attempt++ {
		select {
		case <-time.After(b.cfg.backoff(attempt)):
		case <-b.ctx.Done():
			return
		}
		cli, lost, err := b.connect(u, first)
		if err != nil {
			if b.ctx.Err() != nil {
				return
			}
			b.log.Warn("mqtt connection attempt failed", "attempt", attempt+1, "err", err)
			continue
		}
		if first {
			first = false
			close(firstUp)
		}
		attempt = -1
		b.setUp(cli)
		select {
		case err = <-lost:
			b.setDown()
			b.log.Warn("mqtt connection lost", "err", err)
			<-cli.Done()
		case <-b.ctx.Done():
			b.setDown()
			d := &mqtt.Disconnect{ReasonCode: 0}
			if b.generated {
				// Nobody can resume a session under a random id: end it
				// rather than leave it on the server for SessionExpiry.
				var zero uint32
				d.Properties = &mqtt.DisconnectProperties{SessionExpiryInterval: &zero}
			}
			cli.Disconnect(d)
			<-cli.Done()
			return
		}
	}
}

// connect makes one connection attempt.
func (b *Broker) connect(u *url.URL, first bool) (*mqtt.Client, <-chan error, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.ConnectTimeout)
	defer cancel()
	conn, err := b.dial(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	lost := make(chan error, 1)
	report := func(err error) {
		select {
		case lost <- err:
		default:
		}
	}
	cli := mqtt.NewClient(mqtt.ClientConfig{
		ClientID:                   b.cfg.ClientID,
		Conn:                       conn,
		Session:                    b.session,
		OnPublishReceived:          []func(mqtt.PublishReceived) (bool, error){b.onPublish},
		EnableManualAcknowledgment: true,
		SendAcksInterval:           5 * time.Millisecond,
		OnClientError:              report,
		OnServerDisconnect: func(d *mqtt.Disconnect) {
			report(fmt.Errorf("server sent DISCONNECT, reason code 0x%02x", d.ReasonCode))
		},
	})
	expiry := b.cfg.sessionExpirySeconds()
	keepAlive := min(b.cfg.KeepAlive/time.Second, 0xFFFF)
	cp := &mqtt.Connect{
		ClientID:   b.cfg.ClientID,
		KeepAlive:  uint16(keepAlive),
		CleanStart: first && b.cfg.CleanStart,
		Properties: &mqtt.ConnectProperties{SessionExpiryInterval: &expiry},
	}
	if b.cfg.Username != "" {
		cp.Username, cp.UsernameFlag = b.cfg.Username, true
	}
	if b.cfg.Password != "" {
		cp.Password, cp.PasswordFlag = []byte(b.cfg.Password), true
	}
	ack, err := cli.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		if ack != nil {
			return nil, nil, reasonError("connect", ack.ReasonCode)
		}
		return nil, nil, err
	}
	subIDs := true
	if ack.Properties != nil {
		subIDs = ack.Properties.SubIDAvailable
	}
	b.subIDs.Store(subIDs)
	n := b.ups.Add(1)
	b.log.Info("mqtt connected", "client_id", b.cfg.ClientID, "session_present", ack.SessionPresent, "connection", n)
	if n > 1 {
		b.resubscribe(cli)
	}
	return cli, lost, nil
}

// dial opens the network connection; keeping it lets the adapter drop the
// connection on purpose so that the broker redelivers.
func (b *Broker) dial(ctx context.Context, u *url.URL) (net.Conn, error) {
	var raw net.Conn
	var err error
	switch strings.ToLower(u.Scheme) {
	case "tls", "ssl", "mqtts":
		d := tls.Dialer{Config: b.cfg.TLS}
		raw, err = d.DialContext(ctx, "tcp", u.Host)
	default:
		var d net.Dialer
		raw, err = d.DialContext(ctx, "tcp", u.Host)
	}
	if err != nil {
		return nil, err
	}
	c := packets.NewThreadSafeConn(raw)
	b.conn.Store(&c)
	return c, nil
}

func (b *Broker) setUp(cli *mqtt.Client) {
	b.upMu.Lock()
	defer b.upMu.Unlock()
	b.cli = cli
	close(b.upCh)
}

func (b *Broker) setDown() {
	b.gen.Add(1)
	b.upMu.Lock()
	defer b.upMu.Unlock()
	b.cli = nil
	b.upCh = make(chan struct{})
}

// client waits for a connection while ctx allows.
func (b *Broker) client(ctx context.Context) (*mqtt.Client, error) { return b.clientAfter(ctx, nil) }

// clientAfter waits for a connection other than last.
func (b *Broker) clientAfter(ctx context.Context, last *mqtt.Client) (*mqtt.Client, error) {
	for {
		b.upMu.Lock()
		cli, up := b.cli, b.upCh
		b.upMu.Unlock()
		if cli != nil && cli != last {
			return cli, nil
		}
		var wait <-chan time.Time
		if cli != nil {
			// last is dead but the loop has not noticed yet.
			wait = time.After(5 * time.Millisecond)
		}
		select {
		case <-up:
			if cli != nil {
				<-wait
			}
		case <-wait:
		case <-b.ctx.Done():
			return nil, broker.ErrClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", broker.ErrNotConnected, ctx.Err())
		}
	}
}

// withClient runs op on a connection. When op found no connection (nothing
// was sent) it runs again on the next one. When repeatable, op is also
// abandoned when its connection dies and run again on the next: for
// SUBSCRIBE, and for PUBLISH without a session to resend it (at least once).
// Otherwise a PUBLISH in flight completes when the session resends it.
func (b *Broker) withClient(ctx context.Context, repeatable bool, op func(context.Context, *mqtt.Client) error) error {
	var last *mqtt.Client
	for {
		cli, err := b.clientAfter(ctx, last)
		if err != nil {
			return err
		}
		opCtx, cancel := context.WithCancel(ctx)
		if repeatable {
			go func() {
				select {
				case <-cli.Done():
					cancel()
				case <-opCtx.Done():
				}
			}()
		}
		err = op(opCtx, cli)
		cancel()
		switch {
		case err == nil:
			return nil
		case b.ctx.Err() != nil:
			return broker.ErrClosed
		case ctx.Err() != nil:
			return err
		case errors.Is(err, session.ErrNoConnection), repeatable && isDone(cli):
			last = cli
			continue
		}
		return err
	}
}

func isDone(cli *mqtt.Client) bool {
	select {
	case <-cli.Done():
		return true
	default:
		return false
	}
}

// isConnLoss reports errors that mean the connection went away mid-call.
func isConnLoss(err error) bool {
	return errors.Is(err, mqtt.ErrConnectionLost) || errors.Is(err, mqtt.ErrNetworkErrorAfterStored) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, session.ErrNoConnection)
}
