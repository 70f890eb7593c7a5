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
// # Accounts
//
// Every object carries the cid of the account that owns it; a token sees
// and changes only the objects of its own account.
//
// # Decisions
//
//   - DELETE /gw/channels/{selector}/messages is refused: the gateway's log
//     is shared by every channel and stream, and only its retention
//     empties it.
//   - A token with an ACL cannot create, change or delete tokens: it could
//     otherwise make one without limits.
//   - Channels' messages_ttl is the log's retention, the same for all.
package rest
