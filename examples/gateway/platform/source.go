package platform

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/store"
)

// TelemetrySource serves the retained telemetry topics,
// flespi/state/gw/devices/{id}/telemetry/{param} in each device's account
// space, from the telemetry store on demand: it is an
// embedded.RetainedSource (its methods use broker types only), so the
// embedded broker keeps no copy of the values and Telemetry, given the
// broker's Subscribed, publishes only the changes someone receives. A
// subscriber gets exactly what Telemetry would have left retained: each
// value as JSON, QoS 1, its time in the "timestamp" user property, and
// the "cid" of a subaccount's device.
//
// Only a broker that asks the source (the embedded one) can use it; an
// external broker needs every change published (Telemetry without
// Subscribed, and PublishDevice after a restart).
type TelemetrySource struct {
	Telemetry store.Telemetry
	// Devices calls yield with the id and ident of every registered
	// device, until yield returns false; Ident returns a device's ident.
	Devices func(yield func(id int64, ident string) bool)
	Ident   func(id int64) (string, bool)
	// Accounts places devices in their accounts' spaces; its Account
	// recognises them. nil: everything is in the broker's own space.
	Accounts *Accounts
}

const telemetryTopics = StatePrefix + "devices/"

// Owns reports whether topic is a device's telemetry topic: in the
// broker's own space, or in an account's (Accounts.Account).
func (s *TelemetrySource) Owns(topic string) bool {
	i := strings.Index(topic, telemetryTopics)
	if i < 0 || (i > 0 && !s.Accounts.account(topic[:i])) {
		return false
	}
	return DeviceTelemetryTopic(topic[i:])
}

// DeviceTelemetryTopic reports whether topic, outside any account's
// namespace, is a device's retained telemetry topic:
// flespi/state/gw/devices/{id}/telemetry/{param}.
func DeviceTelemetryTopic(topic string) bool {
	rest, ok := strings.CutPrefix(topic, telemetryTopics)
	if !ok {
		return false
	}
	id, rest, ok := strings.Cut(rest, "/")
	if !ok || !decimal(id) {
		return false
	}
	param, ok := strings.CutPrefix(rest, "telemetry/")
	return ok && param != "" && !strings.Contains(param, "/")
}

// Retained yields the current value of every telemetry topic matching
// filter. A filter naming one device by id reads that device alone;
// others go through every device whose topics the filter can reach.
func (s *TelemetrySource) Retained(ctx context.Context, filter string, yield func(broker.Message) bool) error {
	if s.Telemetry == nil || s.Devices == nil || s.Ident == nil {
		return errors.New("platform: TelemetrySource needs Telemetry, Devices and Ident")
	}
	var errs []error
	each := func(id int64, ident string) bool {
		more, err := s.device(ctx, filter, id, ident, yield)
		if err != nil {
			errs = append(errs, err)
		}
		return more && ctx.Err() == nil
	}
	if id, ok := filterDevice(filter); ok {
		if ident, ok := s.Ident(id); ok {
			each(id, ident)
		}
	} else {
		s.Devices(each)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return ctx.Err()
}

// device yields a device's values matching filter; false: stop.
func (s *TelemetrySource) device(ctx context.Context, filter string, id int64, ident string, yield func(broker.Message) bool) (bool, error) {
	cid := s.Accounts.device(ident)
	prefix, props := s.Accounts.telemetryPrefix(cid, id), s.Accounts.props(cid)
	if !reaches(filter, prefix) {
		return true, nil
	}
	vals, err := s.Telemetry.Get(ctx, ident)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return true, err
	}
	for _, v := range vals {
		topic := prefix + TopicLevel(v.Name)
		if !broker.MatchTopic(filter, topic) {
			continue
		}
		users := make([]broker.UserProperty, 0, 1+len(props.UserProperties))
		users = append(users, broker.UserProperty{Key: "timestamp", Value: strconv.FormatFloat(v.Time, 'f', -1, 64)})
		users = append(users, props.UserProperties...)
		if !yield(broker.Message{Topic: topic, Payload: v.Value.AppendJSON(nil), QoS: 1, Retain: true,
			Properties: broker.Properties{UserProperties: users}}) {
			return false, nil
		}
	}
	return true, nil
}

// filterDevice returns the device id a filter names literally, with no
// wildcard before it ("flespi/state/gw/devices/7/telemetry/#", or the same
// in an account's space).
func filterDevice(filter string) (int64, bool) {
	i := strings.Index(filter, telemetryTopics)
	if i < 0 || (i > 0 && filter[i-1] != '/') || strings.ContainsAny(filter[:i], "+#") {
		return 0, false
	}
	id, _, _ := strings.Cut(filter[i+len(telemetryTopics):], "/")
	if !decimal(id) {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}

// reaches reports whether filter can match a topic of more levels that
// starts with prefix (levels ending in '/').
func reaches(filter, prefix string) bool {
	if prefix != "" && prefix[0] == '$' && filter != "" && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	f := filter
	for p := strings.TrimSuffix(prefix, "/"); p != ""; {
		pl, prest, pmore := strings.Cut(p, "/")
		fl, frest, fmore := strings.Cut(f, "/")
		switch {
		case fl == "#":
			return true
		case fl != "+" && fl != pl:
			return false
		case !fmore:
			return false // the filter ends where the topic goes on
		}
		f = frest
		if !pmore {
			break
		}
		p = prest
	}
	return true
}

// decimal reports whether s is an id: decimal digits only.
func decimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
