package protocoltest

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// Case is one golden test case, read from a txtar file:
//
//	Source: Teltonika wiki, "Codec 8", first example
//	Transport: tcp
//	Lenient: false
//	Expect: position
//	Want: position.latitude=54.667
//	Want: ident="356307042441013"
//	-- frame.hex --
//	000f333536333037303432343431303133
//	000000000000003608010000016b40d8ea30...
//	-- messages.json --
//	[...]
//	-- reply.hex --
//	01 00000001
//
// The header is free text; the lines "Key: value" above are read. Transport
// defaults to tcp. Expect is "position" (at least one message with a position
// in range), "no-position" (none has one) or "error" (decoding fails; the
// "error" file, if present, holds a substring of the message). Want lines are
// values the source states; each must equal a parameter of some decoded
// message (numbers within 1e-6). frame.hex is a [traffic] recording: one line
// per read or, for UDP, per datagram; '<' lines are ignored. messages.json
// and reply.hex are golden outputs that -update rewrites.
type Case struct {
	Name      string
	Path      string
	Archive   *Archive
	Source    string
	Transport protocol.Transport
	Lenient   bool
	Expect    string
	Want      []Want
	Input     []traffic.Chunk
	ErrorText string
}

// Want is one source-stated value.
type Want struct {
	Name  string
	Value protocol.Value
}

// LoadCase reads one case file.
func LoadCase(path string) (*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a := ParseArchive(data)
	c := &Case{Name: strings.TrimSuffix(filepath.Base(path), ".txtar"), Path: path, Archive: a}
	for _, line := range strings.Split(string(a.Comment), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "Source":
			c.Source = val
		case "Transport":
			t, ok := protocol.ParseTransport(val)
			if !ok {
				return nil, fmt.Errorf("%s: bad Transport %q", path, val)
			}
			c.Transport = t
		case "Lenient":
			c.Lenient, _ = strconv.ParseBool(val)
		case "Expect":
			switch val {
			case "position", "no-position", "error", "":
				c.Expect = val
			default:
				return nil, fmt.Errorf("%s: bad Expect %q", path, val)
			}
		case "Want":
			name, raw, ok := strings.Cut(val, "=")
			if !ok {
				return nil, fmt.Errorf("%s: Want needs name=value: %q", path, val)
			}
			v, err := protocol.ParseValueJSON([]byte(raw))
			if err != nil {
				return nil, fmt.Errorf("%s: Want %q: %v", path, val, err)
			}
			c.Want = append(c.Want, Want{Name: strings.TrimSpace(name), Value: v})
		}
	}
	if c.Source == "" {
		return nil, fmt.Errorf("%s: no Source: line (every case states its provenance)", path)
	}
	hexText, ok := a.Get("frame.hex")
	if !ok {
		return nil, fmt.Errorf("%s: no frame.hex", path)
	}
	if c.Input, err = traffic.Parse(bytes.NewReader(hexText)); err != nil {
		return nil, fmt.Errorf("%s: frame.hex: %w", path, err)
	}
	if e, ok := a.Get("error"); ok {
		c.ErrorText = strings.TrimSpace(string(e))
	}
	return c, nil
}

// Outcome is what running a codec over a case's input produced.
type Outcome struct {
	Messages  []protocol.Message
	Responses []protocol.CommandResponse
	Replies   []byte // every reply, concatenated
	Ident     string
	Err       error
}

// Decode runs codec over the inbound chunks as a channel would: for TCP the
// chunks are fed in order into one [protocol.StreamDecoder], for UDP each is
// one datagram. It stops at the first error.
func Decode(codec protocol.Codec, t protocol.Transport, chunks [][]byte) Outcome {
	var out Outcome
	d := protocol.NewStreamDecoder(codec, t, 0)
	collect := func(_ []byte, r *protocol.Result) error {
		for i := range r.Messages {
			out.Messages = append(out.Messages, r.Messages[i].Clone())
		}
		for _, resp := range r.Responses {
			resp.Data = bytes.Clone(resp.Data)
			out.Responses = append(out.Responses, resp)
		}
		out.Replies = append(out.Replies, r.Reply...)
		return nil
	}
	for _, c := range chunks {
		if out.Err = d.Feed(c, collect); out.Err != nil {
			out.Ident = d.Ident()
			return out
		}
	}
	out.Err = d.Finish(collect)
	out.Ident = d.Ident()
	return out
}

func (c *Case) inbound() [][]byte {
	var chunks [][]byte
	for _, ch := range c.Input {
		if ch.Dir == traffic.In {
			chunks = append(chunks, ch.Data)
		}
	}
	return chunks
}

// FormatMessages renders messages as the golden messages.json text: a JSON
// array with one message a line.
func FormatMessages(msgs []protocol.Message) []byte {
	var b bytes.Buffer
	b.WriteString("[")
	for i := range msgs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n")
		b.Write(msgs[i].AppendJSON(nil))
	}
	if len(msgs) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// FormatHex renders bytes as golden hex text: 32 bytes a line.
func FormatHex(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(32, len(b))
		fmt.Fprintf(&out, "%x\n", b[:n])
		b = b[n:]
	}
	return out.Bytes()
}

// HasPosition reports whether m carries a latitude and longitude.
func HasPosition(m *protocol.Message) bool {
	_, lat := m.Float(protocol.ParamLatitude)
	_, lon := m.Float(protocol.ParamLongitude)
	return lat && lon
}

// CheckMessage applies sanity ranges to the common parameters a message
// carries (the ones a decoder most often gets wrong by a unit or a sign).
func CheckMessage(m *protocol.Message) error {
	ranges := []struct {
		name     string
		min, max float64
	}{
		{protocol.ParamLatitude, -90, 90},
		{protocol.ParamLongitude, -180, 180},
		{protocol.ParamAltitude, -12262, 18000},
		{protocol.ParamSpeed, 0, 1610}, // 869 knots, as Traccar's check
		{protocol.ParamDirection, 0, 360},
		{protocol.ParamSatellites, 0, 255},
		{protocol.ParamTimestamp, 915148800, 4102444800}, // 1999 … 2100
	}
	for _, r := range ranges {
		v, ok := m.Lookup(r.name)
		if !ok {
			continue
		}
		f, isNum := v.Float()
		if !isNum || math.IsNaN(f) || f < r.min || f > r.max {
			return fmt.Errorf("%s = %v outside [%v, %v]", r.name, v, r.min, r.max)
		}
	}
	return nil
}
