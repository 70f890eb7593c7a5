package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseFile feeds operator files to Parse: a malformed file gets an
// error naming it, never a panic; a file Parse accepts has declared
// objects that Objects converts or refuses with an error.
func FuzzParseFile(f *testing.F) {
	for _, seed := range []string{
		"",
		"data: /var/lib/gnssgate\nhttp: \":8080\"\nchannel: [\"teltonika=:5027\", \"teltonika=udp://:5027\"]\n",
		"log-max-age: 24h\nmax-connections: 100\nstore-replicas: 3\nlog-level: debug\nlog-format: json\n",
		"devices:\n  - name: truck 1\n    configuration: {ident: \"356307042441013\"}\n",
		"streams:\n  - name: crm\n    protocol_name: http\n    configuration: {uri: \"https://crm.example.com/in\"}\n    channels: [1]\n",
		"channels:\n  - name: a\n    protocol: teltonika\n    tcp: \":5027\"\n    auto_create_devices: false\n",
		"tokens:\n  - key: k\n    acl: {}\n",
		"devices:\n  - {1: x, configuration: {ident: [a]}}\n",
		"a: &a [*a]\n",
		"data: [\n",
		"- list\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Parse([]string{"-config", file}, &bytes.Buffer{})
		if err != nil {
			if c != nil {
				t.Fatalf("a config came back with error %v", err)
			}
			return
		}
		c.Objects()
	})
}
