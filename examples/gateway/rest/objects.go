package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/selector"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/stream"
)

// found is the outcome of a selector over a collection: the matching
// objects' ids, and their answer items (rendered for output).
type found struct {
	ids   []int64
	items [][]byte
	// probed: the selector reached for another account's objects, and
	// the attempt was counted (API.Refused).
	probed bool
}

// selection applies the selector segment to objects of one kind. render
// makes an object's JSON; forSelect, when it differs, the JSON the selector
// sees (a device's telemetry as plain values).
func selection[T any](q *request, sel string, list []T, meta func(*T) registry.Meta,
	render func(*T, bool) []byte, needsSelectView bool) (*found, *selector.Query, error) {
	query, err := selector.ParseQuery(sel, q.query)
	if err != nil {
		return nil, nil, errf(http.StatusBadRequest, "%v", err)
	}
	out := &found{}
	probe := prober{sel: sel, query: query}
	for i := range list {
		m := meta(&list[i])
		if !q.visible(m.CID) {
			if !probe.hit && probe.names(m.ID, func() []byte { return render(&list[i], needsSelectView) }) {
				probe.hit = true
				q.api.refused(RefusedObject)
			}
			continue
		}
		item := render(&list[i], false)
		if query.Selector != nil {
			view := item
			if needsSelectView {
				view = render(&list[i], true)
			}
			if !query.Selector.MatchEnv(view, query.Env) {
				continue
			}
		}
		out.ids = append(out.ids, m.ID)
		out.items = append(out.items, item)
	}
	if !probe.hit && probe.pinsHidden(q) {
		// Asking for an account the call cannot see is a probe even where
		// that account has nothing of this kind to find.
		probe.hit = true
		q.api.refused(RefusedObject)
	}
	out.probed = probe.hit
	return out, query, nil
}

// answer writes the found items with the query's fields and pagination.
func answer(f *found, query *selector.Query) []byte {
	page := *query
	page.Selector = nil // already applied
	return page.Apply(f.items)
}

// mentions reports whether a selector or the fields list names a member.
func (q *request) mentions(sel, member string) bool {
	return strings.Contains(sel, member) || strings.Contains(q.query.Get("fields"), member)
}

// idItems answers a DELETE: [{"id":…}, …].
func idItems(ids []int64) []byte {
	items := make([][]byte, len(ids))
	for i, id := range ids {
		items[i], _ = json.Marshal(map[string]int64{"id": id})
	}
	return result(items)
}

// --- channels --------------------------------------------------------------

type channelView struct {
	registry.Channel
	ChannelState
	MessagesTTL int64 `json:"messages_ttl"`
}

func (q *request) renderChannel(c *registry.Channel) []byte {
	v := channelView{Channel: *c, MessagesTTL: int64(q.api.LogMaxAge.Seconds())}
	if q.api.Live != nil {
		v.ChannelState = q.api.Live.ChannelState(c.ID)
	}
	b, _ := json.Marshal(v)
	return b
}

func (q *request) findChannels(sel string) (*found, *selector.Query, error) {
	return selection(q, sel, q.api.Registry.Channels.List(), func(c *registry.Channel) registry.Meta { return c.Meta },
		func(c *registry.Channel, _ bool) []byte { return q.renderChannel(c) }, false)
}

func (q *request) channels(s []string) ([]byte, error) {
	if len(s) == 0 {
		if q.method != http.MethodPost {
			return nil, q.methodNotAllowed()
		}
		return q.create(func(raw json.RawMessage) ([]byte, error) {
			c := registry.Channel{Enabled: true} // flespi: a new channel runs unless "enabled": false
			if err := decodeStrict(raw, &c); err != nil {
				return nil, err
			}
			c.CID, c.Origin = q.cid, ""
			c, err := q.api.Registry.Channels.Create(q.ctx, c)
			if err != nil {
				return nil, err
			}
			return q.renderChannel(&c), nil
		})
	}
	f, query, err := q.findChannels(s[0])
	if err != nil {
		return nil, err
	}
	if len(s) > 1 {
		return q.channelSub(f, s[1:])
	}
	switch q.method {
	case http.MethodGet:
		return answer(f, query), nil
	case http.MethodPut:
		return q.update(f.ids, func(id int64, raw []byte) ([]byte, error) {
			c, err := q.api.Registry.Channels.Update(q.ctx, id, func(c *registry.Channel) error { return decodeStrict(raw, c) })
			if err != nil {
				return nil, err
			}
			return q.renderChannel(&c), nil
		})
	case http.MethodDelete:
		for _, id := range f.ids {
			if _, err := q.api.Registry.Channels.Delete(q.ctx, id); err != nil {
				return nil, err
			}
		}
		return idItems(f.ids), nil
	}
	return nil, q.methodNotAllowed()
}

