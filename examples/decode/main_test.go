package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{"-p", "teltonika", "zz"},
		{"-p", "teltonika", "-http", "GET / HTTP/1.1\r\n\r\n"},
		{"-nosuchflag"},
	} {
		if code, _, _ := runDecode(t, "", args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
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
