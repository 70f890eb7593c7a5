package console

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// DefaultTiles is OpenStreetMap's standard tile layer, the map's default.
const DefaultTiles = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

// Config configures the console. Its zero value serves a console whose map
// draws a coordinate grid and whose live parts (map updates, live tail,
// MQTT board) are off.
type Config struct {
	// Tiles is the live map's tile URL template, with {z}, {x} and {y}
	// (and {s} for a subdomain, {r} for "@2x" on dense screens), e.g.
	// DefaultTiles; "" or "none" draws only the coordinate grid. The grid
	// is also what shows wherever tiles cannot be loaded.
	Tiles string
	// MQTTWebSocket returns the address the broker serves MQTT over
	// WebSocket on (node.Node.Addrs().MQTTWebSocket), read at each page
	// load; nil, or "", means none. The page connects to the port of that
	// address on the host it was loaded from, path /mqtt.
	MQTTWebSocket func() string
}

// Console is the web console: an http.Handler for Prefix.
type Console struct {
	cfg         Config
	files       http.Handler
	tiles       string // "" for none
	tileSources string // CSP source of the tiles
	attribution string
}

// New checks cfg and returns the console.
func New(cfg Config) (*Console, error) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, files: http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(sub))}
	if t := strings.TrimSpace(cfg.Tiles); t != "" && t != "none" {
		src, attribution, err := tileSource(t)
		if err != nil {
			return nil, err
		}
		c.tiles, c.tileSources, c.attribution = t, src, attribution
	}
	return c, nil
}

// ErrTiles is wrapped by the error for a tile URL template New refuses.
var ErrTiles = errors.New("console: bad tile URL template")

// tileSource checks a tile URL template and returns the CSP source its
// images come from and the attribution the map shows.
func tileSource(t string) (string, string, error) {
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(t, p) {
			return "", "", fmt.Errorf("%w %q: it needs %s (e.g. %s)", ErrTiles, t, p, DefaultTiles)
		}
	}
	probe := strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "").Replace(t)
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(t, " ;,'\"") {
		return "", "", fmt.Errorf("%w %q: want an http or https URL", ErrTiles, t)
	}
	host := u.Host
	hostT, _, _ := strings.Cut(t[len(u.Scheme)+len("://"):], "/")
	if strings.Contains(hostT, "{s}") {
		// {s} is a subdomain: allow the domain's.
		if !strings.HasPrefix(hostT, "{s}.") || strings.Count(hostT, "{") > 1 {
			return "", "", fmt.Errorf("%w %q: {s} may only be the first label of the host", ErrTiles, t)
		}
		host = "*." + strings.TrimPrefix(hostT, "{s}.")
	} else if strings.Contains(hostT, "{") {
		return "", "", fmt.Errorf("%w %q: only {s} may be in the host", ErrTiles, t)
	}
	// Leaflet shows the attribution as HTML.
	attribution := html.EscapeString(u.Hostname())
	if strings.HasSuffix(u.Hostname(), "openstreetmap.org") {
		attribution = "© OpenStreetMap contributors"
	}
	return u.Scheme + "://" + host, attribution, nil
}

// Mount serves the console on mux at Prefix, and redirects / to it.
func (c *Console) Mount(mux *http.ServeMux) {
	mux.Handle(Prefix, c)
	mux.Handle("GET /{$}", http.RedirectHandler(Prefix, http.StatusFound))
}

// ServeHTTP serves the page, its scripts and styles, and config.json, each
// with a Content-Security-Policy that allows scripts and styles from the
// gateway only, API calls to the gateway and its MQTT WebSocket, and
// images from the gateway and the tile server.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", c.csp(r))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cache-Control", "no-cache")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == Prefix+"config.json" {
		c.serveConfig(w)
		return
	}
	c.files.ServeHTTP(w, r)
}

// PageConfig is config.json: what the page needs to know that is not a
// secret. The token is typed by the user and kept in the tab's session
// storage.
type PageConfig struct {
	Tiles            string `json:"tiles"`
	TilesAttribution string `json:"tiles_attribution,omitempty"`
	// MQTTPort and MQTTPath locate MQTT over WebSocket on the page's host;
	// port 0 means the gateway serves none.
	MQTTPort int    `json:"mqtt_port"`
	MQTTPath string `json:"mqtt_path"`
}

func (c *Console) serveConfig(w http.ResponseWriter) {
	b, _ := json.Marshal(PageConfig{Tiles: c.tiles, TilesAttribution: c.attribution, MQTTPort: c.mqttPort(), MQTTPath: "/mqtt"})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (c *Console) mqttPort() int {
	if c.cfg.MQTTWebSocket == nil {
		return 0
	}
	_, port, err := net.SplitHostPort(c.cfg.MQTTWebSocket())
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(port)
	return p
}

// csp is the page's policy. connect-src names the WebSocket on the host
// the page was requested from (a different port is a different origin).
func (c *Console) csp(r *http.Request) string {
	connect := "'self'"
	if port := c.mqttPort(); port != 0 {
		if host := requestHost(r); host != "" {
			connect += fmt.Sprintf(" ws://%s:%d wss://%s:%d", host, port, host, port)
		}
	}
	img := "'self' data:" // Leaflet blanks unloaded tiles with a data: GIF
	if c.tileSources != "" {
		img += " " + c.tileSources
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img + "; connect-src " + connect +
		"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// requestHost is the Host header without its port, if it is a plain host
// name or address (anything else would not belong in a policy).
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	for _, ch := range host {
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.ContainsRune(".-:[]", ch)
		if !ok {
			return ""
		}
	}
	return host
}
