package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/selector"
	"github.com/gnssgate/gnssgate/store"
)

// ExpressionTest is a request to POST (or GET with data=…) /gw/expressions:
// evaluate an expression, a selector or a $filter subscription against a
// message, as the gateway would.
type ExpressionTest struct {
	Expression string `json:"expression"`
	// Kind is "expression" (a filter expression, as in messages' filter
	// and streams' validate_message; the default), "selector" (a REST
	// selector) or "topic" (an MQTT subscription filter with $share and
	// $filter prefixes).
	Kind string `json:"kind"`
	// Message is the JSON object to test; without it, DeviceID's last
	// message (for a selector, the device's REST object with its
	// telemetry, which is what selectors select).
	Message  json.RawMessage `json:"message,omitempty"`
	DeviceID int64           `json:"device_id,omitempty"`
	// Topic is the topic the message is published on (kind "topic");
	// default: the device's message topic, flespi/message/gw/devices/{id}.
	Topic string `json:"topic,omitempty"`
	// TZ is the time zone of month(), day(), hour(), minute() (default
	// UTC); Now is now() in Unix seconds (default: the clock).
	TZ  string  `json:"tz,omitempty"`
	Now float64 `json:"now,omitempty"`
}

// ExpressionResult is the answer: either Error (the text does not parse:
// where and why) or the outcome.
type ExpressionResult struct {
	Kind string `json:"kind"`
	// Valid says the text parses; Canonical is its canonical form.
	Valid     bool           `json:"valid"`
	Canonical string         `json:"canonical,omitempty"`
	Error     *ExprSyntaxErr `json:"error,omitempty"`
	// Fields are the parameters an expression reads.
	Fields []string `json:"fields,omitempty"`
	// Value is an expression's value; EvalError why it has none.
	Value     json.RawMessage `json:"value,omitempty"`
	EvalError *ExprEvalErr    `json:"eval_error,omitempty"`
	// Matched is the verdict in a boolean context (a filter passes the
	// message, a selector selects the object, a subscription receives
	// the message).
	Matched bool `json:"matched"`
	// For kind "topic": the share group, the MQTT topic filter, the topic
	// the message was published on, and whether the topic alone matches.
	Share        string `json:"share,omitempty"`
	TopicFilter  string `json:"topic_filter,omitempty"`
	Topic        string `json:"topic,omitempty"`
	TopicMatched *bool  `json:"topic_matched,omitempty"`
	// Message is what was tested.
	Message json.RawMessage `json:"message,omitempty"`
}

