package rest

import (
	"strings"
	"testing"
)

// The header line and the file name of a recording come from the data
// directory, where anything may have been put: they parse or are ignored,
// never panic.
func FuzzRecordingHeader(f *testing.F) {
	f.Add(`# gnssgate raw traffic: protocol teltonika, transport tcp, peer 127.0.0.1:5555, ident "356307042441013", connected 2026-11-22T10:15:04.12Z`)
	f.Add(`# gnssgate raw traffic: protocol gt06, transport udp, peer [::1]:9, ident "a, \"b\"", connected x`)
	f.Add(`# gnssgate raw traffic: ident "unterminated`)
	f.Add(`# gnssgate raw traffic:`)
	f.Add(`000f3335`)
	f.Fuzz(func(t *testing.T, line string) {
		h := parseHeader(line)
		if h.text != "" && !strings.Contains(line, "gnssgate raw traffic") {
			t.Fatalf("header %+v from %q", h, line)
		}
	})
}

func FuzzRecordingName(f *testing.F) {
	f.Add("20261122T101504.120Z_17.hex")
	f.Add("20261122T101504.120Z_.hex")
	f.Add("_1.hex")
	f.Add("../20261122T101504.120Z_17.hex")
	f.Fuzz(func(t *testing.T, name string) {
		r, ok := parseRecordingName(name)
		if ok && (r.Name != name || !strings.HasSuffix(name, ".hex")) {
			t.Fatalf("%q parsed as %+v", name, r)
		}
		if ok && !validName(name) && !strings.ContainsAny(name, `/\`) {
			// A parsed name is a plain file name.
			t.Fatalf("%q parsed but is not a valid name", name)
		}
	})
}
