package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/channel/deviceapi"
)

// device is one simulated ThingsBoard device: it reports telemetry, keeps
// its interval in a shared attribute, answers RPC and installs firmware it
// is assigned, downloading it in chunks and checking its checksum.
type device struct {
	conn      link
	out       io.Writer
	chunkSize int

	mu       sync.Mutex
	interval time.Duration
	fwTitle  string
	fwVer    string
	updating bool
	shared   map[string]json.RawMessage
	seq      int
	fwReqID  int
	chunks   chan message // firmware chunks, from serve to download
}

// Topics the device subscribes to (ThingsBoard's device API).
var deviceTopics = []string{
	"v1/devices/me/attributes",
	"v1/devices/me/attributes/response/+",
	"v1/devices/me/rpc/request/+",
	"v2/fw/response/+/chunk/+",
	"v2/fw/error",
}

func newDevice(c link, out io.Writer, interval time.Duration, chunkSize int) *device {
	return &device{conn: c, out: out, interval: interval, chunkSize: chunkSize,
		fwTitle: "devicesim", fwVer: "1.0.0", shared: map[string]json.RawMessage{}, chunks: make(chan message, 16)}
}

func (d *device) logf(format string, args ...any) {
	fmt.Fprintf(d.out, time.Now().Format("15:04:05.000")+" "+format+"\n", args...)
}

// run reports telemetry until ctx ends or the connection drops, and serves
// what the server sends meanwhile. count > 0 stops after that many
// telemetry messages (the device stays connected until ctx ends).
func (d *device) run(ctx context.Context, count int) error {
	if err := d.conn.Subscribe(ctx, deviceTopics...); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	attrs := fmt.Sprintf(`{"model":"gnssgate-devicesim","current_fw_title":%q,"current_fw_version":%q}`, d.fwTitle, d.fwVer)
	if err := d.conn.Publish(ctx, "v1/devices/me/attributes", []byte(attrs)); err != nil {
		return fmt.Errorf("client attributes: %w", err)
	}
	// Ask for the shared attributes the device acts on: a firmware
	// assigned while it was away, its reporting interval.
	req := `{"sharedKeys":"interval,fw_title,fw_version,fw_size,fw_checksum,fw_checksum_algorithm"}`
	if err := d.conn.Publish(ctx, "v1/devices/me/attributes/request/1", []byte(req)); err != nil {
		return fmt.Errorf("attribute request: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- d.serve(ctx) }()
	timer := time.NewTimer(0)
	defer timer.Stop()
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case <-timer.C:
		}
		if count == 0 || sent < count {
			if err := d.telemetry(ctx); err != nil {
				return err
			}
			sent++
		}
		d.mu.Lock()
		timer.Reset(d.interval)
		d.mu.Unlock()
	}
}

// telemetry publishes one message of a vehicle driving in a circle.
func (d *device) telemetry(ctx context.Context) error {
	d.mu.Lock()
	d.seq++
	n := d.seq
	d.mu.Unlock()
	a := float64(n) / 20
	payload := fmt.Sprintf(`{"ts":%d,"values":{"position.latitude":%.6f,"position.longitude":%.6f,"position.speed":%d,`+
		`"engine.ignition.status":%t,"temperature":%.1f,"seq":%d}}`, time.Now().UnixMilli(),
		54.6872+0.01*math.Sin(a), 25.2797+0.01*math.Cos(a), 40+n%20, n%10 != 0, 20+5*math.Sin(a/3), n)
	if err := d.conn.Publish(ctx, "v1/devices/me/telemetry", []byte(payload)); err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	return nil
}

// serve handles what the server sends.
func (d *device) serve(ctx context.Context) error {
	for {
		var m message
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case <-d.conn.Done():
			return fmt.Errorf("connection closed")
		case m, ok = <-d.conn.Messages():
			if !ok {
				return fmt.Errorf("connection closed")
			}
		}
		switch t := m.topic; {
		case t == "v1/devices/me/attributes":
			d.onShared(ctx, m.payload)
		case strings.HasPrefix(t, "v1/devices/me/attributes/response/"):
			var r struct{ Shared json.RawMessage }
			if json.Unmarshal(m.payload, &r) == nil && r.Shared != nil {
				d.onShared(ctx, r.Shared)
			}
		case strings.HasPrefix(t, "v1/devices/me/rpc/request/"):
			id := strings.TrimPrefix(t, "v1/devices/me/rpc/request/")
			go d.onRPC(ctx, id, m.payload)
		case strings.HasPrefix(t, "v2/fw/response/"):
			select {
			case d.chunks <- m:
			default: // nobody downloading: a stray chunk
			}
		case t == "v2/fw/error":
			d.logf("firmware error: %s", m.payload)
			d.fwState(ctx, "FAILED", string(m.payload))
		}
	}
}

// onShared takes shared attributes: the interval, and firmware to install.
func (d *device) onShared(ctx context.Context, payload []byte) {
	var upd map[string]json.RawMessage
	if err := json.Unmarshal(payload, &upd); err != nil {
		d.logf("bad attributes %s", payload)
		return
	}
	d.logf("shared attributes %s", payload)
	d.mu.Lock()
	for k, v := range upd {
		d.shared[k] = v
	}
	if v, ok := upd["interval"]; ok {
		if s, err := strconv.ParseFloat(string(v), 64); err == nil && s > 0 {
			d.interval = time.Duration(s * float64(time.Second))
		}
	}
	title, ver := str(d.shared["fw_title"]), str(d.shared["fw_version"])
	start := title != "" && (title != d.fwTitle || ver != d.fwVer) && !d.updating
	if start {
		d.updating = true
	}
	d.mu.Unlock()
	if start {
		go d.updateFirmware(ctx)
	}
}