// ExprSyntaxErr locates a parse error: filter.SyntaxError's fields.
type ExprSyntaxErr struct {
	Reason  string `json:"reason"`
	Offset  int    `json:"offset"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Snippet string `json:"snippet,omitempty"`
}

// ExprEvalErr is why an expression has no value.
type ExprEvalErr struct {
	Reason string `json:"reason"`
	Column int    `json:"column"`
}

// expressions serves /gw/expressions. A text that does not parse is an
// answer (valid false, with the error's place), not a failed request: the
// tester's question was answered.
func (q *request) expressions(s []string) ([]byte, error) {
	if len(s) > 0 {
		return nil, errf(http.StatusNotFound, "expressions have no %q", s[0])
	}
	var in ExpressionTest
	switch q.method {
	case http.MethodPost:
		if err := decodeStrict(q.body, &in); err != nil {
			return nil, err
		}
	case http.MethodGet:
		if err := decodeStrict([]byte(q.query.Get("data")), &in); err != nil {
			return nil, errf(http.StatusBadRequest, "data: %v", err)
		}
	default:
		return nil, q.methodNotAllowed()
	}
	env, err := in.env()
	if err != nil {
		return nil, err
	}
	if in.Kind == "" {
		in.Kind = "expression"
	}
	out := ExpressionResult{Kind: in.Kind}
	// Parse first: a syntax error needs no message.
	var x *filter.Expr
	var sel *selector.Selector
	var tf *filter.TopicFilter
	switch in.Kind {
	case "expression":
		x, err = filter.CompileFilter(in.Expression)
		if err == nil {
			out.Canonical, out.Fields = x.String(), x.Fields()
		}
	case "selector":
		sel, err = selector.Parse(in.Expression)
		if err == nil {
			out.Canonical = sel.String()
		}
	case "topic":
		tf, err = filter.ParseTopicFilter(in.Expression)
		if err == nil {
			out.Canonical, out.Share, out.TopicFilter = tf.String(), tf.Share, tf.Topic
		}
	default:
		return nil, errf(http.StatusBadRequest, "kind: want expression, selector or topic, not %q", in.Kind)
	}
	if err != nil {
		out.Error = syntaxErr(err)
		return marshalResult(out)
	}
	out.Valid = true
	msg, err := q.testSubject(&in)
	if err != nil {
		return nil, err
	}
	out.Message = msg
	switch {
	case x != nil:
		v := x.EvalJSON(msg, env)
		if e := v.Err(); e != nil {
			out.EvalError = &ExprEvalErr{Reason: e.Error()}
			var ee *filter.EvalError
			if errors.As(e, &ee) {
				out.EvalError = &ExprEvalErr{Reason: ee.Reason, Column: ee.Offset + 1}
			}
		} else {
			out.Value = v.AppendJSON(nil)
		}
		out.Matched = v.Truth()
	case sel != nil:
		out.Matched = sel.MatchEnv(msg, env)
	case tf != nil:
		topic := in.Topic
		if topic == "" {
			if in.DeviceID == 0 {
				return nil, errf(http.StatusBadRequest, "topic: the topic the message is published on is required without device_id")
			}
			topic = "flespi/message/gw/devices/" + strconv.FormatInt(in.DeviceID, 10)
		}
		if strings.ContainsAny(topic, "+#") || strings.HasPrefix(topic, "$") {
			return nil, errf(http.StatusBadRequest, "topic: a topic name, without wildcards, not %q", topic)
		}
		ts := float64(env.Now.UnixMicro()) / 1e6
		var m protocol.Message
		if m.UnmarshalJSON(msg) == nil {
			if t, ok := m.Float(protocol.ParamServerTimestamp); ok {
				ts = t
			}
		}
		topicOK := tf.MatchTopic(topic)
		out.Topic, out.TopicMatched = topic, &topicOK
		out.Matched = topicOK && tf.MatchEnv(filter.TopicMessage{Topic: topic, Payload: msg, CID: q.tok.CID, Timestamp: ts}, env)
	}
	return marshalResult(out)
}

func marshalResult(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return result([][]byte{b}), nil
}

func syntaxErr(err error) *ExprSyntaxErr {
	var se *filter.SyntaxError
	if errors.As(err, &se) {
		return &ExprSyntaxErr{Reason: se.Msg, Offset: se.Offset, Line: se.Line, Column: se.Column, Snippet: se.Snippet()}
	}
	return &ExprSyntaxErr{Reason: err.Error(), Line: 1, Column: 1}
}

func (in *ExpressionTest) env() (*filter.Env, error) {
	env := &filter.Env{Now: time.Now()}
	if in.Now > 0 {
		env.Now = time.UnixMicro(int64(in.Now * 1e6))
	}
	if in.TZ != "" {
		loc, err := time.LoadLocation(in.TZ)
		if err != nil {
			return nil, errf(http.StatusBadRequest, "tz: %v", err)
		}
		env.Location = loc
	}
	return env, nil
}

// testSubject returns the JSON object a test runs against: the pasted
// message, or the device's last message (its REST object for a selector).
// A device must be one the token sees, and its messages ones the token's
// ACL lets it read.
func (q *request) testSubject(in *ExpressionTest) ([]byte, error) {
	if len(bytes.TrimSpace(in.Message)) > 0 {
		msg := bytes.TrimSpace(in.Message)
		if msg[0] != '{' {
			return nil, errf(http.StatusBadRequest, "message: want a JSON object")
		}
		return msg, nil
	}
	if in.DeviceID == 0 {
		return nil, errf(http.StatusBadRequest, "give a message (a JSON object) or a device_id")
	}
	d, ok := q.api.Registry.Devices.Get(in.DeviceID)
	if !ok || !q.visible(d.CID) {
		if ok {
			q.api.refused(RefusedObject)
		}
		return nil, errf(http.StatusNotFound, "no device %d", in.DeviceID)
	}
	id := strconv.FormatInt(in.DeviceID, 10)
	if in.Kind == "selector" {
		if e := q.api.allowed(q.tok, http.MethodGet, []string{"gw", "devices", id}); e != nil {
			return nil, e
		}
		return q.renderDevice(&d, true, true), nil
	}
	if e := q.api.allowed(q.tok, http.MethodGet, []string{"gw", "devices", id, "messages"}); e != nil {
		return nil, e
	}
	hist := q.api.Store.Messages()
	if hist == nil {
		return nil, errf(http.StatusNotImplemented, "this gateway keeps no message history")
	}
	msgs, err := hist.Query(q.ctx, d.Configuration.Ident, store.Query{Count: 1, Reverse: true})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, errf(http.StatusNotFound, "device %d has no messages yet", in.DeviceID)
	}
	return msgs[0].AppendJSON(nil), nil
}
