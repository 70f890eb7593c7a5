package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/config"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
)

// The README's tables of options and default channels are made from the
// same lists as -h and the defaults: a changed option or port fails here
// until the README says it.
func TestREADMETables(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, table := range map[string]string{
		"options":          config.Markdown(),
		"default channels": config.ChannelsMarkdown(codecs.Names()),
	} {
		if !strings.Contains(string(readme), table) {
			t.Errorf("README.md lacks the current %s table:\n%s", name, table)
		}
	}
}
