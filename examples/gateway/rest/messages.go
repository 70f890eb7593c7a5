package rest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// Limits of message queries.
const (
	DefaultCount = 1000   // messages answered when a query gives no count
	MaxCount     = 100000 // the most one query answers
	// maxScan bounds the log records one channel-messages query examines.
	maxScan = 1_000_000
)

// messageQuery is flespi's data={"from","to","count","reverse","fields",
// "filter"}, from the data parameter or plain query parameters.
type messageQuery struct {
	From    float64 `json:"from"`
	To      float64 `json:"to"`
	Count   int     `json:"count"`
	Reverse bool    `json:"reverse"`
	Fields  string  `json:"fields"`
	Filter  string  `json:"filter"`
}

func (q *request) messageQuery() (messageQuery, *filter.Expr, []string, error) {
	var mq messageQuery
	if d := q.query.Get("data"); d != "" {
		if err := decodeStrict([]byte(d), &mq); err != nil {
			return mq, nil, nil, err
		}
	}
	for _, k := range []string{"from", "to"} {
		if v := q.query.Get(k); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return mq, nil, nil, errf(http.StatusBadRequest, "%s: not a number", k)
			}
			if k == "from" {
				mq.From = f
			} else {
				mq.To = f
			}
		}
	}
	if v := q.query.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return mq, nil, nil, errf(http.StatusBadRequest, "count: not a number")
		}
		mq.Count = n
	}
	if q.query.Get("reverse") == "true" {
		mq.Reverse = true
	}
	if v := q.query.Get("filter"); v != "" {
		mq.Filter = v
	}
	if mq.Count <= 0 {
		mq.Count = DefaultCount
	}
	if mq.Count > MaxCount {
		return mq, nil, nil, errf(http.StatusBadRequest, "count: at most %d", MaxCount)
	}
	var x *filter.Expr
	if mq.Filter != "" {
		var err error
		if x, err = filter.CompileFilter(mq.Filter); err != nil {
			return mq, nil, nil, errf(http.StatusBadRequest, "filter: %v", err)
		}
	}
	var fields []string
	if mq.Fields != "" {
		fields = strings.Split(mq.Fields, ",")
	}
	return mq, x, fields, nil
}

func messagesResult(msgs []protocol.Message) []byte {
	out := []byte(`{"result":[`)
	for i := range msgs {
		if i > 0 {
			out = append(out, ',')
		}
		out = msgs[i].AppendJSON(out)
	}
	return append(out, "]}"...)
}

// deviceMessages serves /gw/devices/{sel}/messages: GET the history, DELETE
// a time range of it, POST messages as if the device had sent them.
func (q *request) deviceMessages(ids []int64) ([]byte, error) {
	switch q.method {
	case http.MethodGet, http.MethodDelete:
	case http.MethodPost:
		return q.postMessages(ids)
	default:
		return nil, q.methodNotAllowed()
	}
	hist := q.api.Store.Messages()
	if hist == nil {
		return nil, errf(http.StatusNotImplemented, "this gateway keeps no message history")
	}
	mq, x, fields, err := q.messageQuery()
	if err != nil {
		return nil, err
	}
	if q.method == http.MethodDelete {
		var items [][]byte
		for _, id := range ids {
			d, _ := q.api.Registry.Devices.Get(id)
			n, err := hist.Delete(q.ctx, d.Configuration.Ident, mq.From, mq.To)
			if err != nil {
				return nil, err
			}
			item, _ := json.Marshal(map[string]int64{"id": id, "deleted": n})
			items = append(items, item)
		}
		return result(items), nil
	}
	var all []protocol.Message
	for _, id := range ids {
		d, _ := q.api.Registry.Devices.Get(id)
		sq := store.Query{From: mq.From, To: mq.To, Count: mq.Count, Reverse: mq.Reverse, Fields: fields}
		if x != nil {
			sq.Filter = store.FilterFunc(func(m *protocol.Message) bool { return x.MatchMessage(m, nil) })
		}
		msgs, err := hist.Query(q.ctx, d.Configuration.Ident, sq)
		if err != nil {
			return nil, err
		}
		all = append(all, msgs...)
		if len(all) >= MaxCount {
			break
		}
	}
	return messagesResult(all), nil
}

// postMessages stores messages for one device, as flespi's POST
// /gw/devices/{id}/messages: ident and server time come from the gateway.
func (q *request) postMessages(ids []int64) ([]byte, error) {
	if q.api.Ingest == nil {
		return nil, errf(http.StatusNotImplemented, "this gateway does not take messages over REST")
	}
	if len(ids) != 1 {
		return nil, errf(http.StatusBadRequest, "messages are posted to one device at a time")
	}
	d, _ := q.api.Registry.Devices.Get(ids[0])
	msgs, err := protocol.UnmarshalMessages(q.body)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "%v", err)
	}
	if len(msgs) > 10000 {
		return nil, errf(http.StatusBadRequest, "at most 10000 messages per request")
	}
	now := float64(q.api.now().UnixMicro()) / 1e6
	for i := range msgs {
		m := &msgs[i]
		m.Set(protocol.ParamIdent, protocol.String(d.Configuration.Ident))
		m.Set(protocol.ParamServerTimestamp, protocol.Float(now))
		if !m.Has(protocol.ParamTimestamp) {
			m.Set(protocol.ParamTimestamp, protocol.Float(now))
		}
		if _, ok := m.Float(protocol.ParamTimestamp); !ok {
			return nil, errf(http.StatusBadRequest, "message %d: timestamp must be a number", i)
		}
	}
	if err := q.api.Ingest(q.ctx, msgs); err != nil {
		return nil, errf(http.StatusServiceUnavailable, "not stored: %v", err)
	}
	return result(nil), nil
}