func str(raw json.RawMessage) string {
	var s string
	json.Unmarshal(raw, &s)
	return s
}

// onRPC answers a server-side RPC request.
func (d *device) onRPC(ctx context.Context, id string, payload []byte) {
	var req struct {
		Method string
		Params json.RawMessage
	}
	json.Unmarshal(payload, &req)
	d.logf("RPC %s %s", req.Method, req.Params)
	var res string
	switch req.Method {
	case "getTime":
		res = fmt.Sprintf(`{"time":%d}`, time.Now().Unix())
	case "setInterval":
		var p struct{ Interval float64 }
		json.Unmarshal(req.Params, &p)
		if p.Interval > 0 {
			d.mu.Lock()
			d.interval = time.Duration(p.Interval * float64(time.Second))
			d.mu.Unlock()
		}
		res = fmt.Sprintf(`{"interval":%g}`, p.Interval)
	case "getFirmware":
		d.mu.Lock()
		res = fmt.Sprintf(`{"title":%q,"version":%q}`, d.fwTitle, d.fwVer)
		d.mu.Unlock()
	default:
		b, _ := json.Marshal(map[string]string{"error": "unknown method " + req.Method})
		res = string(b)
	}
	if err := d.conn.Publish(ctx, "v1/devices/me/rpc/response/"+id, []byte(res)); err != nil {
		d.logf("RPC answer: %v", err)
	}
}

// fwState reports the firmware update state as ThingsBoard expects
// (telemetry fw_state, and fw_error when it failed).
func (d *device) fwState(ctx context.Context, state, errText string) {
	payload := fmt.Sprintf(`{"fw_state":%q}`, state)
	if errText != "" {
		payload = fmt.Sprintf(`{"fw_state":%q,"fw_error":%q}`, state, errText)
	}
	if state == "UPDATED" {
		d.mu.Lock()
		payload = fmt.Sprintf(`{"fw_state":"UPDATED","current_fw_title":%q,"current_fw_version":%q}`, d.fwTitle, d.fwVer)
		d.mu.Unlock()
	}
	if err := d.conn.Publish(ctx, "v1/devices/me/telemetry", []byte(payload)); err != nil {
		d.logf("fw_state: %v", err)
	}
	if state == "FAILED" {
		d.mu.Lock()
		d.updating = false
		d.mu.Unlock()
	}
}

// updateFirmware downloads the assigned image chunk by chunk, checks it
// and "installs" it.
func (d *device) updateFirmware(ctx context.Context) {
	d.mu.Lock()
	title, ver := str(d.shared["fw_title"]), str(d.shared["fw_version"])
	size, _ := strconv.Atoi(string(d.shared["fw_size"]))
	sum, alg := str(d.shared["fw_checksum"]), str(d.shared["fw_checksum_algorithm"])
	d.fwReqID++
	reqID := d.fwReqID
	d.mu.Unlock()
	d.logf("firmware %s %s: %d bytes, downloading in chunks of %d", title, ver, size, d.chunkSize)
	d.fwState(ctx, "DOWNLOADING", "")
	image, err := d.download(ctx, reqID, size)
	if err != nil {
		d.fwState(ctx, "FAILED", err.Error())
		return
	}
	d.fwState(ctx, "DOWNLOADED", "")
	got, err := deviceapi.ChecksumOf(alg, image) // the algorithms ThingsBoard devices use
	if err != nil || got != sum {
		d.fwState(ctx, "FAILED", fmt.Sprintf("checksum %s, want %s", got, sum))
		return
	}
	d.fwState(ctx, "VERIFIED", "")
	d.fwState(ctx, "UPDATING", "")
	d.mu.Lock()
	d.fwTitle, d.fwVer, d.updating = title, ver, false
	d.mu.Unlock()
	d.logf("firmware %s %s installed (%s verified)", title, ver, alg)
	d.fwState(ctx, "UPDATED", "")
}

// download requests chunks until it has size bytes; serve passes the
// answers on.
func (d *device) download(ctx context.Context, reqID, size int) ([]byte, error) {
	var image []byte
	for n := 0; len(image) < size; n++ {
		topic := fmt.Sprintf("v2/fw/request/%d/chunk/%d", reqID, n)
		if err := d.conn.Publish(ctx, topic, []byte(strconv.Itoa(d.chunkSize))); err != nil {
			return nil, err
		}
		want := fmt.Sprintf("v2/fw/response/%d/chunk/%d", reqID, n)
		select {
		case m := <-d.chunks:
			if m.topic != want {
				return nil, fmt.Errorf("got %s, want %s", m.topic, want)
			}
			if len(m.payload) == 0 {
				return image, fmt.Errorf("image ends at %d bytes, %d announced", len(image), size)
			}
			image = append(image, m.payload...)
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("no answer to chunk %d", n)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return image, nil
}
