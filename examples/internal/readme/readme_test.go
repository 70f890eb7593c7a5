package readme

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCommands(t *testing.T) {
	md := "text\n```sh\n" +
		"go run ./examples/decode -p x 'a b' \"c \\\"d\\\"\"   # comment\n" +
		"echo '{\"a\":1}' | go run ./examples/expr -e 'a>0'\n" +
		"go test ./...\n" +
		"go run ./examples/decode -list\n" +
		"```\n```go\ngo run ./examples/decode -not-shell\n```\n"
	path := filepath.Join(t.TempDir(), "README.md")
	os.WriteFile(path, []byte(md), 0o644)
	got, err := Commands(path, "decode")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got[0].Args, []string{"-p", "x", "a b", `c "d"`}) || got[0].Line != 3 ||
		got[0].Text != `go run ./examples/decode -p x 'a b' "c \"d\""` || !slices.Equal(got[1].Args, []string{"-list"}) {
		t.Fatalf("%+v", got)
	}
	got, err = Commands(path, "expr")
	if err != nil || len(got) != 1 || got[0].Stdin != "{\"a\":1}\n" || !slices.Equal(got[0].Args, []string{"-e", "a>0"}) {
		t.Fatalf("%+v %v", got, err)
	}
	os.WriteFile(path, []byte("```sh\ngo run ./examples/decode $HOME\n```\n"), 0o644)
	if _, err := Commands(path, "decode"); err == nil {
		t.Fatal("a variable was accepted")
	}
}

func TestProtocolNames(t *testing.T) {
	md := "# x\n## Supported protocols\n\n| name | a |\n|---|---|\n| `one` | x |\n| `two` | y |\n\n## Next\n| `no` | z |\n"
	path := filepath.Join(t.TempDir(), "README.md")
	os.WriteFile(path, []byte(md), 0o644)
	got, err := ProtocolNames(path)
	if err != nil || !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("%v %v", got, err)
	}
	os.WriteFile(path, []byte("# none\n"), 0o644)
	if _, err := ProtocolNames(path); err == nil {
		t.Fatal("no table, no error")
	}
}