// channelMessages serves GET /gw/channels/{sel}/messages: the log's records
// of these channels, by server time.
func (q *request) channelMessages(ids []int64) ([]byte, error) {
	mq, x, fields, err := q.messageQuery()
	if err != nil {
		return nil, err
	}
	l := q.api.Store.Log()
	st, err := l.Stats(q.ctx)
	if err != nil {
		return nil, err
	}
	from := st.First
	if mq.From > 0 {
		if from, err = seqAt(q, l, st, mq.From); err != nil {
			return nil, err
		}
	}
	var out []protocol.Message
	recs := make([]store.Record, 512)
	scanned := 0
	for from <= st.Last && len(out) < mq.Count && scanned < maxScan {
		n, err := l.ReadInto(q.ctx, from, recs)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		for i := range recs[:n] {
			r := &recs[i]
			from = r.Seq + 1
			scanned++
			if mq.To > 0 && float64(r.Time.UnixMicro())/1e6 > mq.To {
				from = st.Last + 1
				break
			}
			ch, _ := r.Message.Int(protocol.ParamChannelID)
			if !contains(ids, ch) || (x != nil && !x.MatchMessage(&r.Message, nil)) {
				continue
			}
			out = append(out, store.Project(&r.Message, fields))
			if len(out) == mq.Count {
				break
			}
		}
	}
	return messagesResult(out), nil
}

// seqAt finds the first record the log accepted at or after t (Unix
// seconds) by binary search on record times.
func seqAt(q *request, l store.Log, st store.LogStats, t float64) (uint64, error) {
	want := time.UnixMicro(int64(t * 1e6))
	lo, hi := st.First, st.Last+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		recs, err := l.Read(q.ctx, mid, 1)
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 || !recs[0].Time.Before(want) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// telemetry serves GET /gw/devices/{sel}/telemetry[/{params}]: latest
// values with their times.
func (q *request) telemetry(ids []int64, rest []string) ([]byte, error) {
	if q.method != http.MethodGet {
		return nil, q.methodNotAllowed()
	}
	tel := q.api.Store.Telemetry()
	if tel == nil {
		return nil, errf(http.StatusNotImplemented, "this gateway keeps no telemetry")
	}
	var names []string
	if len(rest) > 0 && rest[0] != "all" {
		names = strings.Split(rest[0], ",")
	}
	var items [][]byte
	for _, id := range ids {
		d, _ := q.api.Registry.Devices.Get(id)
		vals, err := tel.Get(q.ctx, d.Configuration.Ident, names...)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		item := []byte(`{"id":`)
		item = strconv.AppendInt(item, id, 10)
		item = append(item, `,"telemetry":`...)
		item = append(item, telemetryJSON(vals, false)...)
		items = append(items, append(item, '}'))
	}
	return result(items), nil
}

// connections serves …/connections of channels (by id) or devices: GET
// lists, DELETE closes.
func (q *request) connections(channels []int64, devices ...int64) ([]byte, error) {
	if q.api.Live == nil {
		return result(nil), nil
	}
	type conn struct {
		channel.ConnInfo
		ChannelID int64 `json:"channel_id,omitempty"`
		DeviceID  int64 `json:"device_id,omitempty"`
	}
	var items [][]byte
	each := func(ch int64, ident string, dev int64) {
		if q.method == http.MethodDelete {
			n := q.api.Live.CloseConnections(ch, ident)
			item, _ := json.Marshal(map[string]any{"channel_id": ch, "device_id": dev, "closed": n})
			items = append(items, item)
			return
		}
		for _, c := range q.api.Live.Connections(ch, ident) {
			item, _ := json.Marshal(conn{ConnInfo: c, ChannelID: ch, DeviceID: dev})
			items = append(items, item)
		}
	}
	if q.method != http.MethodGet && q.method != http.MethodDelete {
		return nil, q.methodNotAllowed()
	}
	for _, ch := range channels {
		each(ch, "", 0)
	}
	for _, id := range devices {
		d, _ := q.api.Registry.Devices.Get(id)
		each(0, d.Configuration.Ident, id)
	}
	return result(items), nil
}

// commandInput is a command as flespi posts it: {"name":"custom",
// "properties":{"text":"getinfo"},"ttl":3600}.
type commandInput struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties"`
	TTL        int64          `json:"ttl"`
}

// commands serves /gw/devices/{sel}/commands: POST queues commands, GET
// lists them with their answers.
func (q *request) commands(ids []int64) ([]byte, error) {
	if q.api.Live == nil {
		return nil, errf(http.StatusNotImplemented, "this gateway sends no commands")
	}
	switch q.method {
	case http.MethodGet:
		var items [][]byte
		for _, id := range ids {
			for _, c := range q.api.Live.Commands(id) {
				item, _ := json.Marshal(c)
				items = append(items, item)
			}
		}
		return result(items), nil
	case http.MethodPost:
		raws, err := q.items()
		if err != nil {
			return nil, err
		}
		var items [][]byte
		for _, raw := range raws {
			var in commandInput
			if err := decodeStrict(raw, &in); err != nil {
				return nil, err
			}
			if in.TTL < 0 {
				return nil, errf(http.StatusBadRequest, "ttl must not be negative")
			}
			for _, id := range ids {
				d, _ := q.api.Registry.Devices.Get(id)
				c, err := q.api.Live.Send(q.ctx, d, Command{DeviceID: id, Name: in.Name, Properties: in.Properties, TTL: in.TTL})
				if err != nil {
					return nil, err
				}
				item, _ := json.Marshal(c)
				items = append(items, item)
			}
		}
		return result(items), nil
	}
	return nil, q.methodNotAllowed()
}
