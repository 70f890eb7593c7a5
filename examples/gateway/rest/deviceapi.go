package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/channel/deviceapi"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/protocol"
)

// DeviceAPI is implemented by a Live that serves ThingsBoard's device MQTT
// API: RPC to devices, their attributes, firmware and software updates.
type DeviceAPI interface {
	DeviceRPC(ctx context.Context, d registry.Device, method string, params json.RawMessage, wait bool, timeout time.Duration) (json.RawMessage, error)
	DeviceAttributes(ctx context.Context, d registry.Device) (client, shared []deviceapi.Attribute, err error)
	SetSharedAttributes(ctx context.Context, d registry.Device, set []deviceapi.Attribute, del []string) error
	AssignPackage(ctx context.Context, d registry.Device, kind deviceapi.PackageKind, pkg *deviceapi.Package) error
}

func (q *request) deviceAPI() (DeviceAPI, error) {
	if api, ok := q.api.Live.(DeviceAPI); ok {
		return api, nil
	}
	return nil, errf(http.StatusNotImplemented, "this gateway serves no device API")
}

// rpcInput is a server-side RPC: {"method":"setGpio","params":{…},
// "timeout":10,"wait":true}. Without wait the request is sent (or queued
// for an offline device with a persistent session) and not awaited.
type rpcInput struct {
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Timeout float64         `json:"timeout"`
	Wait    *bool           `json:"wait"`
}

// rpc serves POST /gw/devices/{sel}/rpc.
func (q *request) rpc(ids []int64) ([]byte, error) {
	if q.method != http.MethodPost {
		return nil, q.methodNotAllowed()
	}
	api, err := q.deviceAPI()
	if err != nil {
		return nil, err
	}
	var in rpcInput
	if err := decodeStrict(q.body, &in); err != nil {
		return nil, err
	}
	if in.Method == "" || in.Timeout < 0 || in.Timeout > 3600 {
		return nil, errf(http.StatusBadRequest, "rpc: a method is required, and a timeout of at most 3600 seconds")
	}
	wait := in.Wait == nil || *in.Wait
	var items [][]byte
	for _, id := range ids {
		d, _ := q.api.Registry.Devices.Get(id)
		out, err := api.DeviceRPC(q.ctx, d, in.Method, in.Params, wait, time.Duration(in.Timeout*float64(time.Second)))
		if err != nil {
			return nil, err
		}
		item := map[string]any{"id": id, "method": in.Method}
		if wait {
			item["response"] = json.RawMessage(out)
			if len(out) == 0 || !json.Valid(out) {
				item["response"] = string(out)
			}
		}
		b, _ := json.Marshal(item)
		items = append(items, b)
	}
	return result(items), nil
}

// attributes serves /gw/devices/{sel}/attributes: GET the client and shared
// attributes, PUT {"key":value,…} to set shared ones (null deletes one),
// pushed to the device.
func (q *request) attributes(ids []int64) ([]byte, error) {
	api, err := q.deviceAPI()
	if err != nil {
		return nil, err
	}
	toMap := func(attrs []deviceapi.Attribute) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		for _, a := range attrs {
			m[a.Key] = a.Value.AppendJSON(nil)
		}
		return m
	}
	var set []deviceapi.Attribute
	var del []string
	switch q.method {
	case http.MethodGet:
	case http.MethodPut:
		var in map[string]json.RawMessage
		if err := json.Unmarshal(q.body, &in); err != nil {
			return nil, errf(http.StatusBadRequest, "attributes: want a JSON object of shared attributes: %v", err)
		}
		for k, raw := range in {
			if strings.TrimSpace(string(raw)) == "null" {
				del = append(del, k)
				continue
			}
			v, err := protocol.ParseValueJSON(raw)
			if err != nil {
				return nil, errf(http.StatusBadRequest, "attributes: %s: %v", k, err)
			}
			set = append(set, deviceapi.Attribute{Key: k, Value: v})
		}
	default:
		return nil, q.methodNotAllowed()
	}
	var items [][]byte
	for _, id := range ids {
		d, _ := q.api.Registry.Devices.Get(id)
		if q.method == http.MethodPut {
			if err := api.SetSharedAttributes(q.ctx, d, set, del); err != nil {
				return nil, err
			}
		}
		client, shared, err := api.DeviceAttributes(q.ctx, d)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(map[string]any{"id": id, "client": toMap(client), "shared": toMap(shared)})
		items = append(items, b)
	}
	return result(items), nil
}

// packageInput assigns firmware or software: {"kind":"firmware",
// "title":"…","version":"…","data":"<base64>"}.
type packageInput struct {
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	Version string `json:"version"`
	Data    string `json:"data"`
}

// firmware serves POST /gw/devices/{sel}/firmware.
func (q *request) firmware(ids []int64) ([]byte, error) {
	if q.method != http.MethodPost {
		return nil, q.methodNotAllowed()
	}
	api, err := q.deviceAPI()
	if err != nil {
		return nil, err
	}
	var in packageInput
	if err := decodeStrict(q.body, &in); err != nil {
		return nil, err
	}
	kind := deviceapi.Firmware
	switch in.Kind {
	case "", "firmware":
	case "software":
		kind = deviceapi.Software
	default:
		return nil, errf(http.StatusBadRequest, "kind: firmware or software")
	}
	data, err := base64.StdEncoding.DecodeString(in.Data)
	if err != nil || len(data) == 0 || in.Title == "" || in.Version == "" {
		return nil, errf(http.StatusBadRequest, "firmware: title, version and base64 data are required")
	}
	var items [][]byte
	for _, id := range ids {
		d, _ := q.api.Registry.Devices.Get(id)
		pkg := deviceapi.NewPackage(in.Title, in.Version, data)
		if err := api.AssignPackage(q.ctx, d, kind, pkg); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(map[string]any{"id": id, "kind": kind.String(), "title": in.Title, "version": in.Version,
			"size": pkg.Size, "checksum": pkg.Checksum, "checksum_algorithm": pkg.ChecksumAlgorithm})
		items = append(items, b)
	}
	return result(items), nil
}
