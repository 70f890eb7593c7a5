package osmand

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// update is protocoltest's -update flag: rewrite the golden messages.json.
func update() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestGolden runs every case in testdata: a raw HTTP request
// (request.http), the provenance and the values the source states in the
// header (Source, Expect, Want lines as protocoltest reads them), and the
// golden messages.json; every prefix of the request must decode or fail
// cleanly. Every OsmAnd capture of the shared vectors is a case.
func TestGolden(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no cases")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a := protocoltest.ParseArchive(data)
			req, ok := a.Get("request.http")
			if !ok {
				t.Fatal("no request.http")
			}
			var expect, source string
			lenient := false
			var wants [][2]string
			for _, line := range strings.Split(string(a.Comment), "\n") {
				k, v, _ := strings.Cut(line, ":")
				v = strings.TrimSpace(v)
				switch k {
				case "Source":
					source = v
				case "Expect":
					expect = v
				case "Lenient":
					lenient, _ = strconv.ParseBool(v)
				case "Want":
					n, val, _ := strings.Cut(v, "=")
					wants = append(wants, [2]string{n, val})
				}
			}
			if source == "" {
				t.Fatal("no Source line")
			}
			msgs, err := (&Codec{Lenient: lenient}).ReadRequest(bytes.NewReader(req))
			if expect == "error" {
				if err == nil {
					t.Fatal("decoded without error; the case expects one")
				}
				if e, ok := a.Get("error"); ok && !strings.Contains(err.Error(), strings.TrimSpace(string(e))) {
					t.Errorf("error %q does not contain %q", err, e)
				}
				if err := protocoltest.CheckError(err); err != nil {
					t.Error(err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			hasPos := false
			for i := range msgs {
				if err := protocoltest.CheckMessage(&msgs[i]); err != nil {
					t.Errorf("message %d: %v", i, err)
				}
				hasPos = hasPos || protocoltest.HasPosition(&msgs[i])
			}
			if expect == "position" && !hasPos || expect == "no-position" && hasPos {
				t.Errorf("position %v; the case expects %s", hasPos, expect)
			}
			for _, w := range wants {
				want, err := protocol.ParseValueJSON([]byte(w[1]))
				if err != nil {
					t.Fatalf("Want %s: %v", w[1], err)
				}
				found := false
				for i := range msgs {
					if v, ok := msgs[i].Lookup(w[0]); ok && v.Equal(want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no message has %s = %s", w[0], w[1])
				}
			}
			// Every prefix of the request decodes or fails cleanly.
			for k := 0; k < len(req); k++ {
				if _, err := (&Codec{Lenient: lenient}).ReadRequest(bytes.NewReader(req[:k])); protocoltest.CheckError(err) != nil {
					t.Fatalf("request cut to %d bytes: %v", k, err)
				}
			}
			got := protocoltest.FormatMessages(msgs)
			if update() {
				a.Set("messages.json", got)
				if err := os.WriteFile(path, a.Format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := a.Get("messages.json")
			if !ok {
				t.Fatal("no messages.json golden (run with -update)")
			}
			wm, err := protocol.UnmarshalMessages(want)
			if err != nil {
				t.Fatal(err)
			}
			if w := protocoltest.FormatMessages(wm); !bytes.Equal(got, w) {
				t.Errorf("messages differ\ngot:\n%s\nwant:\n%s", got, w)
			}
		})
	}
}
