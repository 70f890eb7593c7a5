package broker

import "errors"

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
