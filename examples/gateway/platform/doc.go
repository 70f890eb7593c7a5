// Package platform publishes the gateway's MQTT platform topics, flespi's
// names, through any broker.Broker (the embedded broker, or an external one
// through broker/paho):
//
//	flespi/message/gw/channels/{channel_id}/{ident}    every message stored (Messages)
//	flespi/message/gw/devices/{device_id}              … of a registered device
//	flespi/state/gw/devices/{id}/telemetry/{param}     retained latest value (Telemetry; see TopicLevel)
//	flespi/state/gw/{channels|devices|streams}/{id}/{property}  retained object state (State)
//	flespi/log/gw/{channels|devices|streams}/{id}/{event}       events (State.Event)
//
// Message and telemetry payloads are JSON (a message object; a value);
// every publication carries flespi's "timestamp" user property: the
// message's server time, the telemetry value's time, or the time of the
// change. An older message never overwrites a newer telemetry value
// (store.Telemetry decides which values change).
//
// # Telemetry on demand
//
// Every stored message changes some twenty telemetry values; published
// as retained messages, they cost a broker publish each and a copy of
// every device's values in the broker, mostly with nobody subscribed. On
// the embedded broker, TelemetrySource (an embedded.RetainedSource) serves
// the retained telemetry topics from the telemetry store when someone
// subscribes, and Telemetry, given the broker's Subscribed, publishes only
// the changes some subscription matches; Messages skips message topics the
// broker says nobody subscribes to. An external broker (broker/paho) gets
// everything, as it cannot ask the store.
package platform