func (q *request) channelSub(f *found, s []string) ([]byte, error) {
	switch s[0] {
	case "connections":
		return q.connections(f.ids)
	case "messages":
		if q.method != http.MethodGet {
			return nil, errf(http.StatusMethodNotAllowed,
				"the gateway's log is shared by every channel and stream: it is emptied by its retention, not by DELETE")
		}
		return q.channelMessages(f.ids)
	case "traffic":
		return q.channelTraffic(f.ids, s[1:])
	}
	return nil, errf(http.StatusNotFound, "channels have no %q", s[0])
}

// --- devices ---------------------------------------------------------------

type deviceView struct {
	registry.Device
	DeviceState
	Telemetry json.RawMessage `json:"telemetry,omitempty"`
}

// renderDevice makes a device's JSON; with telemetry, its latest values:
// for output in flespi's form {"param":{"value":v,"ts":t}}, for a selector
// as plain values {"param":v}.
func (q *request) renderDevice(d *registry.Device, telemetry, forSelect bool) []byte {
	v := deviceView{Device: *d}
	if q.api.Live != nil {
		v.DeviceState = q.api.Live.DeviceState(d.Configuration.Ident)
	}
	if telemetry && q.api.Store != nil && q.api.Store.Telemetry() != nil {
		vals, err := q.api.Store.Telemetry().Get(q.ctx, d.Configuration.Ident)
		if err == nil {
			v.Telemetry = telemetryJSON(vals, forSelect)
		}
	}
	b, _ := json.Marshal(v)
	return b
}

func telemetryJSON(vals []store.TelemetryValue, plain bool) []byte {
	out := []byte{'{'}
	for i, tv := range vals {
		if i > 0 {
			out = append(out, ',')
		}
		out = protocol.AppendJSONString(out, tv.Name)
		out = append(out, ':')
		if plain {
			out = tv.Value.AppendJSON(out)
			continue
		}
		out = append(out, `{"value":`...)
		out = tv.Value.AppendJSON(out)
		out = append(out, `,"ts":`...)
		out = protocol.AppendJSONFloat(out, tv.Time)
		out = append(out, '}')
	}
	return append(out, '}')
}

func (q *request) findDevices(sel string) (*found, *selector.Query, error) {
	tel := q.mentions(sel, "telemetry")
	return selection(q, sel, q.api.Registry.Devices.List(), func(d *registry.Device) registry.Meta { return d.Meta },
		func(d *registry.Device, forSelect bool) []byte {
			return q.renderDevice(d, tel && (forSelect || strings.Contains(q.query.Get("fields"), "telemetry")), forSelect)
		}, tel)
}

