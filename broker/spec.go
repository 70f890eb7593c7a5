package broker

import (
	"strconv"

	"github.com/gnssgate/gnssgate/filter"
)

// compileSpec turns a "$filter" spec into a Predicate, using package
// filter's flespi expression language with c's settings (nil: defaults).
func compileSpec(raw, spec string, c *filter.Config) (Predicate, error) {
	tf, err := c.ParseTopicFilter("$filter/" + spec + "/x")
	if err != nil {
		return nil, &TopicError{Topic: cut100(raw), Reason: "bad $filter spec", Err: err}
	}
	return specPredicate{tf}, nil
}

// specPredicate adapts a filter.TopicFilter to Predicate.
type specPredicate struct{ tf *filter.TopicFilter }

// MatchMessage evaluates the spec (see CheckMessage).
func (p specPredicate) MatchMessage(m Message, o Origin) bool {
	ok, _ := p.CheckMessage(m, o)
	return ok
}

// CheckMessage evaluates the spec. The origin wins; without one it falls
// back to the "cid" and "timestamp" user properties, which flespi puts on
// every message (a broker must not let clients forge them if it trusts them).
// An evaluation past its step budget is false with an error wrapping
// filter.ErrBudget.
func (p specPredicate) CheckMessage(m Message, o Origin) (bool, error) {
	tm := filter.TopicMessage{Topic: m.Topic, Payload: m.Payload, CID: o.CID}
	if !o.Time.IsZero() {
		tm.Timestamp = float64(o.Time.UnixNano()) / 1e9
	}
	if len(m.Properties.UserProperties) > 0 {
		tm.UserProperties = make([]filter.UserProperty, len(m.Properties.UserProperties))
		for i, u := range m.Properties.UserProperties {
			tm.UserProperties[i] = filter.UserProperty{Key: u.Key, Value: u.Value}
		}
		if tm.CID == 0 {
			if v, ok := m.Properties.UserProperty("cid"); ok {
				tm.CID, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if tm.Timestamp == 0 {
			if v, ok := m.Properties.UserProperty("timestamp"); ok {
				tm.Timestamp, _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	return p.tf.Check(tm, nil)
}

// CheckPredicate is a Predicate that also reports an evaluation it gave up
// on: the predicates of ParseFilter's "$filter" specs are CheckPredicates,
// and their error wraps filter.ErrBudget when a message would cost more than
// the spec's step budget (filter.Limits.MaxSteps).
type CheckPredicate interface {
	Predicate
	CheckMessage(m Message, o Origin) (bool, error)
}
