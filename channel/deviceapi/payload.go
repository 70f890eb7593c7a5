package deviceapi

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/tidwall/gjson"
)

// ErrBadPayload: a device's payload is not what its topic requires (not
// JSON, an unsupported shape, a value that cannot be parsed). Errors
// returned by the parsers wrap it.
var ErrBadPayload = errors.New("deviceapi: bad payload")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadPayload}, args...)...)
}

// Attribute is one device attribute: a key and a typed value (a string,
// bool, integer, float, or a JSON object or array kept as raw JSON).
type Attribute struct {
	Key   string
	Value protocol.Value
}

// ParseTelemetry turns a ThingsBoard telemetry payload into messages, one
// per timestamp, in the order the timestamps first appear. The payload is
// one of:
//
//	{"temperature":42,"active":true}                      values at server time (now)
//	[{"temperature":42},{"humidity":71}]                  the same, from several objects
//	{"ts":1451649600512,"values":{"temperature":42}}      values at ts (Unix milliseconds)
//	[{"ts":1451649600512,"values":{…}},{"ts":…,"values":{…}}]
//
// (an array may mix both kinds of object). An object is of the ts kind
// when it has both "ts" and "values", as ThingsBoard decides; ts may be a
// number or a string holding one. Values keep their JSON type: strings,
// booleans, integers (exact up to 64 bits), floats, and objects or arrays
// as compact raw JSON; null values are left out, as ThingsBoard's MQTT
// transport does. Each message has "timestamp" in Unix seconds. Keys
// reserved by the channel ("ident", "timestamp", "server.timestamp",
// "channel.id", "protocol.id", "peer", "device.id", "device.name") are
// dropped: the channel sets them, and a device must not forge them.
//
// An empty object or array gives no messages and no error. Anything else
// (not JSON, a scalar, an array element that is not an object, a "values"
// that is not an object, a bad ts) is an error wrapping ErrBadPayload.
func ParseTelemetry(payload []byte, now time.Time) ([]protocol.Message, error) {
	root, err := parseJSON(payload, "telemetry")
	if err != nil {
		return nil, err
	}
	p := telemetryParser{now: now}
	return p.parse(root)
}

