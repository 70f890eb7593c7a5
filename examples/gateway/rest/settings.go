package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

// Device settings, flespi's /gw/devices/{selector}/settings/{name}: a
// setting is a named device parameter the gateway reads and writes with
// the protocol's commands (protocol.Settings: Teltonika's getparam and
// setparam over Codec 12) and keeps, durably, with the value the device
// last reported:
//
//	GET    /gw/devices/{sel}/settings             the kept settings, without asking the devices
//	GET    /gw/devices/{sel}/settings/{names}     read from the device if it is connected (?timeout=S, default 15 s; 0: the kept value only)
//	PUT    /gw/devices/{sel}/settings/{names}     {"value":"internet","ttl":86400}: write
//	DELETE /gw/devices/{sel}/settings/{names}     forget: drop a pending write, clear the kept value
//
// {names} is a name, names separated by commas, or "all" (the kept ones).
// Each answer item is a setting: {"device_id","name","current","updated",
// "pending","requested","expire","error"}; current is the value the device
// last reported, pending a value it has not confirmed yet.
//
// A PUT keeps the value as pending, then sends it if the device is
// connected and waits up to timeout for its answer: the answer has current
// set to the value the device reports. A device that is offline, or slow,
// gets the pending value whenever it connects next, after a gateway
// restart too, until it answers or ttl seconds (0: no limit) pass. A
// refusal (an unknown parameter, a value out of range) ends the write and
// is the setting's error; so is a write that expired. A DELETE changes
// nothing on the device.

// SettingsLive is what the settings API needs of the running gateway; the
// API finds it on Live (a Live without it answers 501).
type SettingsLive interface {
	// ReadSetting asks a connected device for a setting and waits up to
	// wait for the answer; an offline device, or a wait of 0, gets the
	// kept value.
	ReadSetting(ctx context.Context, d registry.Device, name string, wait time.Duration) (registry.Setting, error)
	// WriteSetting keeps value as the setting's pending value (for ttl; 0:
	// until the device takes it), sends it if the device is connected and
	// waits up to wait for the answer.
	WriteSetting(ctx context.Context, d registry.Device, name, value string, ttl, wait time.Duration) (registry.Setting, error)
	// ForgetSetting drops a setting the gateway keeps.
	ForgetSetting(ctx context.Context, d registry.Device, name string) error
}

// DefaultSettingTimeout is how long a settings call waits for the device
// when the request gives no timeout: flespi's real-time command timeout.
const DefaultSettingTimeout = 15 * time.Second

// maxSettingTimeout bounds ?timeout: an HTTP request is no queue.
const maxSettingTimeout = time.Minute

// settingInput is a PUT body: {"value":"internet","ttl":86400}; value is
// a string or a number.
type settingInput struct {
	Value json.RawMessage `json:"value"`
	TTL   int64           `json:"ttl"`
}

func (q *request) settingsLive() (SettingsLive, error) {
	if sl, ok := q.api.Live.(SettingsLive); ok {
		return sl, nil
	}
	return nil, errf(http.StatusNotImplemented, "this gateway reads and writes no device settings")
}

// settings serves /gw/devices/{sel}/settings[/{names}].
func (q *request) settings(ids []int64, rest []string) ([]byte, error) {
	if len(rest) > 1 {
		return nil, errf(http.StatusNotFound, "settings have no %q", strings.Join(rest[1:], "/"))
	}
	var names []string // nil: the kept ones
	if len(rest) == 1 && rest[0] != "all" {
		for _, n := range strings.Split(rest[0], ",") {
			if err := registry.ValidSettingName(n); err != nil {
				return nil, errf(http.StatusBadRequest, "%v", err)
			}
			names = append(names, n)
		}
	}
	wait := DefaultSettingTimeout
	if s := q.query.Get("timeout"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || time.Duration(f*float64(time.Second)) > maxSettingTimeout {
			return nil, errf(http.StatusBadRequest, "timeout: seconds from 0 to %v", maxSettingTimeout.Seconds())
		}
		wait = time.Duration(f * float64(time.Second))
	}
	var items [][]byte
	add := func(st registry.Setting) {
		b, _ := json.Marshal(st)
		items = append(items, b)
	}
	switch q.method {
	case http.MethodGet:
		for _, id := range ids {
			if names == nil {
				kept, err := q.api.Registry.Settings().List(q.ctx, id)
				if err != nil {
					return nil, err
				}
				for _, st := range kept {
					add(st)
				}
				continue
			}
			live, err := q.settingsLive()
			if err != nil {
				return nil, err
			}
			d, _ := q.api.Registry.Devices.Get(id)
			for _, n := range names {
				st, err := live.ReadSetting(q.ctx, d, n, wait)
				if err != nil {
					return nil, err
				}
				add(st)
			}
		}
	case http.MethodPut:
		if names == nil {
			return nil, errf(http.StatusBadRequest, "PUT names the settings to write: /settings/{name}")
		}
		var in settingInput
		if err := decodeStrict(q.body, &in); err != nil {
			return nil, err
		}
		value, err := settingValue(in.Value)
		if err != nil {
			return nil, err
		}
		if in.TTL < 0 {
			return nil, errf(http.StatusBadRequest, "ttl must not be negative")
		}
		live, err := q.settingsLive()
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			d, _ := q.api.Registry.Devices.Get(id)
			for _, n := range names {
				st, err := live.WriteSetting(q.ctx, d, n, value, time.Duration(in.TTL)*time.Second, wait)
				if err != nil {
					return nil, err
				}
				add(st)
			}
		}
	case http.MethodDelete:
		live, err := q.settingsLive()
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			d, _ := q.api.Registry.Devices.Get(id)
			list := names
			if list == nil {
				kept, err := q.api.Registry.Settings().List(q.ctx, id)
				if err != nil {
					return nil, err
				}
				for _, st := range kept {
					list = append(list, st.Name)
				}
			}
			for _, n := range list {
				if err := live.ForgetSetting(q.ctx, d, n); err != nil {
					return nil, err
				}
				add(registry.Setting{DeviceID: id, Name: n})
			}
		}
	default:
		return nil, q.methodNotAllowed()
	}
	return result(items), nil
}

// settingValue takes a PUT's value: a JSON string as it is, a number as
// written.
func settingValue(raw json.RawMessage) (string, error) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "":
		return "", errf(http.StatusBadRequest, `a "value" is required`)
	case s[0] == '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", errf(http.StatusBadRequest, "value: %v", err)
		}
		return v, nil
	case s[0] == '-' || s[0] >= '0' && s[0] <= '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", errf(http.StatusBadRequest, "value: %v", err)
		}
		return n.String(), nil
	}
	return "", errf(http.StatusBadRequest, "value: a string or a number, not %s", s)
}
