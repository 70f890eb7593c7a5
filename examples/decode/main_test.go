package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// The Teltonika wiki's Codec 8 example, after an IMEI login.
const (
	login  = "000f333536333037303432343431303133"
	codec8 = "000000000000003608010000016b40d8ea30010000000000000000000000000000000105021503010101425e0f01f10000601a014e0000000000000000010000c7cf"
)

func runDecode(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestList(t *testing.T) {
	code, out, _ := runDecode(t, "", "-list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, name := range []string{"teltonika", "gt06", "wialon-ips"} {
		if !strings.Contains(out, name+"\n") {
			t.Errorf("-list lacks %s:\n%s", name, out)
		}
	}
}

func TestTeltonikaStreamWithReplies(t *testing.T) {
	code, out, errOut := runDecode(t, "", "-p", "teltonika", "-replies", login, codec8)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], `{"ident":"356307042441013","timestamp":1560161086,`) {
		t.Errorf("stdout:\n%s", out)
	}
	if errOut != "reply: 01\nreply: 00000001\n" {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestChunksAreOneStream(t *testing.T) {
	// The record cut in two arguments decodes as one frame.
	code, out, errOut := runDecode(t, "", "-p", "teltonika", codec8[:40], codec8[40:])
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestBadInputExitsOneWithOffset(t *testing.T) {
	bad := codec8[:len(codec8)-2] + "c1" // wrong CRC
	code, out, errOut := runDecode(t, "", "-p", "teltonika", login, bad)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if want := "decode: teltonika: offset 79: bad checksum"; !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting %q", errOut, want)
	}
	// Lenient mode keeps and marks the message.
	code, out, _ = runDecode(t, "", "-p", "teltonika", "-lenient", login, bad)
	if code != 0 || !strings.Contains(out, `"frame.checksum.invalid":true`) {
		t.Errorf("lenient: exit %d, stdout %q", code, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-p", "nosuch", "00"},
		{"-p", "teltonika"},
		{"-p", "teltonika", "-transport", "sctp", "00"},
		{"-p", "teltonika", "-http", "GET / HTTP/1.1\r\n\r\n"},
		{"-nosuchflag"},
	} {
		if code, _, _ := runDecode(t, "", args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// HTTP protocols take raw requests: a request line (with or without its
// "HTTP/1.1"), headers and body, line ends written out or real.
func TestHTTPRequests(t *testing.T) {
	code, out, errOut := runDecode(t, "", "-p", "osmand",
		"-http", "GET /?id=12345&lat=48.8566&lon=2.3522&timestamp=1609459200&speed=15 HTTP/1.1",
		"-http", `POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 16\r\n\r\nid=7&lat=1&lon=2`,
		"-http", "/?id=8")
	want := `{"ident":"12345","timestamp":1609459200,"position.latitude":48.8566,"position.longitude":2.3522,"position.valid":true,"position.speed":27.78}` + "\n" +
		`{"ident":"7","position.latitude":1,"position.longitude":2,"position.valid":true}` + "\n" + `{"ident":"8"}` + "\n"
	if code != 0 || out != want || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runDecode(t, "", "-p", "osmand", "-http", "GET /?lat=1"); code != 1 || !strings.Contains(errOut, "no id") {
		t.Errorf("no id: exit %d, %q", code, errOut)
	}
	if code, _, _ := runDecode(t, "", "-p", "osmand", "00"); code != 2 {
		t.Errorf("hex for an HTTP protocol: exit %d", code)
	}
	code, out, _ = runDecode(t, "", "-list")
	if code != 0 || !strings.Contains(out, "\nosmand\n") || !strings.Contains(out, "\nteltonika\n") {
		t.Errorf("-list: %q", out)
	}
}

func TestFileInTrafficFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "capture.hex")
	rec := "# recorded by a channel\n2026-11-22T10:15:04.120Z > " + login + "\n2026-11-22T10:15:04.121Z < 01\n> " + codec8 + "\n"
	os.WriteFile(path, []byte(rec), 0o644)
	code, out, errOut := runDecode(t, "", "-p", "teltonika", "-replies", "-f", path)
	if code != 0 || strings.Count(out, "\n") != 1 || errOut != "reply: 01\nreply: 00000001\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runDecode(t, rec, "-p", "teltonika", "-f", "-")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("stdin: exit %d, stdout %q", code, out)
	}
}

func TestTextLines(t *testing.T) {
	code, out, errOut := runDecode(t, "", "-p", "wialon-ips", "-replies",
		"-text", "#L#2.0;imei;NA;A932", "-text", "#P#")
	// #AL#1 then #AP#, each with CR LF.
	if code != 0 || out != "" || errOut != "reply: 23414c23310d0a\nreply: 234150230d0a\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestBadHexExitsOne(t *testing.T) {
	code, out, errOut := runDecode(t, "", "-p", "teltonika", "zz")
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "decode: bad hex argument") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// In a file, the line is named; what came before it was decoded.
	rec := "> " + login + "\n> " + codec8 + "\n> 0g\n"
	code, out, errOut = runDecode(t, rec, "-p", "teltonika", "-f", "-")
	if code != 1 || strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "-: traffic: syntax error: line 3:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// A line over the reader's limit is reported with its line number.
func TestLongLineNamesItsLine(t *testing.T) {
	rec := "# capture\n> " + login + "\n> " + strings.Repeat("00", traffic.MaxLine) + "\n"
	code, out, errOut := runDecode(t, rec, "-p", "teltonika", "-f", "-")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "longer than") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("stderr %q", errOut)
	}
}

