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
}

// Error reads `broker: bad topic "a/#/b": '#' not last`.
func (e *TopicError) Error() string {
	return "broker: bad topic " + strconv.Quote(e.Topic) + ": " + e.Reason
}

// Unwrap returns ErrBadTopic.
func (e *TopicError) Unwrap() error { return ErrBadTopic }

func badTopic(topic, reason string) error {
	if len(topic) > 100 {
		topic = topic[:100]
	}
	return &TopicError{Topic: topic, Reason: reason}
}