func (q *request) devices(s []string) ([]byte, error) {
	if len(s) == 0 {
		if q.method != http.MethodPost {
			return nil, q.methodNotAllowed()
		}
		return q.create(func(raw json.RawMessage) ([]byte, error) {
			var d registry.Device
			if err := decodeStrict(raw, &d); err != nil {
				return nil, err
			}
			d.CID = q.cid
			d, err := q.api.Registry.Devices.Create(q.ctx, d)
			if err != nil {
				return nil, err
			}
			return q.renderDevice(&d, false, false), nil
		})
	}
	f, query, err := q.findDevices(s[0])
	if err != nil {
		return nil, err
	}
	if len(s) > 1 {
		return q.deviceSub(f, s[1:])
	}
	switch q.method {
	case http.MethodGet:
		return answer(f, query), nil
	case http.MethodPut:
		return q.update(f.ids, func(id int64, raw []byte) ([]byte, error) {
			d, err := q.api.Registry.Devices.Update(q.ctx, id, func(d *registry.Device) error { return decodeStrict(raw, d) })
			if err != nil {
				return nil, err
			}
			return q.renderDevice(&d, false, false), nil
		})
	case http.MethodDelete:
		for _, id := range f.ids {
			if _, err := q.api.Registry.Devices.Delete(q.ctx, id); err != nil {
				return nil, err
			}
		}
		return idItems(f.ids), nil
	}
	return nil, q.methodNotAllowed()
}

func (q *request) deviceSub(f *found, s []string) ([]byte, error) {
	switch s[0] {
	case "messages":
		return q.deviceMessages(f.ids)
	case "telemetry":
		return q.telemetry(f.ids, s[1:])
	case "commands":
		return q.commands(f.ids)
	case "connections":
		return q.connections(nil, f.ids...)
	case "traffic":
		return q.deviceTraffic(f.ids, s[1:])
	case "rpc":
		return q.rpc(f.ids)
	case "attributes":
		return q.attributes(f.ids)
	case "firmware":
		return q.firmware(f.ids)
	case "settings":
		return q.settings(f.ids, s[1:])
	}
	return nil, errf(http.StatusNotFound, "devices have no %q", s[0])
}

// --- streams ---------------------------------------------------------------

type streamView struct {
	registry.Stream
	StreamLive
}

// StreamLive is a stream's live state, as REST answers it and as the
// gateway publishes it on the stream's state topics.
type StreamLive struct {
	State     string          `json:"state,omitempty"`
	Connected bool            `json:"connected"`
	QueueSize int64           `json:"queue_size"`
	Counters  *StreamCounters `json:"counters,omitempty"`
}

// LiveOfStream is the live state of a stream whose counters are st.
func LiveOfStream(st stream.Stats) StreamLive {
	return StreamLive{State: string(st.State), Connected: st.Batches > 0 && st.LastError == "", QueueSize: st.Queue,
		Counters: &StreamCounters{Read: st.Read, Skipped: st.Skipped, Accepted: st.Accepted, Rejected: st.Rejected,
			DeadLettered: st.DeadLettered, Expired: st.Expired, Dropped: st.Dropped, Batches: st.Batches, Retries: st.Retries,
			AckLatency: st.LastAckLatency.Seconds(), LagSeconds: st.Lag.Seconds(), LastError: st.LastError}}
}

// StreamCounters are flespi's stream counters.
type StreamCounters struct {
	Read         int64   `json:"read"`
	Skipped      int64   `json:"skipped"`
	Accepted     int64   `json:"accepted"`
	Rejected     int64   `json:"rejected"`
	DeadLettered int64   `json:"dead_lettered"`
	Expired      int64   `json:"expired"`
	Dropped      int64   `json:"dropped"`
	Batches      int64   `json:"batches"`
	Retries      int64   `json:"retries"`
	AckLatency   float64 `json:"ack_latency"`
	LagSeconds   float64 `json:"lag"`
	LastError    string  `json:"last_error,omitempty"`
}

func (q *request) renderStream(s *registry.Stream) []byte {
	v := streamView{Stream: *s}
	if v.Channels == nil {
		v.Channels = []int64{}
	}
	if v.Devices == nil {
		v.Devices = []int64{}
	}
	if q.api.Live != nil {
		if st, ok := q.api.Live.StreamState(s.ID); ok {
			v.StreamLive = LiveOfStream(st)
		}
	}
	b, _ := json.Marshal(v)
	return b
}

func (q *request) findStreams(sel string) (*found, *selector.Query, error) {
	return selection(q, sel, q.api.Registry.Streams.List(), func(s *registry.Stream) registry.Meta { return s.Meta },
		func(s *registry.Stream, _ bool) []byte { return q.renderStream(s) }, false)
}