func (p *telemetryParser) parse(root gjson.Result) ([]protocol.Message, error) {
	switch {
	case root.IsObject():
		if err := p.object(root); err != nil {
			return nil, err
		}
	case root.IsArray():
		var err error
		root.ForEach(func(_, el gjson.Result) bool {
			if !el.IsObject() {
				err = badPayload("telemetry array holds %s, not an object", kindOf(el))
				return false
			}
			err = p.object(el)
			return err == nil
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, badPayload("telemetry is %s, not an object or an array", kindOf(root))
	}
	return p.msgs, nil
}

// maxDepth bounds the nesting of a payload's JSON: deeper payloads are
// refused before they are parsed (the parsers recurse).
const maxDepth = 64

// parseJSON checks payload is JSON of bounded depth and parses it.
func parseJSON(payload []byte, what string) (gjson.Result, error) {
	if !depthWithin(payload, maxDepth) {
		return gjson.Result{}, badPayload("%s nests deeper than %d levels", what, maxDepth)
	}
	if !gjson.ValidBytes(payload) {
		return gjson.Result{}, badPayload("%s is not JSON", what)
	}
	return gjson.ParseBytes(payload), nil
}

// depthWithin reports whether the brackets of p (outside strings) nest at
// most max deep.
func depthWithin(p []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range p {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// telemetryParser collects messages by timestamp.
type telemetryParser struct {
	now   time.Time
	msgs  []protocol.Message
	ts    []int64       // ts[i] is msgs[i]'s timestamp in ms, or -1 for server time
	index map[int64]int // ts → position, once there are many
}

func (p *telemetryParser) object(o gjson.Result) error {
	ts, values := o.Get("ts"), o.Get("values")
	if !ts.Exists() || !values.Exists() {
		return p.values(-1, o)
	}
	ms, err := parseTS(ts)
	if err != nil {
		return err
	}
	if !values.IsObject() {
		return badPayload(`telemetry "values" is %s, not an object`, kindOf(values))
	}
	return p.values(ms, values)
}

// values adds the members of o to the message of timestamp ms (-1: now).
func (p *telemetryParser) values(ms int64, o gjson.Result) error {
	var m *protocol.Message // made at the first value: no values, no message
	return eachValue(o, func(key string, v protocol.Value) {
		if m == nil {
			m = p.message(ms)
		}
		m.Set(key, v)
	})
}

func (p *telemetryParser) message(ms int64) *protocol.Message {
	if p.index != nil {
		if i, ok := p.index[ms]; ok {
			return &p.msgs[i]
		}
	} else {
		for i, t := range p.ts {
			if t == ms {
				return &p.msgs[i]
			}
		}
		if len(p.ts) >= 16 {
			p.index = make(map[int64]int, 2*len(p.ts))
			for i, t := range p.ts {
				p.index[t] = i
			}
		}
	}
	if p.index != nil {
		p.index[ms] = len(p.msgs)
	}
	var m protocol.Message
	m.Grow(12) // a few values and what the channel stamps
	if ms < 0 {
		m.SetFloat(protocol.ParamTimestamp, float64(p.now.UnixMicro())/1e6)
	} else {
		m.SetFloat(protocol.ParamTimestamp, float64(ms)/1000)
	}
	p.msgs = append(p.msgs, m)
	p.ts = append(p.ts, ms)
	return &p.msgs[len(p.msgs)-1]
}

// maxTS bounds a telemetry ts: year 2400 in milliseconds.
const maxTS = 13569465600000

func parseTS(ts gjson.Result) (int64, error) {
	var f float64
	switch ts.Type {
	case gjson.Number:
		f = ts.Num
	case gjson.String:
		v, err := strconv.ParseFloat(strings.TrimSpace(ts.Str), 64)
		if err != nil {
			return 0, badPayload("telemetry ts %.30q is not a number", ts.Str)
		}
		f = v
	default:
		return 0, badPayload("telemetry ts is %s, not a number", kindOf(ts))
	}
	if math.IsNaN(f) || f < 0 || f > maxTS {
		return 0, badPayload("telemetry ts %v out of range (Unix milliseconds)", f)
	}
	return int64(f), nil
}

// reserved are the parameters the channel sets itself.
var reserved = map[string]bool{
	protocol.ParamIdent: true, protocol.ParamTimestamp: true, protocol.ParamServerTimestamp: true,
	protocol.ParamChannelID: true, protocol.ParamProtocolID: true, protocol.ParamPeer: true,
	protocol.ParamDeviceID: true, protocol.ParamDeviceName: true,
}

// eachValue calls f for each member of the object o with a usable value,
// skipping nulls and reserved keys.
func eachValue(o gjson.Result, f func(key string, v protocol.Value)) error {
	var err error
	o.ForEach(func(k, v gjson.Result) bool {
		key := k.String()
		if !validKey(key) {
			err = badPayload("bad key %.40q", key)
			return false
		}
		if v.Type == gjson.Null || reserved[key] {
			return true
		}
		var val protocol.Value
		if val, err = valueOf(v); err != nil {
			err = fmt.Errorf("key %.40q: %w", key, err)
			return false
		}
		f(key, val)
		return true
	})
	return err
}

// valueOf converts a JSON value, keeping its type.
func valueOf(v gjson.Result) (protocol.Value, error) {
	switch v.Type {
	case gjson.String:
		if !utf8.ValidString(v.Str) { // as encoding/json decodes it
			return protocol.String(strings.ToValidUTF8(v.Str, "\uFFFD")), nil
		}
		return protocol.String(v.Str), nil
	case gjson.True:
		return protocol.Bool(true), nil
	case gjson.False:
		return protocol.Bool(false), nil
	case gjson.Number:
		return numberOf(v.Raw)
	}
	val, err := protocol.ParseValueJSON([]byte(v.Raw))
	if err != nil {
		return protocol.Value{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return val, nil
}

// numberOf converts a JSON number gjson has validated, as
// protocol.ParseValueJSON does: integers that fit 64 bits stay exact.
func numberOf(raw string) (protocol.Value, error) {
	if !strings.ContainsAny(raw, ".eE") {
		if i, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return protocol.Int(i), nil
		}
		if u, err := strconv.ParseUint(raw, 10, 64); err == nil {
			return protocol.Uint(u), nil
		}
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(f, 0) {
		return protocol.Value{}, badPayload("number %.20q out of range", raw)
	}
	return protocol.Float(f), nil
}

// validKey reports whether a JSON key can be a parameter or attribute
// name: non-empty, valid UTF-8, at most protocol.MaxNameLen bytes, no
// control characters.
func validKey(k string) bool {
	if k == "" || len(k) > protocol.MaxNameLen || !utf8.ValidString(k) {
		return false
	}
	return !strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func kindOf(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "a boolean"
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	}
	if v.IsArray() {
		return "an array"
	}
	return "an object"
}

// ParseAttributes parses a flat JSON object of attributes (a device's
// client attributes, or shared attributes given by the embedding program),
// with the value rules of ParseTelemetry. Null values are left out.
func ParseAttributes(payload []byte) ([]Attribute, error) {
	o, err := parseJSON(payload, "attributes")
	if err != nil {
		return nil, err
	}
	return attributesOf(o)
}

func attributesOf(o gjson.Result) ([]Attribute, error) {
	if !o.IsObject() {
		return nil, badPayload("attributes are %s, not an object", kindOf(o))
	}
	var attrs []Attribute
	err := eachValue(o, func(key string, v protocol.Value) {
		for i := range attrs {
			if attrs[i].Key == key { // a repeated key keeps its last value
				attrs[i].Value = v
				return
			}
		}
		attrs = append(attrs, Attribute{Key: key, Value: v})
	})
	return attrs, err
}

// appendAttributesJSON appends attrs as a JSON object's members (no
// braces).
func appendAttributesJSON(dst []byte, attrs []Attribute) []byte {
	for i, a := range attrs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = protocol.AppendJSONString(dst, a.Key)
		dst = append(dst, ':')
		dst = a.Value.AppendJSON(dst)
	}
	return dst
}

// keyList reads an attribute request's key list: a comma-separated string
// (ThingsBoard's form) or an array of strings. Absent or empty: nil.
func keyList(v gjson.Result) ([]string, error) {
	var keys []string
	add := func(k string) {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return nil, nil
	case v.Type == gjson.String:
		for _, k := range strings.Split(v.Str, ",") {
			add(k)
		}
	case v.IsArray():
		var err error
		v.ForEach(func(_, k gjson.Result) bool {
			if k.Type != gjson.String {
				err = badPayload("attribute key list holds %s", kindOf(k))
				return false
			}
			add(k.Str)
			return true
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, badPayload("attribute key list is %s", kindOf(v))
	}
	return keys, nil
}

// AttributeRequest is a device's request for its attributes (ThingsBoard:
// {"clientKeys":"a,b","sharedKeys":"c"}). Both lists empty asks for every
// attribute of both scopes.
type AttributeRequest struct {
	ClientKeys, SharedKeys []string
}

// ParseAttributeRequest parses an attribute request payload. An empty
// payload asks for everything, as "{}" does.
func ParseAttributeRequest(payload []byte) (AttributeRequest, error) {
	if len(strings.TrimSpace(string(payload))) == 0 {
		return AttributeRequest{}, nil
	}
	o, err := parseJSON(payload, "attribute request")
	if err != nil {
		return AttributeRequest{}, err
	}
	if !o.IsObject() {
		return AttributeRequest{}, badPayload("attribute request is %s, not an object", kindOf(o))
	}
	var r AttributeRequest
	if r.ClientKeys, err = keyList(o.Get("clientKeys")); err != nil {
		return r, err
	}
	r.SharedKeys, err = keyList(o.Get("sharedKeys"))
	return r, err
}

// RPCRequest is a client-side RPC call from a device:
// {"method":"getTime","params":{}}.
type RPCRequest struct {
	Method string
	Params []byte // raw JSON; "null" when absent
}

// ParseRPCRequest parses a client-side RPC request.
func ParseRPCRequest(payload []byte) (RPCRequest, error) {
	o, err := parseJSON(payload, "RPC request")
	if err != nil {
		return RPCRequest{}, err
	}
	if !o.IsObject() {
		return RPCRequest{}, badPayload("RPC request is %s, not an object", kindOf(o))
	}
	m := o.Get("method")
	if m.Type != gjson.String || m.Str == "" {
		return RPCRequest{}, badPayload(`RPC request has no "method" string`)
	}
	r := RPCRequest{Method: m.Str, Params: []byte("null")}
	if p := o.Get("params"); p.Exists() {
		r.Params = []byte(p.Raw)
	}
	return r, nil
}

// ClaimRequest is a device's claim registration:
// {"secretKey":"…","durationMs":60000}, both optional.
type ClaimRequest struct {
	SecretKey string
	Duration  time.Duration // 0: the store's default
}

// ParseClaimRequest parses a claim payload; an empty payload claims with
// an empty secret key and the default duration, as ThingsBoard does.
func ParseClaimRequest(payload []byte) (ClaimRequest, error) {
	if len(strings.TrimSpace(string(payload))) == 0 {
		return ClaimRequest{}, nil
	}
	o, err := parseJSON(payload, "claim")
	if err != nil {
		return ClaimRequest{}, err
	}
	return claimOf(o)
}

func claimOf(o gjson.Result) (ClaimRequest, error) {
	if !o.IsObject() {
		return ClaimRequest{}, badPayload("claim is %s, not an object", kindOf(o))
	}
	var c ClaimRequest
	switch k := o.Get("secretKey"); k.Type {
	case gjson.String:
		c.SecretKey = k.Str
	case gjson.Number:
		c.SecretKey = k.Raw
	case gjson.Null:
	default:
		return c, badPayload("claim secretKey is %s", kindOf(k))
	}
	if d := o.Get("durationMs"); d.Exists() && d.Type != gjson.Null {
		if d.Type != gjson.Number || d.Num < 0 || d.Num > float64(math.MaxInt64/int64(time.Millisecond)) {
			return c, badPayload("claim durationMs is not a valid number of milliseconds")
		}
		c.Duration = time.Duration(d.Num) * time.Millisecond
	}
	return c, nil
}
