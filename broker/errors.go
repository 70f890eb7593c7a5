package broker

import (
	"errors"
	"strconv"
)

// Sentinel errors shared by every implementation.
var (
	// ErrClosed: the broker or subscription was closed.
	ErrClosed = errors.New("broker: closed")
	// ErrNotConnected: an adapter has no connection to its broker right now;
	// it reconnects by itself, so the call may be retried.
	ErrNotConnected = errors.New("broker: not connected")
	// ErrNotAuthorized: the client may not publish or subscribe there.
	ErrNotAuthorized = errors.New("broker: not authorized")
	// ErrBadTopic: a topic name or filter is not valid MQTT.
	ErrBadTopic = errors.New("broker: bad topic")
)

// ErrUnsupported: the implementation cannot provide a feature the call asks
// for (for example a flespi extension an external broker does not know and
// that cannot be emulated on the client side).
var ErrUnsupported = errors.New("broker: unsupported")

// TopicError describes why a topic name or filter is not valid. It wraps
// [ErrBadTopic], so errors.Is(err, ErrBadTopic) holds.
type TopicError struct {
	Topic  string // the name or filter as given (cut to 100 bytes)
	Reason string // what is wrong, e.g. "'#' not last"
	Err    error  // the underlying cause, if any (a $filter spec's syntax error)
}

// Error reads `broker: bad topic "a/#/b": '#' not last`.
func (e *TopicError) Error() string {
	s := "broker: bad topic " + strconv.Quote(e.Topic) + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrBadTopic and the cause, if any.
func (e *TopicError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrBadTopic, e.Err}
	}
	return []error{ErrBadTopic}
}

func badTopic(topic, reason string) error {
	return &TopicError{Topic: cut100(topic), Reason: reason}
}

func cut100(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}
