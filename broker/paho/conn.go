package paho

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	mqtt "github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"

	"github.com/gnssgate/gnssgate/broker"
)

// The connection is autopaho's: it dials (TCP, TLS, WebSocket), sends
// CONNECT (clean start only the first time, the session expiry, the
// credentials), reconnects with backoff and keeps one session state across
// connections, so that paho resends unacknowledged QoS 1 publishes.
//
// What stays here is a gate in front of it. autopaho hands a new connection
// to its Publish before OnConnectionUp runs, so a publisher could overtake
// the resubscription and, where the server kept no session, publish to
// nobody. The gate opens for a connection only after its resubscription.
// A publisher holds sendMu shared from the gate check until paho has picked
// the connection (PublishHook, or the call returning first); the callbacks
// take it exclusively when a connection comes or goes, so no publisher that
// saw the old connection open can land on the new one.

// connState is one connection as the gate sees it.
type connState struct {
	n    int64         // connection number, 1 for the first
	down chan struct{} // closed when this connection is lost
}

// clientConfig maps Config onto autopaho's.
func (b *Broker) clientConfig(u *url.URL) autopaho.ClientConfig {
	c := b.cfg
	cc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        c.TLS,
		KeepAlive:                     uint16(min(c.KeepAlive/time.Second, 0xFFFF)),
		CleanStartOnInitialConnection: c.CleanStart,
		SessionExpiryInterval:         c.sessionExpirySeconds(),
		ReconnectBackoff:              c.reconnectBackoff(),
		ConnectTimeout:                c.ConnectTimeout,
		ConnectUsername:               c.Username,
		ConnectPassword:               []byte(c.Password),
		AttemptConnection:             b.dial,
		OnConnectionUp:                b.connectionUp,
		OnConnectionDown:              b.connectionDown,
		OnConnectError: func(err error) {
			b.lastErr.Store(&err)
			b.log.Warn("mqtt connection attempt failed", "err", err)
		},
		Errors:     slogLogger{b.log, slog.LevelWarn},
		PahoErrors: slogLogger{b.log, slog.LevelWarn},
		ClientConfig: mqtt.ClientConfig{
			ClientID:                   c.ClientID,
			Session:                    b.guard,
			OnPublishReceived:          []func(mqtt.PublishReceived) (bool, error){b.onPublish},
			EnableManualAcknowledgment: true,
			SendAcksInterval:           5 * time.Millisecond,
			PublishHook:                b.publishing,
			OnClientError: func(err error) {
				b.log.Warn("mqtt connection lost", "err", err)
			},
			OnServerDisconnect: func(d *mqtt.Disconnect) {
				b.log.Warn("mqtt connection lost: server sent DISCONNECT", "reason_code", fmt.Sprintf("0x%02x", d.ReasonCode))
			},
		},
	}
	if b.generated {
		// Nobody can resume a session under a random id: end it rather
		// than leave it on the server for SessionExpiry.
		cc.DisconnectPacketBuilder = func() *mqtt.Disconnect {
			var zero uint32
			return &mqtt.Disconnect{Properties: &mqtt.DisconnectProperties{SessionExpiryInterval: &zero}}
		}
	}
	return cc
}

// connectionUp runs on autopaho's goroutine after each CONNACK. It must
// not block: the resubscription runs on its own and opens the gate.
func (b *Broker) connectionUp(cm *autopaho.ConnectionManager, ack *mqtt.Connack) {
	subIDs := true
	if ack.Properties != nil {
		subIDs = ack.Properties.SubIDAvailable
	}
	b.subIDs.Store(subIDs)
	// OnConnectionUp comes after the connection's CONNACK and before the
	// next one's, so the session's count numbers this connection.
	n := b.guard.current()
	b.ups.Store(n)
	b.sendMu.Lock()
	b.latest = n
	b.sendMu.Unlock()
	b.log.Info("mqtt connected", "client_id", b.cfg.ClientID, "session_present", ack.SessionPresent, "connection", n)
	go b.resubscribe(cm, n)
}

// connectionDown runs on autopaho's goroutine after a connection ended and
// before the next attempt.
func (b *Broker) connectionDown() bool {
	b.gen.Add(1)
	b.sendMu.Lock()
	b.lost = b.latest
	if b.cur != nil {
		close(b.cur.down)
		b.cur = nil
		b.readyCh = make(chan struct{})
	}
	b.sendMu.Unlock()
	return true // keep reconnecting
}

// open lets operations use connection n, unless a newer one came or n is
// already lost.
func (b *Broker) open(n int64) {
	b.sendMu.Lock()
	defer b.sendMu.Unlock()
	if b.latest != n || b.lost == n || b.cur != nil {
		return
	}
	b.cur = &connState{n: n, down: make(chan struct{})}
	close(b.readyCh)
}

// awaitConn waits for an open connection other than last. It returns with
// sendMu held shared: the caller releases it (RUnlock) once the connection
// may change again.
func (b *Broker) awaitConn(ctx context.Context, last *connState) (*connState, error) {
	for {
		b.sendMu.RLock()
		cur, ready := b.cur, b.readyCh
		if cur != nil && cur != last {
			return cur, nil
		}
		b.sendMu.RUnlock()
		var wait <-chan time.Time
		if cur != nil {
			// last failed but autopaho has not reported it lost yet.
			wait = time.After(5 * time.Millisecond)
		}
		select {
		case <-ready:
		case <-wait:
		case <-b.ctx.Done():
			return nil, broker.ErrClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", broker.ErrNotConnected, ctx.Err())
		}
	}
}

