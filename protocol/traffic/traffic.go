package traffic

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Direction says who sent a chunk.
type Direction uint8

const (
	In  Direction = iota // from the device to the server
	Out                  // from the server to the device
	// ToUpstream: the server forwarded the device's bytes to an upstream
	// server (a proxy channel); Chunk.Upstream says which.
	ToUpstream
	// FromUpstream: an upstream server sent these bytes to the server.
	FromUpstream
)

func (d Direction) String() string {
	switch d {
	case Out:
		return "<"
	case ToUpstream:
		return "u>"
	case FromUpstream:
		return "u<"
	}
	return ">"
}

// Chunk is one read or datagram.
type Chunk struct {
	Dir  Direction
	Time time.Time // zero when the line has none
	Data []byte
	Line int // 1-based line number in the input
	// Upstream numbers the upstream server of a ToUpstream or FromUpstream
	// chunk, from 1; 0 otherwise.
	Upstream int
}

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("traffic: syntax error")

// ErrLineTooLong is wrapped by the error for a line longer than [MaxLine]
// (it wraps [ErrSyntax] too).
var ErrLineTooLong = fmt.Errorf("%w: line longer than %d bytes", ErrSyntax, MaxLine)

// MaxLine bounds one line of input (a chunk of up to 512 KiB).
const MaxLine = 1 << 20

// Parse reads every chunk from r. It holds them all; to go through a large
// or endless input (a live capture) one chunk at a time, use [Reader].
func Parse(r io.Reader) ([]Chunk, error) {
	rd := NewReader(r)
	var chunks []Chunk
	for {
		c, err := rd.Next()
		if err == io.EOF {
			return chunks, nil
		}
		if err != nil {
			return nil, err
		}
		c.Data = append([]byte(nil), c.Data...)
		chunks = append(chunks, c)
	}
}

// Reader reads chunks one at a time, as they arrive: it holds one line
// (at most [MaxLine] bytes) and returns each chunk as soon as its line is
// complete, so it can follow a capture that is still being written.
type Reader struct {
	br   *bufio.Reader
	line int    // lines read so far
	long []byte // a line longer than br's buffer, put together
	data []byte // the decoded chunk, reused
	err  error  // sticky
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Line returns the number of the last line read (1-based).
func (r *Reader) Line() int { return r.line }

// Next returns the next chunk, skipping blank and comment lines, or io.EOF
// at the end of the input. The chunk's Data is valid until the next call.
// A syntax error (wrapping [ErrSyntax]) names its line; a line longer than
// [MaxLine] is [ErrLineTooLong]. After an error Next returns it again.
func (r *Reader) Next() (Chunk, error) {
	for r.err == nil {
		line, err := r.readLine()
		if err != nil {
			r.err = err
			break
		}
		c, ok, err := r.parse(line)
		if err != nil {
			r.err = err
			break
		}
		if ok {
			return c, nil
		}
	}
	return Chunk{}, r.err
}

// readLine returns the next line without its end, or io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Longer than the buffer: put it together, up to the limit.
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(r.long) > MaxLine {
				return nil, fmt.Errorf("%w: line %d", ErrLineTooLong, r.line+1)
			}
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(line) == 0 {
		return nil, io.EOF
	}
	r.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if len(line) > MaxLine {
		return nil, fmt.Errorf("%w: line %d", ErrLineTooLong, r.line)
	}
	return line, nil
}

// parse reads one line: [time] [> or <] hex, with '#' comments.
func (r *Reader) parse(line []byte) (Chunk, bool, error) {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Chunk{}, false, nil
	}
	c := Chunk{Line: r.line}
	first, rest := cutField(line)
	if len(rest) > 0 && len(first) >= len("2006-01-02T15:04:05Z") && first[4] == '-' {
		if t, err := time.Parse(time.RFC3339Nano, string(first)); err == nil {
			c.Time = t
			line = rest
			first, rest = cutField(line)
		}
	}
	switch string(first) {
	case ">":
		line = rest
	case "<":
		c.Dir = Out
		line = rest
	default:
		if dir, n, ok := upstreamMark(first); ok {
			c.Dir, c.Upstream = dir, n
			line = rest
		}
	}
	data, err := appendHex(r.data[:0], line)
	r.data = data
	if err != nil {
		return Chunk{}, false, fmt.Errorf("%w: line %d: %v", ErrSyntax, r.line, err)
	}
	c.Data = data
	return c, true, nil
}

// upstreamMark parses "u1>" or "u1<" (upstream 1; "u>" and "u<" mean 1).
func upstreamMark(f []byte) (Direction, int, bool) {
	if len(f) < 2 || f[0] != 'u' {
		return 0, 0, false
	}
	dir := ToUpstream
	switch f[len(f)-1] {
	case '>':
	case '<':
		dir = FromUpstream
	default:
		return 0, 0, false
	}
	digits := f[1 : len(f)-1]
	if len(digits) == 0 {
		return dir, 1, true
	}
	if len(digits) > 4 {
		return 0, 0, false
	}
	n := 0
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, 0, false
		}
		n = n*10 + int(d-'0')
	}
	if n == 0 {
		return 0, 0, false
	}
	return dir, n, true
}

// cutField splits off the first space-separated field of a trimmed line.
func cutField(b []byte) (field, rest []byte) {
	i := bytes.IndexAny(b, " \t")
	if i < 0 {
		return b, nil
	}
	return b[:i], bytes.TrimLeft(b[i:], " \t")
}

// appendHex decodes hex digits, ignoring white space, and appends the bytes
// to dst.
func appendHex(dst, s []byte) ([]byte, error) {
	hi, half := byte(0), false
	for _, c := range s {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			continue
		default:
			return dst, fmt.Errorf("invalid hex character %q", rune(c))
		}
		if half {
			dst = append(dst, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		return dst, errors.New("odd number of hex digits")
	}
	return dst, nil
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

// Write records one chunk; a zero t writes no time. A ToUpstream or
// FromUpstream chunk is written for upstream 1: use [Writer.WriteChunk]
// for others.
func (w *Writer) Write(dir Direction, t time.Time, data []byte) error {
	return w.WriteChunk(Chunk{Dir: dir, Time: t, Data: data})
}

// WriteChunk records c (its Line is ignored).
func (w *Writer) WriteChunk(c Chunk) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	dir, t, data := c.Dir, c.Time, c.Data
	w.buf = w.buf[:0]
	if !t.IsZero() {
		w.buf = t.UTC().AppendFormat(w.buf, "2006-01-02T15:04:05.000Z07:00")
		w.buf = append(w.buf, ' ')
	}
	if dir == ToUpstream || dir == FromUpstream {
		w.buf = append(w.buf, 'u')
		w.buf = strconv.AppendInt(w.buf, int64(max(c.Upstream, 1)), 10)
		w.buf = append(w.buf, dir.String()[1])
	} else {
		w.buf = append(w.buf, dir.String()...)
	}
	w.buf = append(w.buf, ' ')
	w.buf = hex.AppendEncode(w.buf, data)
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}
