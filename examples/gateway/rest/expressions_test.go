package rest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// Expressions, selectors and $filter subscriptions are evaluated against a
// pasted message or a device's last message; a text that does not parse
// is answered with the place of the error.
func TestExpressions(t *testing.T) {
	n, addr := startGateway(t)
	_, chAddr := channelAddr(t, n)
	ident := sendPositions(t, chAddr, 2)
	devID, ok := n.Registry.DeviceIDByIdent(ident)
	if !ok {
		t.Fatal("device not registered")
	}
	waitFor(t, "the history", func() bool {
		_, out := call(t, addr, master, "GET", fmt.Sprintf("/gw/devices/%d/messages", devID), nil)
		list, _ := out["result"].([]any)
		return len(list) == 2
	})
	test := func(body map[string]any) map[string]any {
		t.Helper()
		status, out := call(t, addr, master, "POST", "/gw/expressions", body)
		if status != 200 {
			t.Fatalf("POST /gw/expressions %v: %d %v", body, status, out)
		}
		return first(t, out)
	}

	r := test(map[string]any{"expression": "position.speed >= 0 && exists('position.latitude')", "device_id": devID})
	if r["valid"] != true || r["matched"] != true || r["value"] != true || r["message"].(map[string]any)["ident"] != ident {
		t.Errorf("expression over the last message: %v", r)
	}
	r = test(map[string]any{"expression": "a * 2", "message": map[string]any{"a": 21}})
	if r["value"] != 42.0 || r["matched"] != true || r["canonical"] != "a * 2" {
		t.Errorf("pasted message: %v", r)
	}
	r = test(map[string]any{"expression": "nothere > 1", "message": map[string]any{"a": 1}})
	if ee, _ := r["eval_error"].(map[string]any); r["matched"] != false || ee == nil || !strings.Contains(ee["reason"].(string), "nothere") {
		t.Errorf("evaluation error: %v", r)
	}
	r = test(map[string]any{"expression": "speed > (1 + 2))", "message": map[string]any{}})
	se, _ := r["error"].(map[string]any)
	if r["valid"] != false || se == nil || se["column"].(float64) != 16 || se["offset"].(float64) != 15 || se["line"].(float64) != 1 ||
		!strings.HasSuffix(se["snippet"].(string), "^") {
		t.Errorf("syntax error: %v", r)
	}

	// Selectors select the device object, telemetry included.
	for sel, want := range map[string]bool{
		"configuration.ident=" + ident:            true,
		"protocol_name=gt06":                      false,
		"{exists('telemetry.position.latitude')}": true,
		fmt.Sprintf("%d", devID):                  true,
		"{telemetry.position.latitude > 90}":      false,
	} {
		r = test(map[string]any{"kind": "selector", "expression": sel, "device_id": devID})
		if r["valid"] != true || r["matched"] != want {
			t.Errorf("selector %s: %v, want matched %v", sel, r, want)
		}
	}
	r = test(map[string]any{"kind": "selector", "expression": "{name==}", "device_id": devID})
	if r["valid"] != false || r["error"] == nil {
		t.Errorf("bad selector: %v", r)
	}

	// $filter and $share subscriptions, on the device's message topic.
	for topic, want := range map[string][2]bool{
		"$filter/payload=" + url.QueryEscape("position.speed>=0") + "/flespi/message/gw/devices/+": {true, true},
		"$filter/payload=" + url.QueryEscape("position.speed<0") + "/flespi/message/gw/devices/+":  {true, false},
		"$share/g/flespi/message/gw/channels/+/+":                                                  {false, false},
		fmt.Sprintf("flespi/message/gw/devices/%d,99999", devID):                                   {true, true},
	} {
		r = test(map[string]any{"kind": "topic", "expression": topic, "device_id": devID})
		if r["valid"] != true || r["topic_matched"] != want[0] || r["matched"] != want[1] {
			t.Errorf("topic %s: %v, want %v", topic, r, want)
		}
	}

	// GET with data= works as POST does.
	data := url.QueryEscape(`{"expression":"1+1","message":{}}`)
	if _, out := call(t, addr, master, "GET", "/gw/expressions?data="+data, nil); first(t, out)["value"] != 2.0 {
		t.Errorf("GET: %v", out)
	}
	for _, c := range []struct {
		body   map[string]any
		status int
	}{
		{map[string]any{"expression": "1"}, 400},
		{map[string]any{"expression": "1", "message": []int{1}}, 400},
		{map[string]any{"expression": "1", "kind": "sql", "message": map[string]any{}}, 400},
		{map[string]any{"expression": "1", "device_id": 999999}, 404},
		{map[string]any{"expression": "1", "nope": 1}, 400},
		{map[string]any{"kind": "topic", "expression": "a/+", "message": map[string]any{}}, 400},
	} {
		if status, out := call(t, addr, master, "POST", "/gw/expressions", c.body); status != c.status {
			t.Errorf("%v: %d %v, want %d", c.body, status, out, c.status)
		}
	}

	// A token may test pasted messages, and a device's only with the right
	// to read its messages.
	_, out := call(t, addr, master, "POST", "/platform/tokens", []map[string]any{{"info": "tester",
		"acl": map[string]any{"rest": []map[string]any{{"uri": "gw/expressions"}}}}})
	key := first(t, out)["key"].(string)
	if status, out := call(t, addr, key, "POST", "/gw/expressions", map[string]any{"expression": "1", "message": map[string]any{}}); status != 200 {
		t.Errorf("tester token, pasted message: %d %v", status, out)
	}
	if status, _ := call(t, addr, key, "POST", "/gw/expressions", map[string]any{"expression": "1", "device_id": devID}); status != 403 {
		t.Errorf("tester token read a device's message: %d", status)
	}
}
