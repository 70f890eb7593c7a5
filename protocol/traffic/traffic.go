package traffic

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Direction says who sent a chunk.
type Direction uint8

const (
	In  Direction = iota // from the device to the server
	Out                  // from the server to the device
)

func (d Direction) String() string {
	if d == Out {
		return "<"
	}
	return ">"
}

// Chunk is one read or datagram.
type Chunk struct {
	Dir  Direction
	Time time.Time // zero when the line has none
	Data []byte
	Line int // 1-based line number in the input
}

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("traffic: syntax error")

// MaxLine bounds one line of input (a chunk of up to 512 KiB).
const MaxLine = 1 << 20

// Parse reads every chunk from r.
func Parse(r io.Reader) ([]Chunk, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	var chunks []Chunk
	for n := 1; sc.Scan(); n++ {
		c, ok, err := parseLine(sc.Text(), n)
		if err != nil {
			return nil, err
		}
		if ok {
			chunks = append(chunks, c)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return chunks, nil
}

func parseLine(line string, n int) (Chunk, bool, error) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return Chunk{}, false, nil
	}
	c := Chunk{Line: n}
	fields := strings.Fields(line)
	if len(fields) > 1 {
		if t, err := time.Parse(time.RFC3339Nano, fields[0]); err == nil {
			c.Time = t
			fields = fields[1:]
		}
	}
	switch fields[0] {
	case ">":
		fields = fields[1:]
	case "<":
		c.Dir = Out
		fields = fields[1:]
	}
	data, err := hex.DecodeString(strings.Join(fields, ""))
	if err != nil {
		return Chunk{}, false, fmt.Errorf("%w: line %d: %v", ErrSyntax, n, err)
	}
	c.Data = data
	return c, true, nil
}

// ParseHex decodes hex text in which white space and '#' comments are
// ignored, as in a golden file's frame.hex or a command-line argument.
// Direction marks are not allowed: use [Parse] for a recording.
func ParseHex(text string) ([]byte, error) {
	var b strings.Builder
	for n, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, f := range strings.Fields(line) {
			if f == ">" || f == "<" {
				return nil, fmt.Errorf("%w: line %d: direction mark in plain hex", ErrSyntax, n+1)
			}
			b.WriteString(f)
		}
	}
	data, err := hex.DecodeString(b.String())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return data, nil
}

// Inbound concatenates the device's chunks: the byte stream a TCP session
// decodes.
func Inbound(chunks []Chunk) []byte {
	var b []byte
	for _, c := range chunks {
		if c.Dir == In {
			b = append(b, c.Data...)
		}
	}
	return b
}

// Writer records chunks. It is safe for concurrent use: each chunk is written
// as one line with one Write call.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Comment writes a comment line. Line breaks in text are replaced by spaces.
func (w *Writer) Comment(text string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf[:0], "# "...)
	w.buf = append(w.buf, strings.NewReplacer("\n", " ", "\r", " ").Replace(text)...)
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}

// Write records one chunk; a zero t writes no time.
func (w *Writer) Write(dir Direction, t time.Time, data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = w.buf[:0]
	if !t.IsZero() {
		w.buf = t.UTC().AppendFormat(w.buf, "2006-01-02T15:04:05.000Z07:00")
		w.buf = append(w.buf, ' ')
	}
	w.buf = append(w.buf, dir.String()...)
	w.buf = append(w.buf, ' ')
	w.buf = hex.AppendEncode(w.buf, data)
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}
