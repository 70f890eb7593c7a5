package node_test

import (
	"fmt"
	"testing"
)

// restAs calls the API with a token, optionally in a subaccount.
func restAs(t *testing.T, g *gateway, token string, cid int64, method, path string, body any) (int, map[string]any) {
	t.Helper()
	if cid == 0 {
		return restCall(t, g.http, token, method, path, body)
	}
	return restCallHeader(t, g.http, token, map[string]string{"X-Flespi-Cid": fmt.Sprint(cid)}, method, path, body)
}

// Accounts as an attacker would try them: a token of account A cannot
// read, list, change or delete B's objects by id, by selector or through
// fields, cannot act in B or in its own parent, and a limit holds.
func TestAccountIsolation(t *testing.T) {
	g := start(t, testConfig(t.TempDir()))
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "fleet A"}, {"name": "fleet B"}})
	accts := results(t, out)
	a, b := int64(accts[0]["id"].(float64)), int64(accts[1]["id"].(float64))
	if accts[0]["cid"].(float64) != 1 {
		t.Fatalf("subaccount's parent %v", accts[0])
	}
	token := func(cid int64) string {
		status, out := restAs(t, g, master, cid, "POST", "/platform/tokens", []map[string]any{{"info": fmt.Sprint("t", cid)}})
		if status != 200 {
			t.Fatalf("token for %d: %d %v", cid, status, out)
		}
		return results(t, out)[0]["key"].(string)
	}
	keyA, keyB := token(a), token(b)
	device := func(key string, ident string) int64 {
		status, out := restCall(t, g.http, key, "POST", "/gw/devices", []map[string]any{{"name": ident, "configuration": map[string]any{"ident": ident}}})
		if status != 200 {
			t.Fatalf("device %s: %d %v", ident, status, out)
		}
		return int64(results(t, out)[0]["id"].(float64))
	}
	dA, dB := device(keyA, "a-1"), device(keyB, "b-1")
	device(master, "root-1")

	count := func(key, path string) int {
		status, out := restCall(t, g.http, key, "GET", path, nil)
		if status != 200 {
			t.Fatalf("GET %s: %d %v", path, status, out)
		}
		return len(results(t, out))
	}
	for path, want := range map[string]int{
		"/gw/devices/all":                          1,
		fmt.Sprintf("/gw/devices/%d", dB):          0,
		fmt.Sprintf("/gw/devices/%d,%d", dA, dB):   1,
		fmt.Sprintf("/gw/devices/{cid=%d}", b):     0,
		"/gw/devices/configuration.ident=b*":       0,
		"/gw/devices/all?fields=cid,id":            1,
		"/platform/tokens/all":                     1,
		"/platform/subaccounts/all":                0,
		fmt.Sprintf("/gw/devices/%d/messages", dB): 0,
	} {
		if got := count(keyA, path); got != want {
			t.Errorf("A: GET %s gave %d items, want %d", path, got, want)
		}
	}
	// Changes through selectors touch nothing of B's.
	restCall(t, g.http, keyA, "PUT", fmt.Sprintf("/gw/devices/%d", dB), map[string]any{"name": "stolen"})
	restCall(t, g.http, keyA, "DELETE", "/gw/devices/all", nil)
	if d, ok := g.Registry.Devices.Get(dB); !ok || d.Name != "b-1" {
		t.Fatalf("B's device after A's attempts: %+v %v", d, ok)
	}
	if _, ok := g.Registry.Devices.Get(dA); ok {
		t.Fatal("A could not delete its own device")
	}
	// Acting in another account, or in its parent, is refused.
	for _, cid := range []int64{b, 1, 999} {
		if status, _ := restAs(t, g, keyA, cid, "GET", "/gw/devices/all", nil); status != 403 {
			t.Errorf("A acting in account %d: %d, want 403", cid, status)
		}
	}
	// A stream of A cannot subscribe to B's device.
	if status, _ := restCall(t, g.http, keyA, "POST", "/gw/streams", []map[string]any{{"name": "s", "protocol_name": "http",
		"configuration": map[string]any{"uri": "http://127.0.0.1:1/"}, "devices": []int64{dB}}}); status != 400 {
		t.Errorf("A subscribing to B's device: %d, want 400", status)
	}
	// The master sees every account's devices; with the header, one.
	if n := count(master, "/gw/devices/all"); n != 2 {
		t.Errorf("master sees %d devices, want 2 (root's and B's)", n)
	}
	if status, out := restAs(t, g, master, b, "GET", "/gw/devices/all", nil); status != 200 || len(results(t, out)) != 1 {
		t.Errorf("master in B: %d %v", status, out)
	}
	// Limits.
	if status, _ := g.rest("PUT", fmt.Sprintf("/platform/subaccounts/%d", b), map[string]any{"limits": map[string]any{"devices": 1}}); status != 200 {
		t.Fatalf("setting B's limits: %d", status)
	}
	if status, out := restCall(t, g.http, keyB, "POST", "/gw/devices", []map[string]any{{"configuration": map[string]any{"ident": "b-2"}}}); status != 403 {
		t.Errorf("B over its device limit: %d %v", status, out)
	}
	// An account that holds objects is not deleted.
	if status, _ := g.rest("DELETE", fmt.Sprintf("/platform/subaccounts/%d", b), nil); status != 409 {
		t.Errorf("deleting B with a device: %d, want 409", status)
	}
}
