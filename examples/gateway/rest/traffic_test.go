package rest_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// A recorded connection is listed per channel and per device, decoded
// frame by frame, and exported as a traffic file and as a golden case
// that protocoltest passes as it is.
func TestTraffic(t *testing.T) {
	n, addr := startGateway(t)
	chID, chAddr := channelAddr(t, n)
	ident := sendPositions(t, chAddr, 3)

	var rec map[string]any
	waitFor(t, "the recording", func() bool {
		_, out := call(t, addr, master, "GET", fmt.Sprintf("/gw/channels/%d/traffic", chID), nil)
		list, _ := out["result"].([]any)
		if len(list) == 1 {
			rec = list[0].(map[string]any)
		}
		return rec != nil && rec["size"].(float64) > 0
	})
	if rec["ident"] != ident || rec["device_id"] == nil || rec["channel_id"].(float64) != float64(chID) {
		t.Fatalf("recording %v", rec)
	}
	devID := int64(rec["device_id"].(float64))
	_, out := call(t, addr, master, "GET", fmt.Sprintf("/gw/devices/%d/traffic", devID), nil)
	if got := first(t, out); got["name"] != rec["name"] {
		t.Fatalf("device listing %v, want %v", got, rec)
	}
	base := fmt.Sprintf("/gw/channels/%d/traffic/%s/%s", chID, ident, rec["name"])

	// Decoded: the login, its reply, three records each with its reply.
	var view map[string]any
	waitFor(t, "the last reply in the recording", func() bool {
		_, out := call(t, addr, master, "GET", base, nil)
		view = first(t, out)
		return len(view["chunks"].([]any)) == 8
	})
	chunks := view["chunks"].([]any)
	login := chunks[0].(map[string]any)
	if login["dir"] != ">" || !strings.HasPrefix(login["hex"].(string), "000f") {
		t.Fatalf("first chunk %v", login)
	}
	frames := login["frames"].([]any)
	if len(frames) != 1 || frames[0].(map[string]any)["reply"] != "01" || frames[0].(map[string]any)["ident"] != ident {
		t.Fatalf("login frames %v", frames)
	}
	if c := chunks[1].(map[string]any); c["dir"] != "<" || c["hex"] != "01" {
		t.Fatalf("second chunk %v", c)
	}
	data := chunks[2].(map[string]any)["frames"].([]any)[0].(map[string]any)
	msgs := data["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["position.latitude"] == nil || data["reply"] != "00000001" {
		t.Fatalf("data frame %v", data)
	}
	if view["messages"].(float64) != 3 || view["protocol_name"] != "teltonika" || view["transport"] != "tcp" || view["more"] != false {
		t.Fatalf("view %v", view)
	}
	// A window of the chunks: the codec still ran from the login.
	_, out = call(t, addr, master, "GET", base+"?from=4&count=1", nil)
	win := first(t, out)
	wc := win["chunks"].([]any)
	if len(wc) != 1 || wc[0].(map[string]any)["index"].(float64) != 4 || win["more"] != true ||
		len(wc[0].(map[string]any)["frames"].([]any)) != 1 {
		t.Fatalf("window %v", win)
	}

	// Exported as it is: the file examples/decode -f reads.
	_, out = call(t, addr, master, "GET", base+"/hex", nil)
	exp := first(t, out)
	chunksHex, err := traffic.Parse(strings.NewReader(exp["content"].(string)))
	if err != nil || len(chunksHex) != 8 || exp["name"] != rec["name"] {
		t.Fatalf("hex export: %v %d chunks, %v", err, len(chunksHex), exp["name"])
	}

	// Exported as a golden case: it passes protocoltest as it is.
	_, out = call(t, addr, master, "GET", base+"/txtar", nil)
	exp = first(t, out)
	content := exp["content"].(string)
	for _, want := range []string{"Source: gnssgate channel", "Transport: tcp", "Expect: position", "-- frame.hex --", "-- messages.json --", "-- reply.hex --\n01000000010000000100000001\n"} {
		if !strings.Contains(content, want) {
			t.Fatalf("golden case lacks %q:\n%s", want, content)
		}
	}
	file := filepath.Join(t.TempDir(), exp["name"].(string))
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := protocoltest.LoadCase(file)
	if err != nil {
		t.Fatal(err)
	}
	protocoltest.RunCase(t, c, func(cfg protocoltest.Config) protocol.Codec {
		codec, _ := codecs.New("teltonika", codecs.Options{Lenient: cfg.Lenient})
		return codec
	})

	// Names that would leave the channel's directory, or are not
	// recordings, are refused; a missing one is not found.
	// (Over HTTP, ServeMux cleans "..": API.Do, which REST over MQTT calls,
	// sees them raw.)
	tok, _ := n.Registry.Authenticate(master, time.Now())
	for path, status := range map[string]int{
		fmt.Sprintf("/gw/channels/%d/traffic/../x.hex", chID):                             400,
		fmt.Sprintf("/gw/channels/%d/traffic/%s/..", chID, ident):                         400,
		fmt.Sprintf("/gw/channels/%d/traffic/%s/%s", chID, ident, url.PathEscape("../a")): 400,
		fmt.Sprintf("/gw/channels/%d/traffic/%s/notes.txt", chID, ident):                  400,
		fmt.Sprintf("/gw/channels/%d/traffic/%s/20260101T000000.000Z_1.hex", chID, ident): 404,
		base + "/pdf": 404,
	} {
		if got, out := n.API.Do(context.Background(), tok, "GET", path, nil, nil); got != status {
			t.Errorf("GET %s: %d %s, want %d", path, got, out, status)
		}
	}
	if got, _ := call(t, addr, master, "DELETE", base, nil); got != 405 {
		t.Errorf("DELETE a recording: %d", got)
	}

	// The console's recording switch: a PUT of configuration.record alone
	// keeps the rest of the configuration.
	_, out = call(t, addr, master, "PUT", fmt.Sprintf("/gw/channels/%d", chID), map[string]any{"configuration": map[string]any{"record": false}})
	cfg := first(t, out)["configuration"].(map[string]any)
	if cfg["record"] != nil || cfg["tcp"] != "127.0.0.1:0" {
		t.Errorf("after PUT configuration.record=false: %v", cfg)
	}

	// The token's ACL applies as everywhere.
	_, out = call(t, addr, master, "POST", "/platform/tokens", []map[string]any{{"info": "devices only",
		"acl": map[string]any{"rest": []map[string]any{{"uri": "gw/devices*", "methods": []string{"GET"}}}}}})
	key := first(t, out)["key"].(string)
	if got, _ := call(t, addr, key, "GET", base, nil); got != 403 {
		t.Errorf("a token without channels read a recording: %d", got)
	}
	if got, _ := call(t, addr, key, "GET", fmt.Sprintf("/gw/devices/%d/traffic", devID), nil); got != 200 {
		t.Errorf("a devices token listing its device's recordings: %d", got)
	}
}
