// Package broker is the publish/subscribe contract of gnssgate and the topic
// logic every implementation shares: validation, matching, shared
// subscriptions and flespi's subscription extensions.
//
// Implementations: broker/embedded (an MQTT 3.1.1/5.0 broker in the process)
// and broker/paho (an adapter to an external MQTT 5 broker). Each passes
// broker/brokertest, which is the executable form of this contract.
//
// # The contract
//
// A [Broker] publishes [Message] values and delivers them to the [Handler] of
// every matching [Subscription]. Publish with QoS 1 returns only once the
// broker has taken responsibility for the message. A subscription's handler is
// called by one goroutine at a time, in the order the broker received the
// messages from one publisher; a handler returning an error withholds the
// acknowledgement of a QoS 1 message, so it is delivered again (an external
// broker redelivers to a persistent session after a reconnect). After Close
// every method returns [ErrClosed].
//
// # Topics
//
// Topic names and filters follow MQTT: 1 to 65535 bytes of UTF-8 without NUL,
// levels separated by '/'. In filters '+' is one whole level and '#' the whole
// last level, matching the parent level and everything below it. Filters
// starting with a wildcard do not match topics starting with '$' ($SYS…).
// [ValidateTopic], [ValidateFilter] and [MatchTopic] implement exactly these
// rules; errors wrap [ErrBadTopic] as a [*TopicError].
//
// # Subscription filters
//
// What Subscribe accepts is richer, and [ParseFilter] turns it into a
// [Filter]:
//
//	[$share/<name>/][$filter/<spec>/]<topic filter with comma lists>
//
// Shared subscriptions ("$share/workers/a/#") deliver each message to one
// member of the group instead of to every subscriber; subscribers with equal
// [Filter.ShareKey] form a group. flespi's sticky groups hash part of the
// topic so that one device always lands on the same member:
// "$share/by_ident:6/flespi/message/gw/channels/+/+" hashes the first six
// levels, "$share/by_device:4:1/flespi/+/gw/devices/+/#" one level starting
// at (zero-based) level 4, the device id. [Share.Pick] is that selection.
//
// Comma lists (a flespi extension) list values in one level:
// "flespi/state/gw/devices/1,2,3/telemetry/+" matches devices 1, 2 and 3. A
// comma is an ordinary character in topic names, so a list never matches its
// own literal text. [Filter.MQTTTopic] widens each list to '+', giving a plain
// MQTT filter for brokers that do not know lists; the Filter then narrows
// locally.
//
// "$filter/<spec>/" (flespi) keeps only messages passing a predicate: the
// publisher's customer id ("cid=123"), the publication time
// ("modified_since>1700000000"), an expression on the payload
// ("payload=position.speed%3E60") or on the whole message. The spec is one
// URL-encoded level ('&' joins conditions; "$filter/…/" may repeat), compiled
// by package filter; [Filter.MatchMessage] applies it given the message and
// its [Origin]. An Origin without CID or Time falls back to the message's
// "cid" and "timestamp" user properties, as flespi sets them: a broker that
// authenticates publishers sets Origin (or overwrites those properties) so
// that clients cannot forge them. It combines with shares:
// "$share/workers/$filter/cid=123/flespi/message/gw/devices/+".
//
// [Filter.Match], [MatchTopic] and [Share.Pick] do not allocate.
//
// # Optional features
//
// Not every implementation can honour everything a filter can say: an
// external broker cannot make a shared group sticky. Such a Broker implements
// [FeatureReporter]; [Supports] asks it, and brokertest skips what a broker
// reports it lacks. Calls that need a missing feature fail with an error
// wrapping [ErrUnsupported].
package broker