func (q *request) streams(s []string) ([]byte, error) {
	if len(s) == 0 {
		if q.method != http.MethodPost {
			return nil, q.methodNotAllowed()
		}
		return q.create(func(raw json.RawMessage) ([]byte, error) {
			st := registry.Stream{Enabled: true}
			if err := decodeStrict(raw, &st); err != nil {
				return nil, err
			}
			st.CID = q.cid
			if err := q.checkSubscriptions(st.Channels, st.Devices); err != nil {
				return nil, err
			}
			st, err := q.api.Registry.Streams.Create(q.ctx, st)
			if err != nil {
				return nil, err
			}
			return q.renderStream(&st), nil
		})
	}
	f, query, err := q.findStreams(s[0])
	if err != nil {
		return nil, err
	}
	if len(s) > 1 {
		return q.streamSub(f, s[1:])
	}
	switch q.method {
	case http.MethodGet:
		return answer(f, query), nil
	case http.MethodPut:
		return q.update(f.ids, func(id int64, raw []byte) ([]byte, error) {
			st, err := q.api.Registry.Streams.Update(q.ctx, id, func(st *registry.Stream) error {
				if err := decodeStrict(raw, st); err != nil {
					return err
				}
				return q.checkSubscriptions(st.Channels, st.Devices)
			})
			if err != nil {
				return nil, err
			}
			return q.renderStream(&st), nil
		})
	case http.MethodDelete:
		for _, id := range f.ids {
			if _, err := q.api.Registry.Streams.Delete(q.ctx, id); err != nil {
				return nil, err
			}
		}
		return idItems(f.ids), nil
	}
	return nil, q.methodNotAllowed()
}

// checkSubscriptions refuses subscriptions to objects the token cannot see.
func (q *request) checkSubscriptions(channels, devices []int64) error {
	for _, id := range channels {
		if c, ok := q.api.Registry.Channels.Get(id); !ok || !q.visible(c.CID) {
			if ok {
				q.api.refused(RefusedObject)
			}
			return errf(http.StatusBadRequest, "channels: no channel %d", id)
		}
	}
	for _, id := range devices {
		if d, ok := q.api.Registry.Devices.Get(id); !ok || !q.visible(d.CID) {
			if ok {
				q.api.refused(RefusedObject)
			}
			return errf(http.StatusBadRequest, "devices: no device %d", id)
		}
	}
	return nil
}

