package node_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

// configDevice is a simulated Teltonika tracker that also answers its
// server's getparam and setparam commands (device.Params), the way a real
// one does: Codec 12 commands arrive between the ACKs of its data.
type configDevice struct {
	t        *testing.T
	s        device.Session
	c        net.Conn
	params   *device.Params
	wmu      sync.Mutex
	acks     chan []byte
	mu       sync.Mutex
	commands []string
}

func connectConfigDevice(t *testing.T, addr string, n uint64, params *device.Params) *configDevice {
	t.Helper()
	s, err := device.New(device.Teltonika, device.IMEI(35630704250000+n), device.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &configDevice{t: t, s: s, c: c, params: params, acks: make(chan []byte, 16)}
	t.Cleanup(func() { c.Close() })
	var p device.Packet
	s.Login(&p)
	c.Write(p.Bytes)
	ack := make([]byte, 1)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(ack); err != nil || ack[0] != 1 {
		t.Fatalf("login: %x %v", ack, err)
	}
	c.SetReadDeadline(time.Time{})
	go d.read()
	return d
}

// read answers commands and hands ACKs to send.
func (d *configDevice) read() {
	var buf []byte
	chunk := make([]byte, 1024)
	for {
		n, err := d.c.Read(chunk)
		if err != nil {
			close(d.acks)
			return
		}
		buf = append(buf, chunk[:n]...)
		for len(buf) >= 4 {
			if !device.IsTeltonikaCommand(buf) {
				d.acks <- append([]byte(nil), buf[:4]...)
				buf = buf[4:]
				continue
			}
			adv, text, err := device.SplitTeltonikaCommand(buf)
			if err != nil {
				d.t.Errorf("device: %v", err)
				d.c.Close()
				return
			}
			if adv == 0 {
				break
			}
			buf = buf[adv:]
			d.mu.Lock()
			d.commands = append(d.commands, text)
			d.mu.Unlock()
			if answer, ok := d.params.Answer(text); ok {
				d.wmu.Lock()
				d.c.Write(device.AppendTeltonikaAnswer(nil, answer))
				d.wmu.Unlock()
			}
		}
	}
}

// send sends one record and waits for its ACK.
func (d *configDevice) send(at time.Time) {
	d.t.Helper()
	var p device.Packet
	pt := device.NewTrack(1, 1, device.Area{}, at).At(at)
	if err := d.s.Data(&p, []device.Point{pt}, false); err != nil {
		d.t.Fatal(err)
	}
	d.wmu.Lock()
	d.c.Write(p.Bytes)
	d.wmu.Unlock()
	select {
	case ack := <-d.acks:
		if string(ack) != string(p.Ack) {
			d.t.Fatalf("ack %x, want %x", ack, p.Ack)
		}
	case <-time.After(10 * time.Second):
		d.t.Fatal("no ack")
	}
}

func (d *configDevice) received() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.commands...)
}

