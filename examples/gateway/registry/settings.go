package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Setting is a device setting the gateway keeps (a device shadow): the
// value the device last reported, and a value written through the API that
// the device has not confirmed yet. Settings live in the registry's KV,
// under "set/{device id}/{name}", so that a pending write survives a
// restart and reaches a device that connects later.
type Setting struct {
	DeviceID int64  `json:"device_id"`
	Name     string `json:"name"`
	// Current is the value the device last reported, by answering a read
	// or a write; nil until it has.
	Current *string `json:"current"`
	// Updated is when Current was learnt (Unix seconds).
	Updated float64 `json:"updated,omitempty"`
	// Pending is a value to write that the device has not confirmed: it is
	// sent whenever the device connects, until the device answers or
	// Expire passes.
	Pending *string `json:"pending,omitempty"`
	// Requested is when Pending was set; Expire (Unix seconds, 0 never)
	// when it is given up.
	Requested float64 `json:"requested,omitempty"`
	Expire    float64 `json:"expire,omitempty"`
	// Error says why the last read or write failed: the device's refusal,
	// or an expired write.
	Error string `json:"error,omitempty"`
}

// ValidSettingName accepts 1 to 64 letters, digits, '_', '-' and '.': a
// name is a path segment of the REST API and a level of MQTT topics.
func ValidSettingName(name string) error {
	if name == "" || len(name) > 64 {
		return invalid("name", "a setting name has 1 to 64 characters")
	}
	for i := range len(name) {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return invalid("name", "%q: a setting name is letters, digits, '_', '-' and '.'", name)
		}
	}
	return nil
}

// Settings is the registry's store of device settings, read and written
// straight through to the KV (nothing is cached: a setting changes when a
// device answers, not in a hot path).
type Settings struct{ kv KV }

// Settings returns the registry's device settings.
func (r *Registry) Settings() *Settings { return &Settings{kv: r.kv} }

func settingPrefix(deviceID int64) string { return fmt.Sprintf("set/%020d/", deviceID) }
func settingKey(deviceID int64, name string) string {
	return settingPrefix(deviceID) + name
}

// Get returns a device's setting; ErrNotFound if the gateway keeps none.
func (s *Settings) Get(ctx context.Context, deviceID int64, name string) (Setting, error) {
	raw, _, err := s.kv.Get(ctx, settingKey(deviceID, name))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Setting{}, fmt.Errorf("%w: device %d has no setting %q", ErrNotFound, deviceID, name)
		}
		return Setting{}, err
	}
	var st Setting
	if err := json.Unmarshal(raw, &st); err != nil {
		return Setting{}, fmt.Errorf("registry: setting %s: %w", settingKey(deviceID, name), err)
	}
	return st, nil
}

// List returns a device's settings, by name; deviceID 0 lists every
// device's.
func (s *Settings) List(ctx context.Context, deviceID int64) ([]Setting, error) {
	prefix := "set/"
	if deviceID != 0 {
		prefix = settingPrefix(deviceID)
	}
	entries, err := s.kv.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Setting, 0, len(entries))
	for _, e := range entries {
		var st Setting
		if err := json.Unmarshal(e.Value, &st); err != nil {
			return nil, fmt.Errorf("registry: setting %s: %w", e.Key, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// Update changes a device's setting through fn, creating it when absent
// (fn gets one with only DeviceID and Name set). It retries fn when another
// writer changed the setting meanwhile; fn returning an error leaves the
// setting as it was.
func (s *Settings) Update(ctx context.Context, deviceID int64, name string, fn func(*Setting) error) (Setting, error) {
	if err := ValidSettingName(name); err != nil {
		return Setting{}, err
	}
	key := settingKey(deviceID, name)
	for range 20 {
		raw, rev, err := s.kv.Get(ctx, key)
		st := Setting{DeviceID: deviceID, Name: name}
		switch {
		case errors.Is(err, ErrNotFound):
			rev = 0
		case err != nil:
			return Setting{}, err
		default:
			if err := json.Unmarshal(raw, &st); err != nil {
				return Setting{}, fmt.Errorf("registry: setting %s: %w", key, err)
			}
		}
		if err := fn(&st); err != nil {
			return st, err
		}
		st.DeviceID, st.Name = deviceID, name
		data, _ := json.Marshal(st)
		if _, err := s.kv.Put(ctx, key, data, rev); err == nil {
			return st, nil
		} else if !errors.Is(err, ErrConflict) {
			return Setting{}, err
		}
	}
	return Setting{}, fmt.Errorf("%w: setting %q of device %d keeps changing", ErrConflict, name, deviceID)
}

// Watch calls fn for every later change of a setting: st is the setting
// as written, nil when it was deleted. fn must not block. It returns the
// function that stops the watch.
func (s *Settings) Watch(fn func(deviceID int64, name string, st *Setting)) (stop func()) {
	return s.kv.Watch("set/", func(e Entry) {
		id, name, ok := parseSettingKey(e.Key)
		if !ok {
			return
		}
		if e.Value == nil {
			fn(id, name, nil)
			return
		}
		var st Setting
		if json.Unmarshal(e.Value, &st) != nil {
			return // List reports it
		}
		fn(id, name, &st)
	})
}

// parseSettingKey reads "set/{device id}/{name}".
func parseSettingKey(key string) (deviceID int64, name string, ok bool) {
	rest, ok := strings.CutPrefix(key, "set/")
	if !ok {
		return 0, "", false
	}
	num, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" {
		return 0, "", false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return id, name, err == nil
}

// Delete forgets a device's setting; forgetting one the gateway does not
// keep is not an error.
func (s *Settings) Delete(ctx context.Context, deviceID int64, name string) error {
	return s.kv.Delete(ctx, settingKey(deviceID, name), AnyRevision)
}

// DeleteDevice forgets every setting of a device (it was deleted).
func (s *Settings) DeleteDevice(ctx context.Context, deviceID int64) error {
	list, err := s.List(ctx, deviceID)
	if err != nil {
		return err
	}
	var errs []error
	for _, st := range list {
		errs = append(errs, s.Delete(ctx, deviceID, st.Name))
	}
	return errors.Join(errs...)
}
