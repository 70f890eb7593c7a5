// Package rest is flespi's REST API for a gnssgate gateway: channels,
// devices, streams and tokens under the same paths, selectors and answers
// as flespi's (https://flespi.io/docs), over the gateway's registry and
// store.
//
//	GET    /gw/devices/{selector}?fields=id,name,telemetry&limit=10&offset=0
//	POST   /gw/devices                      [{"name":"car","configuration":{"ident":"356307042441013"}}]
//	PUT    /gw/devices/{selector}           {"name":"new name"}
//	DELETE /gw/devices/{selector}
//	GET    /gw/devices/{selector}/messages?data={"from":…,"to":…,"count":…,"reverse":true,"fields":"…","filter":"…"}
//	GET    /gw/devices/{selector}/telemetry/{params}
//	GET    /gw/devices/{selector}/connections, /commands; POST …/commands [{"name":"custom","properties":{"text":"getinfo"}}]
//	GET    /gw/devices/{selector}/settings/{names}; PUT …/settings/{names} {"value":"internet"}; DELETE (see SettingsLive)
//	GET    /gw/channels/{selector}[/connections|/messages]
//	POST   /gw/streams [{"name":"crm","protocol_name":"http","configuration":{"uri":"https://…"},"queue_ttl":86400}]
//	POST   /gw/streams/{selector}/channels/{selector}, …/devices/{selector}; DELETE unsubscribes
//	GET    /platform/tokens/{selector}; POST /platform/tokens [{"info":"ops","ttl":86400,"acl":{…}}]
//	GET    /gw/channels/{selector}/traffic, /gw/devices/{selector}/traffic   recorded connections
//	GET    /gw/channels/{selector}/traffic/{ident}/{file}?from=0&count=500  … decoded, frame by frame
//	GET    /gw/channels/{selector}/traffic/{ident}/{file}/hex, …/txtar      … as a file, or a golden case
//	POST   /gw/expressions {"expression":"position.speed>60","kind":"expression","device_id":7}
//	GET    /mqtt/sessions/{selector}; DELETE ends them; GET, POST, DELETE …/subscriptions[/{selector}]
//	POST   /mqtt/messages {"topic":"a/b","payload":"on","qos":1,"retained":true,"user_properties":{"k":"v"}}
//	GET    /mqtt/messages/{topic filter}; DELETE                      retained messages
//
// Selectors, fields, limit and offset are package selector's: every
// example of flespi's API basics works, e.g.
// {last_active < (now() - 86400)}, metadata.fleet_id=10,
// configuration.ident=35630704*, {exists("telemetry.can.vehicle.mileage")}.
// A device's telemetry is part of its object when fields or the selector
// name it: {"param":{"value":v,"ts":t}} in answers, plain values to
// selectors.
//
// Answers are {"result":[…]} (with "pagination" on lists); errors are
// {"errors":[{"code":N,"reason":"…"}]} with the matching HTTP status: 400
// for bad input, 401 without a valid token ("Authorization: FlespiToken
// <token>" or "Bearer <token>"), 403 outside the token's ACL, 404, 409 for a
// taken ident or name, 413 for a body over the limit. A POST of several
// objects creates those it can and lists the others' errors with their
// index.
//
// # Beyond flespi: traffic and expressions
//
// Two kinds of endpoint have no flespi counterpart; the gateway's web
// console (examples/gateway/console) is built on them, so that curl can do
// what the console does, through the same tokens and ACLs.
//
// Traffic: a channel with configuration.record keeps each connection's
// raw bytes (channel.DirRecorder, the protocol/traffic format). The listing
// is newest first (limit, offset). A recording's view runs the channel's
// codec from the start of the connection and shows chunks from..from+count,
// each of the device's chunks with the frames completed in it, their
// messages and the reply the codec makes (the '<' chunks are what was
// sent); a rejected frame is shown and decoding goes on after it. "hex"
// answers the recording as it is, for examples/decode -f; "txtar" a
// protocoltest case (Source, Transport, Expect, frame.hex) with the goldens
// messages.json and reply.hex the codec makes now. Both answer
// {"result":[{"name","format","content"}]}; files over MaxTrafficExport
// are refused. Live.Recordings says where recordings are and gives codecs.
//
// Expressions: POST /gw/expressions (or GET with data=…) evaluates an
// expression, a selector or a $filter subscription (ExpressionTest)
// against a pasted message or a device's last message (for a selector, its
// REST object). A text that does not parse is answered with status 200,
// valid false and the place of the error (offset, line, column, and the
// caret snippet of filter.SyntaxError); testing a device needs the ACL's
// GET on its messages (or, for a selector, on the device).
//
// # Accounts
//
// Every object carries the cid of the account that owns it; a token sees
// and changes only the objects of its own account, and of its subaccounts
// when it has no ACL or its ACL says subaccounts; the X-Flespi-Cid header
// acts in one of them (API.MayActIn). Another account's objects answer as
// if they did not exist, and every attempt to reach one — an account the
// token may not act in, an object named by id or matched by a selector on
// cid, a selector asking for another account's cid where it has nothing to
// find, a guessed subaccount cid — is counted through API.Refused.
//
// # The broker over REST
//
// flespi's /mqtt API manages the gateway's embedded MQTT broker in the
// namespace of the account the call acts in (see MQTTAdmin and mqtt.go for
// the objects and their fields):
//
//	GET    /mqtt/sessions/{sel}                         client id, connected, clean, subscriptions, queued messages
//	DELETE /mqtt/sessions/{sel}                         end them (a connected client is disconnected, reason 0x98)
//	GET    /mqtt/sessions/{sel}/subscriptions[/{sel}]   their subscriptions
//	POST   /mqtt/sessions/{sel}/subscriptions           [{"topic":"cmd/#","qos":1}]: online or offline
//	DELETE /mqtt/sessions/{sel}/subscriptions/{sel}     unsubscribe (or with a body [{"topic":"cmd/#"}])
//	POST   /mqtt/messages                               publish: topic, payload, qos, retained, user_properties
//	GET    /mqtt/messages/{topic}                       retained messages ('+', '#' as %23, or all)
//	DELETE /mqtt/messages/{topic}                       delete them (the platform's flespi/ state stays)
//
// A session selector is a client id (or several, comma-separated) or a
// selector over session objects, e.g. {connected==false} or
// client_id=car*. Topics obey the token's MQTT ACL as they would for its
// MQTT clients. With an external broker as the bus, only POST
// /mqtt/messages works; the rest answers 501.
//
// # Decisions
//
//   - DELETE /gw/channels/{selector}/messages is refused: the gateway's log
//     is shared by every channel and stream, and only its retention
//     empties it.
//   - A token with an ACL cannot create, change or delete tokens: it could
//     otherwise make one without limits.
//   - Channels' messages_ttl is the log's retention, the same for all.
//   - /mqtt: sessions are made by clients connecting, so POST
//     /mqtt/sessions (flespi's "create persistent session") is not
//     served; a POST of subscriptions selecting no session subscribes
//     nothing and answers an empty result, like a PUT selecting nothing.
//   - /mqtt: reading retained messages needs subscribe filters covering
//     the filter; deleting them needs publish filters covering it too
//     (an empty retained publish is how an MQTT client deletes one). A
//     token without an ACL has "#" for both, which does not reach topics
//     starting with '$' — other namespaces, the device API's.
//   - /mqtt: user_properties is an object; a key repeated in a message
//     shows its last value, and a POST sends them sorted by key.
//   - /mqtt: a payload that is not UTF-8 is answered as payload_base64.
package rest
