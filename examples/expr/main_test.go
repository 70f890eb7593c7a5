package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		out   string
		err   string // substring of stderr
	}{
		{
			name:  "expression over lines",
			args:  []string{"-e", `position.speed > 60 && device.name = "car*"`},
			stdin: "{\"position.speed\":72,\"device.name\":\"car-1\"}\n\n{\"position.speed\":50,\"device.name\":\"car-1\"}\n{\"x\":1}\n[1]\n",
			out: "true\nfalse\n" +
				`{"error":{"reason":"parameter 'position.speed' not found","column":1}}` + "\n" +
				`{"error":{"reason":"input is not a JSON object","column":0}}` + "\n",
		},
		{
			name:  "values of every kind",
			args:  []string{"-e", `if(n > 1, s, json(o, 'a'))`},
			stdin: "{\"n\":2,\"s\":\"x\",\"o\":{\"a\":[1]}}\n{\"n\":0,\"s\":\"x\",\"o\":{\"a\":[1]}}\n{\"n\":0,\"s\":\"x\",\"o\":{}}\n",
			out:   "\"x\"\n[1]\nnull\n",
		},
		{
			name:  "time zone and clock",
			args:  []string{"-e", "hour(ts) * 100 + minute(now())", "-tz", "Europe/Vilnius", "-now", "1700000000"},
			stdin: `{"ts":1490347944}` + "\n",
			out:   "1113\n", // 11:32 EET (DST starts 26 March), minute 13 of now
		},
		{
			name:  "evaluation error column",
			args:  []string{"-e", "a / b"},
			stdin: `{"a":1,"b":0}` + "\n",
			out:   `{"error":{"reason":"division by zero","column":3}}` + "\n",
		},
		{
			name: "syntax error",
			args: []string{"-e", "speed > (1 + 2))"},
			code: 1,
			out:  `{"error":{"reason":"unexpected ')'","column":16}}` + "\n",
			err:  "|                ^",
		},
		{
			name: "strict refuses =",
			args: []string{"-strict", "-e", "a = 1"},
			code: 1,
			out:  `{"error":{"reason":"unexpected '=' (use '==')","column":3}}` + "\n",
		},
		{
			name:  "selector query",
			args:  []string{"-selector", "configuration.ident=12*,{id > 1}", "-fields", "id,configuration.ident", "-limit", "1", "-offset", "1"},
			stdin: `[{"id":1,"configuration":{"ident":"123"}},{"id":2,"configuration":{"ident":"124"}},{"id":3,"configuration":{"ident":"125","x":1}},{"id":4,"configuration":{"ident":"999"}}]`,
			out:   `{"result":[{"id":3,"configuration":{"ident":"125"}}],"pagination":{"limit":1,"offset":1,"count":2}}` + "\n",
		},
		{
			name:  "selector all",
			args:  []string{"-selector", "all"},
			stdin: `[]`,
			out:   `{"result":[],"pagination":{"limit":0,"offset":0,"count":0}}` + "\n",
		},
		{
			name:  "selector bad input",
			args:  []string{"-selector", "all"},
			stdin: `{"id":1}`,
			code:  1,
			err:   "JSON array",
		},
		{
			name: "bad selector",
			args: []string{"-selector", "1,,2"},
			code: 1,
			err:  "empty selector term (1:3)",
		},
		{
			name: "topic reaches",
			args: []string{"-topic", "$filter/payload=position.speed%3E60/flespi/message/gw/devices/+", "-publish", "flespi/message/gw/devices/7", "-payload", `{"position.speed":72}`},
			out:  "true\n",
		},
		{
			name: "topic filtered out by payload",
			args: []string{"-topic", "$filter/payload=position.speed%3E60/flespi/message/gw/devices/+", "-publish", "flespi/message/gw/devices/7", "-payload", `{"position.speed":50}`},
			out:  "false\n",
		},
		{
			name: "topic does not match",
			args: []string{"-topic", "$share/g/$filter/cid=5/a/+", "-publish", "b/1", "-cid", "5"},
			out:  "false\n",
		},
		{
			name: "message expression with cid and comma list",
			args: []string{"-topic", "$filter/message=cid%3D%3D123%26%26tonumber(payload)%3E10/some/1,2", "-publish", "some/2", "-payload", "11", "-cid", "123"},
			out:  "true\n",
		},
		{
			name: "modified_since uses -timestamp",
			args: []string{"-topic", "$filter/modified_since>1700000000/t", "-publish", "t", "-timestamp", "1600000000"},
			out:  "false\n",
		},
		{
			name: "modified_since defaults to -now",
			args: []string{"-topic", "$filter/modified_since>1700000000/t", "-publish", "t", "-now", "1700000001"},
			out:  "true\n",
		},
		{name: "bad topic", args: []string{"-topic", "a/#/b", "-publish", "a"}, code: 1, err: "'#' must be the last level"},
		{name: "publish with wildcard", args: []string{"-topic", "a/+", "-publish", "a/+"}, code: 2, err: "without wildcards"},
		{name: "no mode", args: nil, code: 2, err: "exactly one of"},
		{name: "two modes", args: []string{"-e", "1", "-selector", "all"}, code: 2, err: "exactly one of"},
		{name: "bad tz", args: []string{"-e", "1", "-tz", "Mars/Olympus"}, code: 2, err: "bad -tz"},
		{name: "bad now", args: []string{"-e", "1", "-now", "yesterday"}, code: 2, err: "bad -now"},
		{name: "bad flag", args: []string{"-nope"}, code: 2, err: "not defined"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(c.args, strings.NewReader(c.stdin), &out, &errb)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, c.code, errb.String())
			}
			if c.out != "" && out.String() != c.out {
				t.Errorf("stdout\n%s\nwant\n%s", out.String(), c.out)
			}
			if c.err != "" && !strings.Contains(errb.String(), c.err) {
				t.Errorf("stderr %q does not contain %q", errb.String(), c.err)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	big := `{"pad":"` + strings.Repeat("x", 200<<10) + `","v":7}` + "\n"
	var out, errb bytes.Buffer
	if code := run([]string{"-e", "v"}, strings.NewReader(big), &out, &errb); code != 0 || out.String() != "7\n" {
		t.Fatalf("exit %d, out %q, err %q", code, out.String(), errb.String())
	}
}