// retained collects the retained settings topics of a gateway's broker.
func retained(t *testing.T, g *gateway) func(topic string) string {
	sub, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + g.Addrs().MQTT, Username: master,
		ClientID: "settings-" + time.Now().Format("150405.000000"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	var mu sync.Mutex
	got := map[string]string{}
	if _, err := sub.Subscribe(context.Background(), "flespi/state/gw/devices/+/settings/+", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		mu.Lock()
		got[m.Topic] = string(m.Payload)
		mu.Unlock()
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	return func(topic string) string {
		mu.Lock()
		defer mu.Unlock()
		return got[topic]
	}
}

// setting calls the settings API and returns the one setting answered.
func (g *gateway) setting(method, path string, body any) map[string]any {
	t := g.t
	t.Helper()
	status, out := g.rest(method, path, body)
	if status != 200 {
		t.Fatalf("status %d: %v", status, out)
	}
	r := results(t, out)
	if len(r) != 1 {
		t.Fatalf("want one setting: %v", out)
	}
	return r[0]
}

// TestDeviceSettings: through the REST API, a Teltonika device's
// parameters are read and written over Codec 12; the values are kept and
// retained on MQTT; a write made while the device is offline is kept across
// a gateway restart and reaches the device when it logs in again.
func TestDeviceSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := gwtest.ConfigIn(dir, protocols...)
	g := start(t, cfg)
	params := device.NewParams(map[string]string{"2001": "internet", "1000": "60", "2004": "old.example.com"})
	dev := connectConfigDevice(t, g.channelAddr(device.Teltonika), 1, params)
	dev.send(time.Unix(1_800_000_000, 0))
	sel := "/gw/devices/configuration.ident=" + dev.s.Ident()
	var id float64
	waitFor(t, "the device to be registered", func() bool {
		status, out := g.rest("GET", sel, nil)
		if status == 200 && len(results(t, out)) == 1 {
			id = results(t, out)[0]["id"].(float64)
			return true
		}
		return false
	})
	topic := "flespi/state/gw/devices/" + itoa(int64(id)) + "/settings/"
	mqtt := retained(t, g)

	// Read from the device.
	st := g.setting("GET", sel+"/settings/2001", nil)
	if st["current"] != "internet" || st["pending"] != nil || st["updated"] == nil {
		t.Fatalf("read: %v", st)
	}
	// Write to the connected device: it answers, the value is current.
	st = g.setting("PUT", sel+"/settings/2001", map[string]any{"value": "m2m.example"})
	if st["current"] != "m2m.example" || st["pending"] != nil {
		t.Fatalf("write: %v", st)
	}
	if v, _ := params.Get("2001"); v != "m2m.example" {
		t.Fatalf("the device holds %q", v)
	}
	waitFor(t, "the retained value", func() bool { return mqtt(topic+"2001") == `"m2m.example"` })
	// A parameter the device does not have: it refuses.
	st = g.setting("PUT", sel+"/settings/99999", map[string]any{"value": 1})
	if !strings.Contains(st["error"].(string), "Not supported Param ID") || st["pending"] != nil {
		t.Fatalf("refused write: %v", st)
	}
	// Bad input never reaches the device.
	if status, out := g.rest("PUT", sel+"/settings/2001", map[string]any{"value": "a;1000:1"}); status != 400 {
		t.Fatalf("a value with ';': %d %v", status, out)
	}
	if status, out := g.rest("PUT", sel+"/settings/apn", map[string]any{"value": "x"}); status != 400 {
		t.Fatalf("a name that is no parameter ID: %d %v", status, out)
	}
	for _, bad := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", sel + "/settings/2001?timeout=x", nil, 400},
		{"GET", sel + "/settings/2001?timeout=600", nil, 400},
		{"PUT", sel + "/settings", map[string]any{"value": "x"}, 400},
		{"PUT", sel + "/settings/2001", map[string]any{"ttl": 5}, 400},
		{"PUT", sel + "/settings/2001", map[string]any{"value": true}, 400},
		{"PUT", sel + "/settings/2001", map[string]any{"value": "x", "ttl": -1}, 400},
		{"PUT", sel + "/settings/2001", map[string]any{"value": "x", "colour": "red"}, 400},
		{"GET", sel + "/settings/a%2Fb", nil, 400},
		{"POST", sel + "/settings/2001", map[string]any{"value": "x"}, 405},
		{"GET", sel + "/settings/2001/more", nil, 404},
	} {
		if status, out := g.rest(bad.method, bad.path, bad.body); status != bad.status {
			t.Errorf("%s %s: %d %v, want %d", bad.method, bad.path, status, out, bad.status)
		}
	}
	sent := len(dev.received())

	// Offline: the write waits, durably, across a restart.
	dev.c.Close()
	waitFor(t, "the device to be offline", func() bool {
		status, out := g.rest("GET", sel+"?fields=connected", nil)
		return status == 200 && results(t, out)[0]["connected"] == false
	})
	st = g.setting("PUT", sel+"/settings/1000", map[string]any{"value": 30, "ttl": 3600})
	if st["pending"] != "30" || st["current"] != nil || st["expire"] == nil {
		t.Fatalf("offline write: %v", st)
	}
	g.stop()
	g = start(t, cfg)
	mqtt = retained(t, g)
	waitFor(t, "the kept value to be retained again after the restart", func() bool { return mqtt(topic+"2001") == `"m2m.example"` })
	status, out := g.rest("GET", sel+"/settings", nil)
	if status != 200 || len(results(t, out)) != 3 { // 1000 (pending), 2001, 99999 (refused)
		t.Fatalf("kept after the restart: %d %v", status, out)
	}
	dev = connectConfigDevice(t, g.channelAddr(device.Teltonika), 1, params)
	waitFor(t, "the device to get the pending write", func() bool { v, _ := params.Get("1000"); return v == "30" })
	waitFor(t, "the write to be confirmed", func() bool {
		st := g.setting("GET", sel+"/settings/1000?timeout=0", nil)
		return st["current"] == "30" && st["pending"] == nil
	})
	waitFor(t, "the retained 1000", func() bool { return mqtt(topic+"1000") == `"30"` })
	if got := dev.received(); len(got) != 1 || got[0] != "setparam 1000:30" {
		t.Fatalf("the device got %q after its login (and %d commands before)", got, sent)
	}
	dev.send(time.Unix(1_800_000_100, 0)) // data still flows

	// Offline again, without a restart: the write reaches the next login
	// through the index of pending writes the registry's watch keeps (a
	// login of a device with none reads nothing).
	dev.c.Close()
	waitFor(t, "the device to be offline", func() bool {
		status, out := g.rest("GET", sel+"?fields=connected", nil)
		return status == 200 && results(t, out)[0]["connected"] == false
	})
	if st := g.setting("PUT", sel+"/settings/2004", map[string]any{"value": "new.example.com"}); st["pending"] != "new.example.com" {
		t.Fatalf("offline write: %v", st)
	}
	dev = connectConfigDevice(t, g.channelAddr(device.Teltonika), 1, params)
	waitFor(t, "the device to get the write made while it was away", func() bool { v, _ := params.Get("2004"); return v == "new.example.com" })
	waitFor(t, "that write to be confirmed", func() bool {
		st := g.setting("GET", sel+"/settings/2004?timeout=0", nil)
		return st["current"] == "new.example.com" && st["pending"] == nil
	})

	// Forget: the gateway drops it; the retained topic is cleared.
	if status, out := g.rest("DELETE", sel+"/settings/1000", nil); status != 200 {
		t.Fatalf("DELETE: %d %v", status, out)
	}
	status, out = g.rest("GET", sel+"/settings/all", nil)
	if status != 200 || len(results(t, out)) != 3 { // 2001, 2004, 99999
		t.Fatalf("after DELETE: %v", out)
	}
	waitFor(t, "the retained 1000 cleared", func() bool { return mqtt(topic+"1000") == "" })

	// A protocol without settings says so.
	gt := dial(t, device.GT06, g.channelAddr(device.GT06), 2)
	if _, err := send(gt); err != nil {
		t.Fatal(err)
	}
	gsel := "/gw/devices/configuration.ident=" + gt.Ident()
	waitFor(t, "the GT06 device to be registered", func() bool {
		status, out := g.rest("GET", gsel, nil)
		return status == 200 && len(results(t, out)) == 1
	})
	if status, out := g.rest("PUT", gsel+"/settings/timer", map[string]any{"value": 10}); status != 501 {
		t.Fatalf("GT06 settings: %d %v", status, out)
	}
}