// hold records that the publisher of p holds the gate until paho picked
// its connection. A map under a mutex rather than a sync.Map: it
// allocates nothing once grown, and a publish is all this package does
// per message.
func (b *Broker) hold(p *mqtt.Publish) {
	b.holdMu.Lock()
	b.holding[p] = struct{}{}
	b.holdMu.Unlock()
}

// unhold releases the gate held for p, once: from PublishHook (paho has
// picked the connection), or when the publish returned without paho
// getting that far.
func (b *Broker) unhold(p *mqtt.Publish) {
	b.holdMu.Lock()
	_, held := b.holding[p]
	delete(b.holding, p)
	b.holdMu.Unlock()
	if held {
		b.sendMu.RUnlock()
	}
}

// publishing is paho's PublishHook, called on the publishing goroutine
// before the packet enters the session: paho has picked the connection
// for p, so its publisher no longer holds the gate.
func (b *Broker) publishing(p *mqtt.Publish) { b.unhold(p) }

// withConn runs op on an open connection, entered with sendMu held
// shared: op must release it (RUnlock) exactly once, as soon as it no
// longer needs the connection to stay the same (for a publish: through
// PublishHook, see hold). When op found no connection (nothing was sent)
// it runs again on the next one. When repeatable, op is also abandoned
// when its connection is lost and run again on the next: for SUBSCRIBE,
// and for PUBLISH without a session to resend it (at least once).
// Otherwise a PUBLISH in flight completes when the session resends it,
// and op's context is ctx with only the connection number added: no
// context to cancel, no goroutine, per publish.
func (b *Broker) withConn(ctx context.Context, repeatable bool, op func(ctx context.Context) error) error {
	var last *connState
	for {
		c, err := b.awaitConn(ctx, last)
		if err != nil {
			return err
		}
		opCtx := context.WithValue(ctx, connKey{}, c)
		if repeatable {
			var cancel context.CancelFunc
			opCtx, cancel = context.WithCancel(opCtx)
			go func() {
				select {
				case <-c.down:
					cancel()
				case <-opCtx.Done():
				}
			}()
			err = op(opCtx)
			cancel()
		} else {
			err = op(opCtx)
		}
		switch {
		case err == nil:
			return nil
		case b.ctx.Err() != nil:
			return broker.ErrClosed
		case ctx.Err() != nil:
			return err
		case errors.Is(err, autopaho.ConnectionDownError), errors.Is(err, session.ErrNoConnection),
			repeatable && isLost(c):
			last = c
			continue
		}
		return err
	}
}

func isLost(c *connState) bool {
	select {
	case <-c.down:
		return true
	default:
		return false
	}
}

// isConnLoss reports errors that mean the connection went away mid-call.
func isConnLoss(err error) bool {
	return errors.Is(err, mqtt.ErrConnectionLost) || errors.Is(err, mqtt.ErrNetworkErrorAfterStored) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, session.ErrNoConnection) ||
		errors.Is(err, autopaho.ConnectionDownError)
}

// guardedSession wraps paho's session state, which all connections share,
// against two races between a request that started on a connection just
// lost and the next connection:
//
//   - paho's client writes a request to its own connection but stores it in
//     the shared session: a QoS 1 publish through the dead client, stored
//     after the next connection's CONNACK resent the session, is never
//     sent and waits for a PUBACK until it times out. Requests carry the
//     number of the connection they were meant for (connKey) and are
//     refused, with nothing stored, when that is no longer the session's.
//   - state.State.AddToSession checks for a connection under its lock but
//     reads the send quota after it, while ConAckReceived replaces the
//     quota (a data race). AddToSession and ConAckReceived exclude each
//     other here; a blocked AddToSession waits only for the send quota, and
//     losing the connection, which always comes before the next CONNACK,
//     aborts that wait.
type guardedSession struct {
	*state.State
	mu    sync.RWMutex
	conns int64 // connections established, numbering them from 1
}

// connKey is the context key for the connection (a *connState) a request
// is for.
type connKey struct{}

func (g *guardedSession) ConAckReceived(w io.Writer, cp *packets.Connect, ca *packets.Connack) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.State.ConAckReceived(w, cp, ca)
	if err == nil {
		g.conns++ // paho's Connect succeeds once this has
	}
	return err
}

func (g *guardedSession) AddToSession(ctx context.Context, p session.Packet, resp chan<- packets.ControlPacket) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if c, ok := ctx.Value(connKey{}).(*connState); ok && c.n != g.conns {
		return session.ErrNoConnection
	}
	return g.State.AddToSession(ctx, p, resp)
}

// current returns the number of the newest connection.
func (g *guardedSession) current() int64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.conns
}

// slogLogger adapts slog to paho's logger interface.
type slogLogger struct {
	l     *slog.Logger
	level slog.Level
}

func (s slogLogger) Println(v ...any) {
	s.l.Log(context.Background(), s.level, "paho: "+strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

func (s slogLogger) Printf(format string, v ...any) {
	s.l.Log(context.Background(), s.level, "paho: "+fmt.Sprintf(format, v...))
}
