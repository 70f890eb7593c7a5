package config_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gnssgate/gnssgate/examples/gateway/config"
)

// Flags win over the file, and -channel flags replace the file's list.
func ExampleParse() {
	dir, _ := os.MkdirTemp("", "gateway")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "gateway.yaml")
	os.WriteFile(file, []byte("data: /var/lib/gnssgate\nhttp: \":9080\"\nchannel: [\"teltonika=:5027\"]\n"), 0o600)

	c, err := config.Parse([]string{"-config", file, "-http", ":8080", "-channel", "gt06=:5023"}, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Data, c.HTTP, c.Channel, c.IsSet("mqtt"))

	_, err = config.Parse([]string{"-log-level", "verbose"}, io.Discard)
	fmt.Println(err)
	// Output:
	// /var/lib/gnssgate :8080 [gt06=:5023] false
	// -log-level: want debug, info, warn or error, not "verbose"
}

func ExampleParseChannel() {
	for _, s := range []string{"teltonika=:5027", "teltonika=udp://:5027", "teltonika"} {
		f, err := config.ParseChannel(s)
		fmt.Printf("%+v %v\n", f, err)
	}
	// Output:
	// {Protocol:teltonika Network:tcp Addr::5027} <nil>
	// {Protocol:teltonika Network:udp Addr::5027} <nil>
	// {Protocol: Network: Addr:} -channel "teltonika": want PROTOCOL=ADDR, e.g. teltonika=:5027 or teltonika=udp://:5027
}
