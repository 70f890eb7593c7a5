package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/config"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
)

var update = flag.Bool("update", false, "rewrite the README's generated tables")

// The README's tables of options and default channels are made from the
// same lists as -h and the defaults: a changed option or port fails here
// until the README says it (-update rewrites them).
func TestREADMETables(t *testing.T) {
	const path = "../../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for name, table := range map[string]string{
		"options":  config.Markdown(),
		"channels": config.ChannelsMarkdown(append(codecs.Names(), codecs.HTTPNames()...)),
	} {
		open, end := "<!-- "+name+":", "<!-- /"+name+" -->"
		i := strings.Index(readme, open)
		j := strings.Index(readme, end)
		if i < 0 || j < i {
			t.Fatalf("README.md has no %q … %q markers", open, end)
		}
		body := i + strings.Index(readme[i:], "-->\n") + 4
		if readme[body:j] == table {
			continue
		}
		if *update {
			readme = readme[:body] + table + readme[j:]
			continue
		}
		t.Errorf("README.md's %s table is not current (go test ./examples/gateway -run TestREADMETables -update):\n%s", name, table)
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
