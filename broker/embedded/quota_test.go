package embedded

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

// quotaAuth gives user u the namespace "$accounts/<u>/" with at most
// two sessions.
func quotaAuth() Authenticator {
	return AuthenticatorFunc(func(_ context.Context, info ConnectInfo) (*Token, error) {
		return &Token{Name: info.Username, Publish: []string{"#"}, Subscribe: []string{"#"},
			Namespace: "$accounts/" + info.Username + "/", MaxSessions: 2}, nil
	})
}

// tryConnect connects an MQTT 5 client and returns the CONNACK's reason
// code (the client is closed at the end of the test).
func tryConnect(t *testing.T, addr, user, id string, clean bool, expiry uint32) (code byte, present bool) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: nc, OnClientError: func(error) {}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: clean, KeepAlive: 30, Username: user, UsernameFlag: true,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}})
	if ca == nil {
		nc.Close()
		t.Fatalf("connect %s/%s: no CONNACK: %v", user, id, err)
	}
	t.Cleanup(func() { c.Disconnect(&paho.Disconnect{}); nc.Close() })
	return ca.ReasonCode, ca.SessionPresent
}

// leave disconnects client id of user normally, its session kept for
// expiry seconds.
func leave(t *testing.T, addr, user, id string, expiry uint32) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := paho.NewClient(paho.ClientConfig{Conn: nc, OnClientError: func(error) {}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ca, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: false, KeepAlive: 30, Username: user, UsernameFlag: true,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}); err != nil {
		t.Fatalf("connect %s/%s: %v %+v", user, id, err, ca)
	}
	c.Disconnect(&paho.Disconnect{})
}

func waitCount(t *testing.T, s *Server, ns string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := s.SessionCount(ns)
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %q holds %d sessions, want %d", ns, n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Token.MaxSessions counts the sessions persisted for offline clients as
// well as connected ones, across a restart of a durable broker: a new
// session over the quota is refused with 0x97 (3.1.1: 3), a session
// resumed, replaced (clean start) or taken over is not a new one, another
// namespace has its own count, and an expired session frees its place.
func TestMaxSessionsCountsPersisted(t *testing.T) {
	d := startDurable(t, &Config{Authenticator: quotaAuth()})
	const nsA = "$accounts/a/"
	leave(t, d.addr, "a", "p1", 3600)
	leave(t, d.addr, "a", "p2", 3600)
	waitCount(t, d.s, nsA, 2)
	if code, _ := tryConnect(t, d.addr, "a", "p3", true, 0); code != 0x97 {
		t.Fatalf("a third session with two kept offline: reason 0x%02x, want 0x97", code)
	}
	r := dialRaw(t, d.addr)
	r.v = 4
	if ack := r.connect("p4", true, 30, func(pk *packets.Packet) {
		pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte("a")
	}); ack.ReasonCode != 3 {
		t.Fatalf("MQTT 3.1.1 over the quota: return code %d, want 3", ack.ReasonCode)
	}
	if code, _ := tryConnect(t, d.addr, "b", "p1", true, 0); code != 0 {
		t.Fatalf("another namespace's first session: reason 0x%02x", code)
	}
	// Resuming, replacing and taking over are not new sessions.
	if code, present := tryConnect(t, d.addr, "a", "p1", false, 3600); code != 0 || !present {
		t.Fatalf("resuming p1: reason 0x%02x, present %v", code, present)
	}
	if code, present := tryConnect(t, d.addr, "a", "p1", false, 3600); code != 0 || !present {
		t.Fatalf("taking p1 over: reason 0x%02x, present %v", code, present)
	}
	if code, present := tryConnect(t, d.addr, "a", "p2", true, 3600); code != 0 || present {
		t.Fatalf("replacing p2 with a clean start: reason 0x%02x, present %v", code, present)
	}
	waitCount(t, d.s, nsA, 2)

	// The restarted broker restores both sessions and their count.
	d.restart()
	waitCount(t, d.s, nsA, 2)
	if code, _ := tryConnect(t, d.addr, "a", "p3", true, 0); code != 0x97 {
		t.Fatalf("a third session after the restart: reason 0x%02x, want 0x97", code)
	}
	if code, present := tryConnect(t, d.addr, "a", "p2", false, 3600); code != 0 || !present {
		t.Fatalf("resuming p2 after the restart: reason 0x%02x, present %v", code, present)
	}

	// A session that expires frees its place.
	leave(t, d.addr, "a", "p1", 1)
	waitCount(t, d.s, nsA, 1)
	if code, _ := tryConnect(t, d.addr, "a", "p3", true, 0); code != 0 {
		t.Fatalf("a session after one expired: reason 0x%02x", code)
	}
	waitCount(t, d.s, nsA, 2)
}
