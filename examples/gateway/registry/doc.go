// Package registry is the gateway's object model, in flespi's shape:
// accounts (flespi's cid, with subaccounts and limits), channels, devices,
// streams and tokens (with their ACLs), each a Collection of JSON objects
// with ids, selectors and change notification.
//
// Objects live in a small key-value store behind the [KV] interface:
// [MemoryKV] for tests and in-memory gateways, [PebbleKV] in a data
// directory, [JetStreamKV] in a NATS KV bucket that several gateway nodes
// share. Every write is a compare-and-set on the key's revision, so two
// nodes changing one object never lose each other's change, and each
// Registry follows the changes the others make (Collection.Watch).
//
// Validation happens here, once, for every way an object arrives (REST,
// the config file, a device's first message): a bad field is a
// [*ValidationError] naming it; an account over its limits a
// [*LimitError].
package registry
