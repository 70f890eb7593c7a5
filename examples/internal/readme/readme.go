// Package readme reads the shell examples of the repository's README.md,
// so that each example program's tests can run the command lines the README
// shows and the README stays true.
package readme

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Command is one command line of a ```sh block that runs an example
// program: "go run ./examples/NAME ARGS", optionally fed by
// "echo 'TEXT' |".
type Command struct {
	Line  int      // 1-based line in the README
	Text  string   // the command as written, without a trailing comment
	Args  []string // the program's arguments, unquoted as a shell would
	Stdin string   // what echo pipes in (TEXT and a newline), or ""
}

// Commands returns the command lines of path's ```sh blocks that run
// ./examples/program. Lines that run anything else are left out; a line
// the simple shell syntax below cannot read is an error.
//
// The syntax is what the README uses: words, 'single' and "double" quotes
// (with \" and \\ inside double quotes), a trailing # comment, and one
// "echo WORD |" in front.
func Commands(path, program string) ([]Command, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Command
	inSh := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			inSh = !inSh && (trimmed == "```sh" || trimmed == "```shell" || trimmed == "```bash")
			continue
		}
		if !inSh || trimmed == "" || !strings.Contains(trimmed, "go run ./examples/") {
			continue // not an example program's command line: not ours to read
		}
		words, text, err := split(trimmed)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		c := Command{Line: n, Text: text}
		if i := indexOf(words, "|"); i >= 0 {
			if i != 2 || words[0] != "echo" {
				continue // a pipe other than echo WORD |: not ours to run
			}
			c.Stdin = words[1] + "\n"
			words = words[3:]
		}
		if len(words) < 2 || words[0] != "go" || words[1] != "run" || len(words) < 3 || words[2] != "./examples/"+program {
			continue
		}
		c.Args = words[3:]
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if x == w {
			return i
		}
	}
	return -1
}

// split cuts a command line into words as a POSIX shell would for the
// syntax Commands documents. It returns the line without its comment.
func split(line string) (words []string, text string, err error) {
	var cur strings.Builder
	inWord := false
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			end = i
			i = len(line)
		case c == '|' && !inWord:
			words = append(words, "|")
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, "", fmt.Errorf("unterminated ' quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += 1 + j
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
				} else if line[i] == '$' || line[i] == '`' {
					return nil, "", fmt.Errorf("expansion inside double quotes is not supported")
				}
				cur.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, "", fmt.Errorf("unterminated \" quote")
			}
			inWord = true
		case c == '\\' || c == '$' || c == '`' || c == '<' || c == '>' || c == ';' || c == '&' || c == '*' || c == '?':
			return nil, "", fmt.Errorf("unsupported shell syntax %q at column %d", c, i+1)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, strings.TrimSpace(line[:end]), nil
}

// ProtocolNames returns the first column of the "Supported protocols"
// table of path, without the backquotes, in table order.
func ProtocolNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			in = strings.TrimSpace(line) == "## Supported protocols"
		case in && strings.HasPrefix(line, "| `"):
			cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
			names = append(names, strings.Trim(cell, "`"))
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no \"Supported protocols\" table", path)
	}
	return names, nil
}
