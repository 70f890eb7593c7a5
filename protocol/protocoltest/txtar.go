package protocoltest

import (
	"bytes"
	"strings"
)

// Archive is a txtar archive: a free-text comment, then files introduced by
// "-- name --" lines. It is the format of golden cases.
type Archive struct {
	Comment []byte
	Files   []File
}

// File is one file of an [Archive].
type File struct {
	Name string
	Data []byte
}

// ParseArchive parses txtar text. It never fails: text before the first
// marker is the comment.
func ParseArchive(data []byte) *Archive {
	a := &Archive{}
	var cur *File
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		if name, ok := marker(line); ok {
			a.Files = append(a.Files, File{Name: name})
			cur = &a.Files[len(a.Files)-1]
			continue
		}
		if cur == nil {
			a.Comment = append(append(a.Comment, line...), '\n')
		} else {
			cur.Data = append(append(cur.Data, line...), '\n')
		}
	}
	return a
}

func marker(line []byte) (string, bool) {
	s := strings.TrimRight(string(line), "\r")
	if !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") || len(s) < 7 {
		return "", false
	}
	return strings.TrimSpace(s[3 : len(s)-3]), true
}

// Format returns the archive as txtar text.
func (a *Archive) Format() []byte {
	var b bytes.Buffer
	b.Write(a.Comment)
	for _, f := range a.Files {
		b.WriteString("-- " + f.Name + " --\n")
		b.Write(f.Data)
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Get returns a file's content.
func (a *Archive) Get(name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Set replaces a file's content, adding the file if it is missing.
func (a *Archive) Set(name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, File{Name: name, Data: data})
}
