// Package osmand is the OsmAnd / Traccar Client protocol: positions sent
// over HTTP by the OsmAnd app's online tracking, Traccar Client and the
// many apps and scripts that copy them. A request is a GET or POST with
// query (or form) parameters, or, from Traccar Client 9, a POST of a JSON
// location; the server answers 200 once the position is stored. Traccar's
// usual port for it is 5055.
//
// The package decodes requests into messages; the HTTP channel serves
// them: set [Codec] as channel.HTTP's Decoder (it implements
// channel.RequestDecoder), and the channel answers 200 after its handler
// has stored the messages, 400 for a request the codec refuses.
//
//	ch := &channel.HTTP{Decoder: &osmand.Codec{}, Handler: store}
//	http.ListenAndServe(":5055", ch)
//
// Built from Traccar's protocol page for OsmAnd ("Query / form format":
// every parameter and its unit, the three examples; "JSON format": the
// Traccar Client 9 object) and OsmAnd's online tracking URL template
// (lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5}).
//
// # Query and form parameters
//
//	id, deviceid         ident (required)
//	timestamp            timestamp: Unix seconds (fraction allowed), Unix
//	                     milliseconds (from 2^31 up), ISO 8601, or
//	                     "yyyy-MM-dd HH:mm:ss" (read as UTC)
//	lat, lon, location   position.latitude, position.longitude ("lat,lon")
//	valid                position.valid (true/false/1/0; true when absent
//	                     and the request has a position)
//	speed                position.speed: knots → km/h (negative: unknown)
//	bearing, heading     position.direction (negative: unknown)
//	altitude             position.altitude (m)
//	accuracy             position.accuracy (m)
//	hdop                 position.hdop
//	batt                 battery.level (%)
//	charge               battery.charging.status
//	driverUniqueId       driver.id
//	cell                 gsm.cells: "mcc,mnc,lac,cellid[,rssi]", repeatable
//	wifi                 wifi.access.points: "mac,rssi", repeatable
//	anything else        custom.<name>: a number when it reads as one, true
//	                     or false, else text
//
// The query comes from the URL, or from the body when the URL has none (a
// form POST).
//
// # JSON
//
//	{"device_id": "…", "location": {…}}   or "location": [{…}, …] (a batch)
//
// Per location: timestamp (ISO 8601); coords latitude, longitude,
// accuracy (m), speed (m/s → km/h), heading, altitude; is_moving
// (movement.status); odometer (m → gps.vehicle.mileage, km); battery level
// (0–1 → battery.level %) and is_charging; event, activity.type and mock
// (custom.event, custom.activity, custom.mock); alarm (custom.alarm, and
// sos.event.trigger for "sos"); every extras entry as custom.<name>.
//
// # Errors and lenient mode
//
// A request without an id, with a coordinate, time, cell or Wi-Fi value
// that does not read, or whose JSON does not parse is a
// [protocol.ErrMalformed] error (the channel answers 400). A Lenient codec
// skips the values that do not read and keeps the rest of the request.
// The protocol has no checksum and no commands: Traccar can return a
// queued command's text in the response body, which no standard client
// reads.
//
// # Speed
//
// [Codec.DecodeQuery] and [Codec.DecodeJSON] decode into a reused
// [protocol.Result] and allocate only the strings a message keeps;
// [Codec.DecodeRequest] clones the messages it returns.
package osmand
