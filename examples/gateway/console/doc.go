// Package console is the gateway's web console, served on its HTTP port at
// /console/ (the root redirects there): a devices table chosen by a REST
// selector with a live map of their positions and tracks; a device's or
// channel's messages (history and live tail, each expandable, a filter
// box, CSV and JSON export); a traffic viewer that shows a recording
// channel's connections frame by frame beside what the codec decoded and
// the reply, and downloads a recording as a traffic file for
// examples/decode -f or as a protocoltest golden case; an expression
// tester for expressions, selectors and $filter subscriptions, with the
// parser's error and caret inline; an MQTT board (subscribe to what the
// token allows, $filter and $share included, publish, retained state);
// and channels and streams with their counters, lag, connections (close
// one) and a device's command queue.
//
//	con, err := console.New(console.Config{Tiles: console.DefaultTiles,
//		MQTTWebSocket: func() string { return n.Addrs().MQTTWebSocket }})
//	n.SetHTTPHandlers(func(mux *http.ServeMux) { con.Mount(mux) })
//
// # Built on what any client has
//
// The page is static files embedded in the binary (no build step: plain
// JavaScript modules, and Leaflet 1.9.4 vendored under static/vendor with
// its license). It holds no secret: the user types a token once, the tab
// keeps it in session storage, and every call is the REST API with
// "Authorization: FlespiToken <token>" or MQTT over the gateway's
// WebSocket listener with the token as username, so the console can do
// exactly what the token's ACL allows and curl or mosquitto_sub can do the
// same. Where the console needed more than flespi's API, the API grew
// (recorded traffic and its decoding, expression evaluation: see package
// rest) rather than the console.
//
// The MQTT client is the page's own (static/js/mqtt.js, MQTT 5: QoS 0 and
// 1, subscription identifiers so that each message reaches the
// subscriptions the broker matched — $filter ones included —, user
// properties, keep-alive, reconnection).
//
// # Security
//
// Every answer carries a Content-Security-Policy: scripts and styles from
// the gateway only (no inline script, style or handler anywhere), API
// calls to the gateway and its MQTT WebSocket port, images from the
// gateway and the tile server; no framing. Text from devices is always
// set as text, never parsed as HTML.
//
// # Map
//
// Tiles come from Config.Tiles (the gateway's -console-tiles, by default
// OpenStreetMap's); under them the page draws a grid of latitudes and
// longitudes, which is what shows when no tile server is reachable, so the
// map works offline.
package console
