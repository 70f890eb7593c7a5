package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/examples/internal/readme"
)

// readmeOutput is what each expr command of README.md prints. Every README
// command must be listed here and every entry must be in the README.
var readmeOutput = map[string]string{
	`echo '{"position.speed":72,"begin":1490347944}' | go run ./examples/expr -e 'position.speed>60 && hour(begin)>8' -tz Europe/Vilnius`:                                   "true\n",
	`echo '[{"id":1,"configuration":{"ident":"1234567"}}]' | go run ./examples/expr -selector 'configuration.ident=1234*' -fields id -limit 10`:                             `{"result":[{"id":1}],"pagination":{"limit":10,"offset":0,"count":1}}` + "\n",
	`go run ./examples/expr -topic '$filter/payload=position.speed%3E60/flespi/message/gw/devices/+' -publish flespi/message/gw/devices/7 -payload '{"position.speed":72}'`: "true\n",
}

// TestREADME runs each expr command line of the README's ```sh blocks and
// checks its output.
func TestREADME(t *testing.T) {
	cmds, err := readme.Commands("../../README.md", "expr")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		want, ok := readmeOutput[c.Text]
		if !ok {
			t.Errorf("README.md:%d: %s\nhas no expected output in readmeOutput", c.Line, c.Text)
			continue
		}
		seen[c.Text] = true
		var out, errOut bytes.Buffer
		code := run(c.Args, strings.NewReader(c.Stdin), &out, &errOut)
		if code != 0 || out.String() != want {
			t.Errorf("README.md:%d: %s\nexit %d, stdout %q (want %q), stderr %q", c.Line, c.Text, code, out.String(), want, errOut.String())
		}
	}
	for text := range readmeOutput {
		if !seen[text] {
			t.Errorf("no longer in README.md: %s", text)
		}
	}
}
