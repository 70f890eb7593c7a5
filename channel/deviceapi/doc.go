// Package deviceapi serves ThingsBoard's device MQTT API as a gnssgate
// channel: devices and device SDKs written for ThingsBoard connect to the
// embedded broker (broker/embedded) with their access token as MQTT user
// name and publish to "v1/devices/me/telemetry", unchanged, and their
// telemetry reaches the same channel.Handler as every channel's messages.
//
//	srv := embedded.New(&embedded.Config{Authenticator: api.Authenticator(appTokens)})
//	api := &deviceapi.API{Broker: srv, Handler: channel.LogHandler(log), Credentials: devices}
//
// # What a device can do
//
// Everything of ThingsBoard's device API with JSON payloads (source:
// thingsboard.io/docs/reference/mqtt-api and gateway-mqtt-api, and
// ThingsBoard's MqttTransportHandler for the answers to bad input), over
// MQTT 3.1.1 and 5.0, at QoS 0 and 1, in the long ("v1/devices/me/…") and
// short ("v2/t", "v2/a", "v2/a/req/{id}", "v2/r/req/+", …) topic forms:
//
//   - Telemetry in the four payload forms (ParseTelemetry): one message per
//     timestamp, with "ident" (the device's), "timestamp" (seconds: the ts
//     given in milliseconds, or server time), "channel.id", "protocol.id",
//     "server.timestamp" and "peer" stamped as every channel does, values
//     of every JSON type. The PUBACK is sent only after the Handler
//     returned nil; a Handler error withholds it and closes the connection,
//     so the device sends the data again.
//   - Client attributes, shared attributes pushed by API.SetShared and
//     API.DeleteShared, attribute requests with clientKeys/sharedKeys, in
//     an AttributeStore.
//   - Server-side RPC (API.Call awaits the answer, API.Notify does not;
//     a device offline with a persistent session gets the request when it
//     reconnects, while the call still waits) and client-side RPC (the
//     embedding program's RPCHandler answers).
//   - Claiming (ClaimStore) and provisioning (Provisioner) on "/provision"
//     and "/provision/request", answered on "/provision/response", for a
//     client connected with user name or client ID "provision".
//   - Firmware and software updates: API.AssignPackage sets the fw_* (sw_*)
//     shared attributes, the device downloads the image in chunks on
//     "v2/fw/request/{id}/chunk/{n}" and verifies the checksum; errors go
//     to "v2/fw/error".
//   - The gateway API ("v1/gateway/…"): one connection speaking for many
//     devices, which then get RPC and shared attributes through it.
//
// Credentials are the access token as user name (any password), basic
// MQTT credentials (client ID, user name, password) or an X.509 client
// certificate known by its fingerprint, through the Credentials interface
// (MemoryCredentials by default); a refused device gets ThingsBoard's
// CONNACK codes. Everything a device sends that the API cannot use gets
// ThingsBoard's answer — PUBACK 0x99 "payload format invalid" for MQTT 5
// (MQTT 3.1.1: the connection is closed, or acknowledged with
// API.AckInvalid), 0x90 "topic name invalid" for a topic the API does not
// serve — and is logged and counted in Stats. A device never affects
// another.
//
// # Design
//
// The API is served by the broker itself through two per-client hooks of
// broker/embedded that its Authenticator attaches to each device's Token:
//
//   - A namespace: a device's topics live under "$devices/{ident}/". The
//     device writes "v1/devices/me/rpc/request/+", the broker keeps
//     "$devices/{ident}/v1/devices/me/rpc/request/+", and delivers back
//     without the prefix. "me" is therefore resolved by the broker from the
//     connection's credentials, devices cannot see each other, and the
//     embedding program reaches exactly one device — connected, or offline
//     with its persistent session — by publishing to the prefixed topic,
//     which is what Call and SetShared do. The same hook gives accounts
//     their private topic spaces.
//   - An interceptor: every publish of a device is offered to the API on
//     the connection's read loop before routing; the API serves it (parse,
//     store, answer) and decides the acknowledgement. Nothing a device
//     publishes is routed, so a device cannot publish to other clients.
//
// Both hooks hang on the Token the Authenticator returns, not on the
// broker's Config: the device API's Authenticator gives its devices theirs,
// the embedding program's own clients (next in Authenticator) keep none, so
// the two share one broker and one port without a dispatch table, an
// account's Authenticator can give its clients their namespace the same
// way, and a client without hooks pays one nil check per packet. The
// interceptor runs before the broker's Authorizer because it is the
// authority for what it serves (it answers an unknown topic with
// ThingsBoard's 0x90, where the Authorizer could only say 0x87), and
// before the "flespi/" prefix so that no device reaches REST over MQTT.
//
// Why not an in-process subscriber of the namespaces, as the MQTT channel
// is? Because the broker acknowledges a publish once it is queued for its
// subscribers: the PUBACK would not wait for storage, and the subscriber
// would not know which connection (which device, which MQTT version) to
// answer. The interceptor has both, and no copy or queue stands between
// the device and the store.
//
// The device API cannot be served through an external broker (broker/paho
// to Mosquitto): "me" in "v1/devices/me/telemetry" means "the device of
// this connection", which only the broker the device is connected to
// knows. An external broker delivers the message without its publisher's
// identity (MQTT 5 has no such property and Mosquitto adds none), it
// acknowledges the publish before gnssgate has stored anything, and it
// authenticates devices itself. Devices on an external broker reach
// gnssgate through the MQTT channel (package channel) instead, with an
// ident in the topic or payload.
//
// Deliberate differences from ThingsBoard, for the better: an OTA error
// ("NOT_FOUND", "PAYLOAD_TOO_LARGE") leaves the connection open, so the
// device receives it (ThingsBoard closes the connection right after
// publishing it); an empty attribute request asks for everything instead
// of being invalid; string values are kept as strings (ThingsBoard turns
// "42" into a number by default); keys the channel stamps ("ident",
// "timestamp", "device.id", …) cannot be forged in telemetry; OTA chunks
// are bounded by MaxChunkSize whether requested in pieces or whole; a
// provisioning connection is not closed 60 s after its answer. The
// protobuf payload forms ("v2/t/p", …) are not served (answered as unknown
// topics), nor Sparkplug; MQTT QoS 2 works (the broker supports it) where
// ThingsBoard downgrades to 1.
package deviceapi
