package console_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

var updateScreenshots = flag.Bool("update-screenshots", false, "copy the README's screenshots into screenshots/")

// chromium returns the browser, or skips the test (fails it under
// GNSSGATE_REQUIRE_SERVICES=1) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if testenv.Required() {
			t.Fatalf("%s=1 but there is no browser at %s (apt-get install chromium)", testenv.RequireEnv, chromiumPath)
		}
		t.Skipf("skipping: no browser at %s (apt-get install chromium)", chromiumPath)
	}
	return chromiumPath
}

// browserProblems collects what the page reports wrong: exceptions,
// console errors, and Content-Security-Policy refusals.
type browserProblems struct {
	mu   sync.Mutex
	list []string
}

func (p *browserProblems) add(s string) {
	p.mu.Lock()
	p.list = append(p.list, s)
	p.mu.Unlock()
}

func (p *browserProblems) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// TestBrowser drives the console in headless Chromium against a running
// gateway and a simulated tracker: sign-in, the device in the table and
// its marker moving on the map, the traffic viewer with the frame's hex
// and decoded values (and both downloads), an expression and a syntax
// error, the MQTT board receiving a message, the messages and the
// channels views. Each view's screenshot goes to t.ArtifactDir() (keep
// them with go test -artifacts -outputdir DIR).
func TestBrowser(t *testing.T) {
	exec := chromium(t)
	tiles := startTileServer(t)
	g := startGateway(t, tiles.url)
	chID, chAddr := g.channel(t)
	// A small fleet: the test follows the first tracker; the others make
	// the map and the table what an operator sees.
	tr := dialTracker(t, chAddr, 1)
	for range 6 {
		tr.send()
	}
	for k := uint64(2); k <= 4; k++ {
		other := dialTracker(t, chAddr, k)
		for range 8 {
			other.send()
		}
	}
	ident := tr.Ident()
	var devID int64
	waitFor(t, "the device's registration", func() bool {
		id, ok := g.Registry.DeviceIDByIdent(ident)
		devID = id
		return ok
	})

	shots := t.ArtifactDir()
	downloads := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exec),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	// The browser starts with a blank page; the console's messages are
	// followed from then on.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", exec, err)
	}
	var problems browserProblems
	tileHost := strings.Split(tiles.url, "/{")[0]
	const badFilter = "position.speed >> "
	badFilterQuery := strings.ReplaceAll(url.QueryEscape(`"filter":"`+strings.TrimSpace(badFilter)), "+", "%20")
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// The tile server is down on purpose, and the bad filter is the
			// test's: the browser logs their failed requests.
			expected := strings.HasPrefix(m.URL, tileHost) || strings.Contains(m.URL, badFilterQuery)
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning) && !expected {
				problems.add(fmt.Sprintf("%s (%s %s)", m, m.Source, m.URL))
			}
		}
	}()

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nproblems in the page: %v", what, err, problems.get())
		}
	}
	shot := func(name string) {
		t.Helper()
		do("settle", chromedp.Sleep(600*time.Millisecond)) // animations end
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if *updateScreenshots && (name == "devices" || name == "traffic") {
			if err := os.WriteFile(filepath.Join("screenshots", name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// eventually polls an element's text until ok says it is what the test
	// waits for.
	eventually := func(what string, sel string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			tctx, tcancel := context.WithTimeout(ctx, 2*time.Second)
			text, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
			tcancel()
			if err == nil && ok(text) {
				return text
			}
			if time.Now().After(deadline) {
				// What the page shows then helps more than the selector.
				if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
					os.WriteFile(filepath.Join(shots, "failure.png"), png, 0o644)
				}
				body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
				t.Fatalf("%s: %q is %q (%v)\nproblems in the page: %v\nthe page (failure.png in %s):\n%.3000s", what, sel, text, err, problems.get(), shots, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	attr := func(sel, name string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		if err != nil {
			t.Fatalf("%s[%s]: %v", sel, name, err)
		}
		return v.Value
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Sign in: the root redirects to the console, which asks for a token.
	do("sign-in page", chromedp.Navigate(g.base+"/"), chromedp.WaitVisible(css("#login-form")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/console/") {
		t.Errorf("/ led to %s", loc)
	}
	do("sign in", chromedp.SendKeys(css("#token"), master), chromedp.Click(css(`#login-form button[type="submit"]`)))

	// Devices: the tracker is in the table, with its position, and on the map.
	row := fmt.Sprintf(`tr.device-row[data-device="%d"]`, devID)
	eventually("the device in the table", row+" td.ident", func(s string) bool { return s == ident })
	eventually("MQTT over WebSocket", "#mqtt-status", func(s string) bool { return s == "MQTT connected" })
	legend := fmt.Sprintf(`tr.legend-row[data-device="%d"] td.position`, devID)
	start := eventually("the device on the map", legend, func(s string) bool { return strings.Contains(s, ",") })
	marker := fmt.Sprintf("path.marker-%d", devID)
	do("the marker", chromedp.WaitVisible(css(marker)))
	path0 := attr(marker, "d")
	eventually("the grid under unreachable tiles", "#map-note", func(s string) bool { return strings.Contains(s, "coordinate grid") })
	if tiles.requests.Load() == 0 {
		t.Errorf("the page asked the tile server for no tile")
	}
	// The tracker moves: the marker follows, live over MQTT.
	tr.send()
	tr.send()
	moved := eventually("the marker moving", legend, func(s string) bool { return s != start })
	if path1 := attr(marker, "d"); path1 == path0 {
		t.Errorf("the marker's path did not change (%s → %s)", start, moved)
	}
	shot("devices")
	do("select the device", chromedp.Click(css(row)))

	// Traffic: the channel's recording, frame by frame.
	do("traffic view", chromedp.Click(css(`#nav a[data-view="traffic"]`)),
		chromedp.WaitVisible(css("tr.recording-row")),
		chromedp.Click(css("tr.recording-row")),
		chromedp.WaitVisible(css("tr.chunk-row")))
	chunks := eventually("the decoded frames", "#traffic-chunks tbody", func(s string) bool {
		return strings.Contains(s, "position.latitude") && strings.Contains(s, "reply")
	})
	loginHex := "000f" + fmt.Sprintf("%x", ident)
	hexCell := eventually("the login's hex", `tr.chunk-row[data-index="0"] td.hex`, func(string) bool { return true })
	if strings.ReplaceAll(hexCell, " ", "") != loginHex {
		t.Errorf("first chunk %q, want the login %s", hexCell, loginHex)
	}
	for _, want := range []string{"ident=\"" + ident + "\"", "position.speed=", "reply 00000001"} {
		if !strings.Contains(chunks, want) {
			t.Errorf("decoded frames lack %q:\n%.2000s", want, chunks)
		}
	}
	shot("traffic")
	// Both downloads: the traffic file and the golden case.
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	do("downloads", chromedp.Click(css("#traffic-download-hex")), chromedp.Click(css("#traffic-download-txtar")))
	var hexFile, caseFile string
	waitFor(t, "the downloads", func() bool {
		hexFile, caseFile = "", ""
		files, _ := filepath.Glob(filepath.Join(downloads, "*"))
		for _, f := range files {
			switch {
			case strings.HasSuffix(f, ".hex"):
				hexFile = f
			case strings.HasSuffix(f, ".txtar"):
				caseFile = f
			}
		}
		return hexFile != "" && caseFile != ""
	})
	f, err := os.Open(hexFile)
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := traffic.Parse(f)
	f.Close()
	if err != nil || len(recorded) < 2 || fmt.Sprintf("%x", recorded[0].Data) != loginHex {
		t.Errorf("downloaded traffic file: %v, %d chunks", err, len(recorded))
	}
	if c, err := protocoltest.LoadCase(caseFile); err != nil || c.Expect != "position" || !strings.Contains(c.Source, fmt.Sprint(chID)) {
		t.Errorf("downloaded golden case: %v %+v", err, c)
	}

	// Expressions: a filter over the device's last message, then a
	// syntax error with its caret.
	do("expressions view", chromedp.Click(css(`#nav a[data-view="expressions"]`)),
		chromedp.WaitVisible(css("#expr-text")),
		chromedp.SendKeys(css("#expr-text"), "position.speed >= 0 && exists('position.latitude')"))
	eventually("the verdict", "#expr-verdict", func(s string) bool { return s == "true" })
	shot("expressions")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('#expr-text').value = ''`)); err != nil {
		t.Fatal(err)
	}
	do("a syntax error", chromedp.SendKeys(css("#expr-text"), "position.speed > (1 +"))
	eventually("the parser's error", "#expr-error", func(s string) bool {
		return strings.Contains(s, "unexpected end of input") && strings.Contains(s, "column 22")
	})
	eventually("the caret", "#expr-caret", func(s string) bool { return strings.Contains(s, "^") })
	shot("expression-error")
	// The same over a subscription: would it receive the device's message?
	setSelect := func(sel, value string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change')); return s.value; })()`, sel, value)
		if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js)); err != nil || v != value {
			t.Fatalf("%s = %q: %q %v", sel, value, v, err)
		}
	}
	setSelect("#expr-kind", "topic")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('#expr-text').value = ''`)); err != nil {
		t.Fatal(err)
	}
	do("a $filter subscription", chromedp.SendKeys(css("#expr-text"), "$filter/payload=position.speed>=0/flespi/message/gw/devices/+"))
	eventually("the subscription's verdict", "#expr-result", func(s string) bool {
		return strings.Contains(s, "the subscription receives the message") && strings.Contains(s, "the topic matches")
	})

	// MQTT board: a $filter subscription receives the next position; a
	// retained message shows in the retained state.
	sub := fmt.Sprintf("$filter/payload=position.speed>=0/flespi/message/gw/devices/%d", devID)
	do("mqtt view", chromedp.Click(css(`#nav a[data-view="mqtt"]`)),
		chromedp.SetValue(css("#sub-topic"), sub), chromedp.Click(css(`#sub-form button[type="submit"]`)))
	eventually("the subscription", "#subs tr.sub-row", func(s string) bool { return strings.Contains(s, "QoS 1 granted") })
	share := "$share/console/flespi/message/gw/channels/+/" + ident
	do("a shared subscription", chromedp.SetValue(css("#sub-topic"), share), chromedp.Click(css(`#sub-form button[type="submit"]`)))
	eventually("the shared subscription", "#subs tbody", func(s string) bool { return strings.Count(s, "QoS 1 granted") == 2 })
	tr.send()
	eventually("a message on the board", "#board tbody", func(s string) bool {
		return strings.Contains(s, fmt.Sprintf("flespi/message/gw/devices/%d", devID)) && strings.Contains(s, "position.latitude") &&
			strings.Contains(s, "via "+share)
	})
	do("publish retained", chromedp.SetValue(css("#pub-topic"), "console/board-test"),
		chromedp.Click(css("#pub-retain")), chromedp.Click(css(`#pub-form button[type="submit"]`)))
	eventually("the publish acknowledged", "#pub-result", func(s string) bool { return strings.Contains(s, "acknowledged") })
	do("subscribe console/#", chromedp.SetValue(css("#sub-topic"), "console/#"), chromedp.Click(css(`#sub-form button[type="submit"]`)))
	eventually("the retained state", "#retained tbody", func(s string) bool { return strings.Contains(s, "console/board-test") })
	shot("mqtt")

	// Messages: the device's history, one expanded.
	do("a bad filter", chromedp.Click(css(`#nav a[data-view="messages"]`)),
		chromedp.SendKeys(css("#messages-filter"), badFilter),
		chromedp.Click(css(`#messages-form button[type="submit"]`)))
	eventually("the filter's error", "#messages-error pre.caret", func(s string) bool { return strings.Contains(s, "^") })
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('#messages-filter').value = ''`)); err != nil {
		t.Fatal(err)
	}
	do("messages view",
		chromedp.Click(css(`#messages-form button[type="submit"]`)),
		chromedp.WaitVisible(css("tr.message-row")),
		chromedp.Click(css("tr.message-row")))
	eventually("an expanded message", "tr.detail", func(s string) bool { return strings.Contains(s, "position.latitude") })
	shot("messages")
	// The live tail brings the next message; the export holds them all.
	rows := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('tr.message-row').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := rows()
	do("live tail", chromedp.Click(css("#messages-live")))
	time.Sleep(300 * time.Millisecond) // the subscription's round trip
	tr.send()
	waitFor(t, "the live tail", func() bool { return rows() == before+1 })
	do("export CSV", chromedp.Click(css("#messages-csv")))
	var csvFile string
	waitFor(t, "the CSV export", func() bool {
		files, _ := filepath.Glob(filepath.Join(downloads, "*.csv"))
		if len(files) > 0 {
			csvFile = files[0]
		}
		return csvFile != ""
	})
	if b, err := os.ReadFile(csvFile); err != nil || !strings.HasPrefix(string(b), "timestamp,server.timestamp,ident,device.id,channel.id,position.latitude") ||
		strings.Count(string(b), "\r\n") < 7 {
		t.Errorf("CSV export: %v\n%.500s", err, b)
	}

	// Channels: the connection, and a command queued for the device.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer receiver.Close()
	if _, err := g.Registry.Streams.Create(context.Background(), registry.Stream{Meta: registry.Meta{CID: registry.RootCID},
		Name: "crm", ProtocolName: "http", Enabled: true, Channels: []int64{chID},
		Configuration: []byte(fmt.Sprintf(`{"uri":%q}`, receiver.URL))}); err != nil {
		t.Fatal(err)
	}
	tr.send()
	do("channels view", chromedp.Click(css(`#nav a[data-view="channels"]`)),
		chromedp.Click(css(fmt.Sprintf(`tr.channel-row[data-channel="%d"]`, chID))))
	eventually("the tracker's connection", "#connections-table tbody", func(s string) bool { return strings.Contains(s, ident) })
	do("send a command", chromedp.SetValue(css("#command-text"), "getinfo"), chromedp.Click(css(`#command-form button[type="submit"]`)))
	eventually("the command queue", "#commands-table tbody", func(s string) bool { return strings.Contains(s, "getinfo") })
	eventually("the stream's counters", "#streams-table tbody", func(s string) bool { return strings.Contains(s, "crm") && strings.Contains(s, " s") })
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('tr.connection-row').length`))
	if err != nil || n != 4 {
		t.Errorf("%d connection rows (%v), want the fleet's 4", n, err)
	}
	shot("channels")
	// Close the tracker's connection from the table; the others stay.
	do("close the connection", chromedp.Click(css(fmt.Sprintf(`tr.connection-row[data-ident="%s"] button.close-connection`, ident))))
	eventually("the connection closed", "#connections-table tbody", func(s string) bool {
		return !strings.Contains(s, ident) && strings.Count(s, "close") == 3
	})

	// Names are text, never markup: a device renamed to HTML shows as
	// written, in the table and on the map.
	const hostile = `<img src="x" id="injected"> truck`
	other, _ := g.Registry.DeviceIDByIdent(device.IMEI(35630704242000 + 2))
	if _, err := g.Registry.Devices.Update(context.Background(), other, func(d *registry.Device) error { d.Name = hostile; return nil }); err != nil {
		t.Fatal(err)
	}
	do("devices again", chromedp.Click(css(`#nav a[data-view="devices"]`)), chromedp.Click(css(`#devices-form button[type="submit"]`)))
	eventually("the renamed device", fmt.Sprintf(`tr.device-row[data-device="%d"]`, other), func(s string) bool { return strings.Contains(s, hostile) })
	eventually("its map label", ".leaflet-tooltip", func(string) bool {
		labels, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.marker-label')].map((e) => e.textContent).join('|')`))
		return strings.Contains(labels, hostile)
	})
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#injected').length`)); err != nil || n != 0 {
		t.Errorf("a device's name became markup: %d elements (%v)", n, err)
	}

	if p := problems.get(); len(p) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(p, "\n"))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