// streamSub serves /gw/streams/{sel}/channels/{sel} and …/devices/{sel}:
// GET lists the subscribed objects, POST subscribes, DELETE unsubscribes.
func (q *request) streamSub(f *found, s []string) ([]byte, error) {
	if len(s) > 2 || (s[0] != "channels" && s[0] != "devices") {
		return nil, errf(http.StatusNotFound, "streams have no %q", strings.Join(s, "/"))
	}
	sel := "all"
	if len(s) == 2 {
		sel = s[1]
	}
	var targets *found
	var err error
	if s[0] == "channels" {
		targets, _, err = q.findChannels(sel)
	} else {
		targets, _, err = q.findDevices(sel)
	}
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, id := range f.ids {
		var st registry.Stream
		switch q.method {
		case http.MethodGet:
			st, _ = q.api.Registry.Streams.Get(id)
		case http.MethodPost, http.MethodDelete:
			st, err = q.api.Registry.Streams.Update(q.ctx, id, func(st *registry.Stream) error {
				list := &st.Channels
				if s[0] == "devices" {
					list = &st.Devices
				}
				*list = subscribe(*list, targets.ids, q.method == http.MethodPost)
				return nil
			})
			if err != nil {
				return nil, err
			}
		default:
			return nil, q.methodNotAllowed()
		}
		subs := st.Channels
		if s[0] == "devices" {
			subs = st.Devices
		}
		for _, t := range subs {
			if q.method == http.MethodGet && len(s) == 2 && !contains(targets.ids, t) {
				continue
			}
			item, _ := json.Marshal(map[string]int64{"stream_id": id, "id": t})
			out = append(out, item)
		}
	}
	return result(out), nil
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func subscribe(list, ids []int64, add bool) []int64 {
	out := list[:0:0]
	for _, x := range list {
		if add || !contains(ids, x) {
			out = append(out, x)
		}
	}
	if add {
		for _, id := range ids {
			if !contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// --- tokens ------------------------------------------------------------------

type tokenInput struct {
	Info   string        `json:"info"`
	Expire int64         `json:"expire"`
	ACL    *registry.ACL `json:"acl"`
	// TTL, when set, makes Expire now+TTL seconds.
	TTL int64 `json:"ttl"`
}

func (q *request) renderToken(t *registry.Token) []byte {
	v := *t
	v.Hash = ""
	b, _ := json.Marshal(v)
	return b
}

func (q *request) tokens(s []string) ([]byte, error) {
	if q.tok.ACL != nil && q.method != http.MethodGet {
		// A limited token could otherwise mint one without limits.
		return nil, errf(http.StatusForbidden, "only a token without an ACL manages tokens")
	}
	if len(s) == 0 {
		if q.method != http.MethodPost {
			return nil, q.methodNotAllowed()
		}
		return q.create(func(raw json.RawMessage) ([]byte, error) {
			var in tokenInput
			if err := decodeStrict(raw, &in); err != nil {
				return nil, err
			}
			t := registry.Token{Meta: registry.Meta{CID: q.cid}, Info: in.Info, Expire: in.Expire, ACL: in.ACL}
			if in.TTL > 0 {
				t.Expire = q.api.now().Unix() + in.TTL
			}
			t, err := q.api.Registry.CreateToken(q.ctx, t, "")
			if err != nil {
				return nil, err
			}
			return q.renderToken(&t), nil
		})
	}
	f, query, err := selection(q, s[0], q.api.Registry.Tokens.List(), func(t *registry.Token) registry.Meta { return t.Meta },
		func(t *registry.Token, _ bool) []byte { return q.renderToken(t) }, false)
	if err != nil {
		return nil, err
	}
	if len(s) > 1 {
		return nil, errf(http.StatusNotFound, "tokens have no %q", s[1])
	}
	switch q.method {
	case http.MethodGet:
		return answer(f, query), nil
	case http.MethodPut:
		return q.update(f.ids, func(id int64, raw []byte) ([]byte, error) {
			t, err := q.api.Registry.Tokens.Update(q.ctx, id, func(t *registry.Token) error {
				in := tokenInput{Info: t.Info, Expire: t.Expire, ACL: t.ACL}
				if err := decodeStrict(raw, &in); err != nil {
					return err
				}
				t.Info, t.Expire, t.ACL = in.Info, in.Expire, in.ACL
				if in.TTL > 0 {
					t.Expire = q.api.now().Unix() + in.TTL
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			return q.renderToken(&t), nil
		})
	case http.MethodDelete:
		for _, id := range f.ids {
			if _, err := q.api.Registry.Tokens.Delete(q.ctx, id); err != nil {
				return nil, err
			}
		}
		return idItems(f.ids), nil
	}
	return nil, q.methodNotAllowed()
}

// --- create and update -------------------------------------------------------

// create runs make for every object of a POST body.
func (q *request) create(make func(json.RawMessage) ([]byte, error)) ([]byte, error) {
	raws, err := q.items()
	if err != nil {
		return nil, err
	}
	var items [][]byte
	var errs []indexedError
	for i, raw := range raws {
		item, err := make(raw)
		if err != nil {
			errs = append(errs, indexedError{i, err})
			continue
		}
		items = append(items, item)
	}
	return resultWithErrors(items, errs)
}

// update applies a PUT body (one object: the fields to change) to every
// selected object.
func (q *request) update(ids []int64, apply func(id int64, raw []byte) ([]byte, error)) ([]byte, error) {
	raw := strings.TrimSpace(string(q.body))
	if raw == "" || raw[0] != '{' {
		return nil, errf(http.StatusBadRequest, "PUT takes one JSON object: the fields to change")
	}
	var items [][]byte
	for _, id := range ids {
		item, err := apply(id, []byte(raw))
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return result(items), nil
}
