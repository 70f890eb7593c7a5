package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/examples/internal/readme"
)

// readmeExpect is what each decode command of README.md must print. Every
// README command must be listed here and every entry must be in the
// README: a changed example fails until both agree.
var readmeExpect = map[string]func(t *testing.T, stdout, stderr string){
	"go run ./examples/decode -p teltonika -replies 000f333536333037303432343431303133 000000000000003608010000016b40d8ea30010000000000000000000000000000000105021503010101425e0f01f10000601a014e0000000000000000010000c7cf": func(t *testing.T, stdout, stderr string) {
		wantLines(t, stdout, 1, `{"ident":"356307042441013","timestamp":1560161086,`)
		wantEqual(t, "stderr", stderr, "reply: 01\nreply: 00000001\n")
	},
	"go run ./examples/decode -list": func(t *testing.T, stdout, stderr string) {
		names := strings.Fields(stdout)
		for _, n := range []string{"gt06", "teltonika", "wialon-ips"} {
			if !slices.Contains(names, n) {
				t.Errorf("-list lacks %s: %q", n, stdout)
			}
		}
	},
	"go run ./examples/decode -p gt06 -replies -f examples/decode/testdata/gt06-session.hex": func(t *testing.T, stdout, stderr string) {
		wantLines(t, stdout, 3, `{"ident":"123456789012345",`)
		if !strings.Contains(stdout, `"position.latitude":23.111668333333334,"position.longitude":114.409285`) {
			t.Errorf("no position in %s", stdout)
		}
		// The recording's own '<' lines: the login and heartbeat ACKs.
		wantEqual(t, "stderr", stderr, "reply: 787805010001d9dc0d0a\nreply: 787805130015bf540d0a\n")
	},
	"go run ./examples/decode -p teltonika -transport udp 003dcafe0105000f33353230393330383634303336353508010000016b4f815b30010000000000000000000000000000000103021503010101425dbc000001": func(t *testing.T, stdout, stderr string) {
		wantLines(t, stdout, 1, `{"ident":"352093086403655",`)
		wantEqual(t, "stderr", stderr, "")
	},
	"go run ./examples/decode -p wialon-ips -replies -text '#L#2.0;356307042441013;NA;CF2A'": func(t *testing.T, stdout, stderr string) {
		// #AL#1: login accepted (a wrong CRC would be #AL#10).
		wantEqual(t, "stderr", stderr, "reply: 23414c23310d0a\n")
	},
}

// TestREADME runs each decode command line of the README's ```sh blocks,
// from the repository root as a reader would, and checks what it prints.
func TestREADME(t *testing.T) {
	cmds, err := readme.Commands("../../README.md", "decode")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("../..")
	seen := map[string]bool{}
	for _, c := range cmds {
		check, ok := readmeExpect[c.Text]
		if !ok {
			t.Errorf("README.md:%d: %s\nhas no expectation in readmeExpect", c.Line, c.Text)
			continue
		}
		seen[c.Text] = true
		var out, errOut bytes.Buffer
		if code := run(c.Args, strings.NewReader(c.Stdin), &out, &errOut); code != 0 {
			t.Errorf("README.md:%d: %s\nexit %d: %s", c.Line, c.Text, code, errOut.String())
			continue
		}
		t.Run(fmt.Sprintf("README.md:%d", c.Line), func(t *testing.T) { check(t, out.String(), errOut.String()) })
	}
	for text := range readmeExpect {
		if !seen[text] {
			t.Errorf("no longer in README.md: %s", text)
		}
	}
}

func wantLines(t *testing.T, out string, n int, prefix string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" || len(lines) != n {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), n, out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			t.Errorf("line %q does not start %q", l, prefix)
		}
	}
}

func wantEqual(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s %q, want %q", what, got, want)
	}
}

// The README's "Supported protocols" table has a row for every codec of
// decode -list and none for a codec that is not there.
func TestREADMEProtocolTable(t *testing.T) {
	rows, err := readme.ProtocolNames("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(slices.Values(rows)), listNames()) {
		t.Fatalf("README.md protocol table %v, decode -list %v", rows, listNames())
	}
}