// Output appears while the input is still open: decode -f - can follow a
// live capture (tail -f capture.hex | decode -f -).
func TestFollowsAPipe(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := run([]string{"-p", "teltonika", "-f", "-"}, inR, outW, &errOut)
		outW.Close()
		done <- code
	}()
	lines := bufio.NewReader(outR)
	got := make(chan string, 4)
	go func() {
		for {
			s, err := lines.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			got <- s
		}
	}()
	io.WriteString(inW, "> "+login+"\n")
	for i := 0; i < 2; i++ {
		io.WriteString(inW, "> "+codec8+"\n")
		select {
		case s := <-got:
			if !strings.HasPrefix(s, `{"ident":"356307042441013"`) {
				t.Fatalf("output %q", s)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("record %d not printed while the input is open", i+1)
		}
	}
	inW.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, more := <-got; more {
		t.Fatal("output after EOF")
	}
}

// gt06Lines is a generated recording: the login, then the same location
// packet lines times, with times and direction marks as a channel records
// them. It never holds more than a thousand lines.
type gt06Lines struct {
	lines   int // location lines still to give
	n       int // bytes given
	started bool
	pending []byte
	peak    *uint64 // when set, the largest heap seen between reads
}

const (
	gt06Login    = "2026-11-22T10:15:04.120Z > 78780d01012345678901234500018cdd0d0a\n2026-11-22T10:15:04.121Z < 787805010001d9dc0d0a\n"
	gt06Location = "2026-11-22T10:15:09.530Z > 78781f120b081d112e10cf027ac7eb0c46584900148f01cc00287d001fb8000380810d0a\n"
)

func (g *gt06Lines) Read(p []byte) (int, error) {
	if len(g.pending) == 0 {
		switch {
		case !g.started:
			g.started = true
			g.pending = []byte(gt06Login)
		case g.lines == 0:
			return 0, io.EOF
		default:
			k := min(g.lines, 1000)
			g.lines -= k
			g.pending = []byte(strings.Repeat(gt06Location, k))
		}
		if g.peak != nil { // sample the heap every ~100 KB of input
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			*g.peak = max(*g.peak, ms.HeapAlloc)
		}
	}
	k := copy(p, g.pending)
	g.pending = g.pending[k:]
	g.n += k
	return k, nil
}

// The memory decode holds does not grow with its input: 16 MB of
// recording (the old whole-input reader held about 100 times that) are
// decoded with the heap staying within a few MB.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 16 MB")
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	in := &gt06Lines{lines: (16 << 20) / len(gt06Location), peak: &peak}
	var errOut bytes.Buffer
	if code := run([]string{"-p", "gt06", "-f", "-"}, in, io.Discard, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	grew := int64(peak) - int64(base.HeapAlloc)
	t.Logf("input %d MB, heap grew at most %.1f MB", in.n>>20, float64(grew)/(1<<20))
	if grew > 8<<20 {
		t.Fatalf("heap grew by %d bytes decoding %d bytes: memory is not bounded", grew, in.n)
	}
}

// BenchmarkStream decodes a recording line by line: bytes per second and
// the allocations per location line (the JSON text of each message is the
// only output).
func BenchmarkStream(b *testing.B) {
	in := &gt06Lines{lines: b.N}
	var errOut bytes.Buffer
	b.SetBytes(int64(len(gt06Location)))
	b.ReportAllocs()
	if code := run([]string{"-p", "gt06", "-f", "-"}, in, io.Discard, &errOut); code != 0 {
		b.Fatalf("exit %d: %s", code, errOut.String())
	}
}
