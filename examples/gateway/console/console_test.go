package console

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, c *Console, method, target, host string) *http.Response {
	t.Helper()
	mux := http.NewServeMux()
	c.Mount(mux)
	req := httptest.NewRequest(method, target, nil)
	if host != "" {
		req.Host = host
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec.Result()
}

func TestServe(t *testing.T) {
	c, err := New(Config{Tiles: "https://{s}.tiles.example.org/{z}/{x}/{y}{r}.png", MQTTWebSocket: func() string { return "[::]:8083" }})
	if err != nil {
		t.Fatal(err)
	}
	// The root redirects to the console; other paths are not the console's.
	if r := serve(t, c, "GET", "/", ""); r.StatusCode != http.StatusFound || r.Header.Get("Location") != Prefix {
		t.Errorf("GET /: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := serve(t, c, "GET", "/elsewhere", ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /elsewhere: %d", r.StatusCode)
	}
	r := serve(t, c, "GET", Prefix, "gw.example.com:8080")
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.Contains(string(body), `<script src="js/main.js" type="module">`) {
		t.Fatalf("GET %s: %d %.200s", Prefix, r.StatusCode, body)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';",
		"img-src 'self' data: https://*.tiles.example.org;", "connect-src 'self' ws://gw.example.com:8083 wss://gw.example.com:8083;", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("no nosniff")
	}
	// A Host header that is not a plain host does not reach the policy.
	if csp := serve(t, c, "GET", Prefix, "evil;script-src *").Header.Get("Content-Security-Policy"); strings.Contains(csp, "evil") || strings.Contains(csp, "ws://") {
		t.Errorf("CSP from a hostile Host: %q", csp)
	}
	// config.json tells the page what it needs, and nothing secret.
	r = serve(t, c, "GET", Prefix+"config.json", "")
	var pc PageConfig
	if err := json.NewDecoder(r.Body).Decode(&pc); err != nil || pc.MQTTPort != 8083 || pc.MQTTPath != "/mqtt" || !strings.Contains(pc.Tiles, "{z}") {
		t.Errorf("config.json: %v %+v", err, pc)
	}
	for _, path := range []string{"js/main.js", "js/mqtt.js", "console.css", "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/leaflet/LICENSE", "favicon.svg"} {
		if r := serve(t, c, "GET", Prefix+path, ""); r.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, r.StatusCode)
		}
	}
	if r := serve(t, c, "GET", Prefix+"js/main.js", ""); !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("main.js served as %q", r.Header.Get("Content-Type"))
	}
	if r := serve(t, c, "POST", Prefix, ""); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.StatusCode)
	}
}

func TestNoTilesNoMQTT(t *testing.T) {
	for _, tiles := range []string{"", "none"} {
		c, err := New(Config{Tiles: tiles})
		if err != nil {
			t.Fatal(err)
		}
		r := serve(t, c, "GET", Prefix+"config.json", "")
		var pc PageConfig
		json.NewDecoder(r.Body).Decode(&pc)
		if pc.Tiles != "" || pc.MQTTPort != 0 {
			t.Errorf("tiles %q: %+v", tiles, pc)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") || !strings.Contains(csp, "connect-src 'self';") {
			t.Errorf("CSP %q", csp)
		}
	}
}

func TestBadTiles(t *testing.T) {
	for _, tiles := range []string{
		"https://tile.example.org/{x}/{y}.png",     // no {z}
		"ftp://tile.example.org/{z}/{x}/{y}.png",   // not http
		"/tiles/{z}/{x}/{y}.png",                   // no host
		"https://a{s}.example.org/{z}/{x}/{y}.png", // {s} inside a label
		"https://t.example.org/{z}/{x}/{y}.png;x",  // would break the policy
	} {
		if _, err := New(Config{Tiles: tiles}); !errors.Is(err, ErrTiles) {
			t.Errorf("%s: %v, want ErrTiles", tiles, err)
		}
	}
	c, err := New(Config{Tiles: DefaultTiles})
	if err != nil || c.tileSources != "https://tile.openstreetmap.org" || !strings.Contains(c.attribution, "OpenStreetMap") {
		t.Errorf("default tiles: %v %q %q", err, c.tileSources, c.attribution)
	}
}

// The page keeps to its policy: no inline script, style or handler in any
// page, and no script that writes HTML or style attributes.
func TestNoInlineCode(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	risky := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|setAttribute\(\s*'style'|eval\(|new Function`)
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, "/vendor/") {
			return err
		}
		b, err := static.ReadFile(path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".html"):
			if m := inline.Find(b); m != nil {
				t.Errorf("%s: inline code %q", path, m)
			}
		case strings.HasSuffix(path, ".js"):
			if m := risky.Find(b); m != nil {
				t.Errorf("%s: %q", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
