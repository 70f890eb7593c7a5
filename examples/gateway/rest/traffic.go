package rest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// Recordings is the running gateway's side of the traffic endpoints: where
// channels record raw traffic (channel.DirRecorder) and the codecs that
// decode it.
type Recordings interface {
	// TrafficDir returns the directory channel channelID records its
	// connections in, or "" when the gateway keeps no recordings.
	TrafficDir(channelID int64) string
	// Codec returns a codec of a protocol, as a channel makes it.
	Codec(protocol string, lenient bool) (protocol.Codec, bool)
}

// Limits of the traffic endpoints.
const (
	// DefaultTrafficChunks is how many chunks of a recording one answer
	// shows when the query gives no count; MaxTrafficChunks the most.
	DefaultTrafficChunks = 500
	MaxTrafficChunks     = 10000
	// MaxTrafficExport bounds a recording exported whole (hex or txtar).
	MaxTrafficExport = 32 << 20
	// maxTrafficHex bounds the hex text of one decoded answer.
	maxTrafficHex = 8 << 20
	// maxRecordingsListed bounds the files one listing examines.
	maxRecordingsListed = 100000
)

// Recording is one recorded connection: a file of channel.DirRecorder,
// Dir/<ident>/<connected-at>_<conn id>.hex.
type Recording struct {
	ChannelID int64  `json:"channel_id"`
	DeviceID  int64  `json:"device_id,omitempty"`
	Ident     string `json:"ident"`
	Name      string `json:"name"`
	ConnID    uint64 `json:"conn_id"`
	// Connected is when the connection opened, Modified when the file was
	// last written (Unix seconds): a live connection's file grows.
	Connected float64 `json:"connected"`
	Modified  float64 `json:"modified"`
	Size      int64   `json:"size"`
}

// RecordingView is a recording decoded: its chunks in time order, each
// device chunk with the frames the codec completed in it.
type RecordingView struct {
	Recording
	ProtocolName string `json:"protocol_name"`
	Transport    string `json:"transport"`
	Lenient      bool   `json:"lenient,omitempty"`
	Peer         string `json:"peer,omitempty"`
	// Header is the recording's first comment line.
	Header string         `json:"header,omitempty"`
	Chunks []TrafficChunk `json:"chunks"`
	// From is the index of the first chunk shown; More says chunks follow
	// (ask again with from=From+len(Chunks)).
	From int  `json:"from"`
	More bool `json:"more"`
	// Messages counts the messages decoded from the chunks shown.
	Messages int `json:"messages"`
}

// TrafficChunk is one line of a recording: one read from the device ('>')
// or one write to it ('<').
type TrafficChunk struct {
	Index int     `json:"index"`
	Line  int     `json:"line"`
	Time  float64 `json:"time,omitempty"`
	Dir   string  `json:"dir"`
	Hex   string  `json:"hex"`
	// Frames are the frames the codec completed with this chunk's bytes.
	Frames []TrafficFrame `json:"frames,omitempty"`
	// Error is a frame the codec rejected here.
	Error string `json:"error,omitempty"`
}

func (c *TrafficChunk) addError(err error) {
	if c == nil {
		return
	}
	if c.Error != "" {
		c.Error += "; "
	}
	c.Error += err.Error()
}

// TrafficFrame is one decoded frame: its bytes, its messages, and the
// reply the codec makes for it (the '<' chunk after it is what was sent).
type TrafficFrame struct {
	Hex       string            `json:"hex"`
	Ident     string            `json:"ident,omitempty"`
	Messages  []json.RawMessage `json:"messages"`
	Responses []TrafficResponse `json:"responses,omitempty"`
	Reply     string            `json:"reply,omitempty"`
	Close     bool              `json:"close,omitempty"`
}

// TrafficResponse is a device's answer to a command found in a frame.
type TrafficResponse struct {
	ID   *uint32 `json:"id,omitempty"`
	Text string  `json:"text,omitempty"`
	Hex  string  `json:"hex,omitempty"`
}

func (q *request) recordings() (Recordings, error) {
	r, _ := q.api.Live.(Recordings)
	if r == nil {
		return nil, errf(http.StatusNotImplemented, "this gateway keeps no traffic recordings")
	}
	return r, nil
}

// channelTraffic serves /gw/channels/{sel}/traffic[/{ident}/{file}[/hex|/txtar]].
func (q *request) channelTraffic(ids []int64, s []string) ([]byte, error) {
	if q.method != http.MethodGet {
		return nil, q.methodNotAllowed()
	}
	rec, err := q.recordings()
	if err != nil {
		return nil, err
	}
	switch len(s) {
	case 0:
		var list []Recording
		for _, id := range ids {
			list = append(list, q.listRecordings(rec, id, nil)...)
		}
		return q.recordingList(list)
	case 2, 3:
		for _, id := range ids {
			path, ok, err := recordingPath(rec.TrafficDir(id), s[0], s[1])
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if len(s) == 2 {
				return q.decodeRecording(rec, id, path)
			}
			return q.exportRecording(rec, id, path, s[2])
		}
		return nil, errf(http.StatusNotFound, "no recording %s/%s on these channels", s[0], s[1])
	}
	return nil, errf(http.StatusNotFound, "traffic: want /traffic, /traffic/{ident}/{file}, or …/{file}/hex or /txtar")
}

// deviceTraffic serves GET /gw/devices/{sel}/traffic: the devices'
// recordings on every channel. DirRecorder names an ident's directory
// after the ident, with characters other than letters, digits, '-', '_'
// and '.' replaced: recordings of such idents are listed by their channel
// only.
func (q *request) deviceTraffic(ids []int64, s []string) ([]byte, error) {
	if q.method != http.MethodGet {
		return nil, q.methodNotAllowed()
	}
	if len(s) > 0 {
		return nil, errf(http.StatusNotFound, "a device's recordings are read through their channel: /gw/channels/{id}/traffic/{ident}/{file}")
	}
	rec, err := q.recordings()
	if err != nil {
		return nil, err
	}
	idents := map[string]int64{}
	for _, id := range ids {
		d, _ := q.api.Registry.Devices.Get(id)
		idents[d.Configuration.Ident] = id
	}
	var list []Recording
	for _, c := range q.api.Registry.Channels.List() {
		if q.visible(c.CID) {
			list = append(list, q.listRecordings(rec, c.ID, idents)...)
		}
	}
	return q.recordingList(list)
}

// listRecordings lists a channel's recordings, of the given idents only
// when idents is not nil.
func (q *request) listRecordings(rec Recordings, channelID int64, idents map[string]int64) []Recording {
	dir := rec.TrafficDir(channelID)
	if dir == "" {
		return nil
	}
	var subs []string
	if idents != nil {
		for ident := range idents {
			if validName(ident) {
				subs = append(subs, ident)
			}
		}
	} else {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() {
				subs = append(subs, e.Name())
			}
		}
	}
	var out []Recording
	for _, sub := range subs {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range entries {
			if len(out) >= maxRecordingsListed {
				return out
			}
			r, ok := parseRecordingName(e.Name())
			if !ok || e.IsDir() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			r.ChannelID, r.Ident, r.Size = channelID, sub, info.Size()
			r.Modified = unixSeconds(info.ModTime())
			if sub == unidentified {
				r.Ident = ""
			} else if id, ok := q.api.Registry.DeviceIDByIdent(sub); ok {
				r.DeviceID = id
			}
			out = append(out, r)
		}
	}
	return out
}

// unidentified is DirRecorder's directory for connections that never
// said who they are.
const unidentified = "_unidentified"

// recordingList answers a listing, newest first, with limit and offset.
func (q *request) recordingList(list []Recording) ([]byte, error) {
	slices.SortFunc(list, func(a, b Recording) int {
		if a.Connected != b.Connected {
			if a.Connected > b.Connected {
				return -1
			}
			return 1
		}
		return int(b.ChannelID - a.ChannelID)
	})
	limit, offset := 100, 0
	for k, p := range map[string]*int{"limit": &limit, "offset": &offset} {
		if v := q.query.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, errf(http.StatusBadRequest, "%s: not a count", k)
			}
			*p = n
		}
	}
	total := len(list)
	list = list[min(offset, len(list)):]
	if limit > 0 && len(list) > limit {
		list = list[:limit]
	}
	items := make([][]byte, len(list))
	for i := range list {
		items[i], _ = json.Marshal(list[i])
	}
	out := result(items)
	if q.query.Has("limit") || q.query.Has("offset") || total > len(list) {
		out = fmt.Appendf(out[:len(out)-1], `,"pagination":{"count":%d,"limit":%d,"offset":%d}}`, total, limit, offset)
	}
	return out, nil
}

// parseRecordingName reads "20060102T150405.000Z_<conn id>.hex".
func parseRecordingName(name string) (Recording, bool) {
	base, ok := strings.CutSuffix(name, ".hex")
	if !ok {
		return Recording{}, false
	}
	at, id, ok := strings.Cut(base, "_")
	if !ok {
		return Recording{}, false
	}
	t, err := time.Parse("20060102T150405.000Z", at)
	if err != nil {
		return Recording{}, false
	}
	conn, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Recording{}, false
	}
	return Recording{Name: name, ConnID: conn, Connected: unixSeconds(t)}, true
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// validName accepts a path segment that stays inside its directory.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`+"\x00") && filepath.IsLocal(s)
}

// recordingPath finds dir/ident/file; a name that would leave dir is a
// bad request.
func recordingPath(dir, ident, file string) (string, bool, error) {
	if ident == "" {
		ident = unidentified
	}
	if !validName(ident) || !validName(file) {
		return "", false, errf(http.StatusBadRequest, "traffic: bad recording name %q/%q", ident, file)
	}
	if _, ok := parseRecordingName(file); !ok {
		return "", false, errf(http.StatusBadRequest, "traffic: %q is not a recording's name (<connected-at>_<conn id>.hex)", file)
	}
	if dir == "" {
		return "", false, nil
	}
	path := filepath.Join(dir, ident, file)
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return "", false, nil
	}
	return path, true, nil
}

// recordingHeader is what channel recordings say in their first line:
// "# gnssgate raw traffic: protocol P, transport T, peer A, ident "I", connected C".
type recordingHeader struct {
	text, protocol, transport, peer, ident string
}

func parseHeader(line string) recordingHeader {
	h := recordingHeader{}
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# gnssgate raw traffic:")
	if !ok {
		return h
	}
	h.text = strings.TrimSpace(strings.TrimPrefix(line, "#"))
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(strings.TrimPrefix(rest, ",")) {
		key, val, _ := strings.Cut(rest, " ")
		var v string
		if key == "ident" {
			q, err := strconv.QuotedPrefix(val)
			if err != nil {
				return h
			}
			v, _ = strconv.Unquote(q)
			rest = val[len(q):]
		} else {
			v, rest, _ = strings.Cut(val, ",")
			rest = "," + rest
		}
		switch key {
		case "protocol":
			h.protocol = v
		case "transport":
			h.transport = v
		case "peer":
			h.peer = v
		case "ident":
			h.ident = v
		}
	}
	return h
}

// openRecording opens a recording and reads its header line.
func openRecording(path string) (*os.File, recordingHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, recordingHeader{}, err
	}
	line, _ := bufio.NewReaderSize(io.LimitReader(f, 4096), 4096).ReadString('\n')
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, recordingHeader{}, err
	}
	return f, parseHeader(line), nil
}

// recordingCodec returns the codec of the recording's protocol (its header
// names it; else the channel's) with the channel's leniency.
func (q *request) recordingCodec(rec Recordings, channelID int64, h recordingHeader) (protocol.Codec, string, bool, protocol.Transport, error) {
	c, _ := q.api.Registry.Channels.Get(channelID)
	name := h.protocol
	if name == "" {
		name = c.ProtocolName
	}
	tr := protocol.TCP
	if h.transport != "" {
		var ok bool
		if tr, ok = protocol.ParseTransport(h.transport); !ok {
			tr = protocol.TCP
		}
	}
	codec, ok := rec.Codec(name, c.Configuration.Lenient)
	if !ok {
		return nil, name, false, tr, errf(http.StatusConflict, "traffic: no codec for protocol %q", name)
	}
	return codec, name, c.Configuration.Lenient, tr, nil
}

func (q *request) recordingInfo(channelID int64, path string) Recording {
	r, _ := parseRecordingName(filepath.Base(path))
	r.ChannelID = channelID
	r.Ident = filepath.Base(filepath.Dir(path))
	if r.Ident == unidentified {
		r.Ident = ""
	} else if id, ok := q.api.Registry.DeviceIDByIdent(r.Ident); ok {
		r.DeviceID = id
	}
	if st, err := os.Stat(path); err == nil {
		r.Size, r.Modified = st.Size(), unixSeconds(st.ModTime())
	}
	return r
}

// decodeRecording answers a recording's chunks from=N count=M, each device
// chunk beside the frames the codec completed with it. The codec runs from
// the start of the recording (a session needs its login), and goes on past
// a frame it rejects, as the decode tool's reader of the same bytes would
// not: the viewer shows every error, not only the first.
func (q *request) decodeRecording(rec Recordings, channelID int64, path string) ([]byte, error) {
	from, count := 0, DefaultTrafficChunks
	for k, p := range map[string]*int{"from": &from, "count": &count} {
		if v := q.query.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, errf(http.StatusBadRequest, "%s: not a count", k)
			}
			*p = n
		}
	}
	if count == 0 {
		count = DefaultTrafficChunks
	}
	if count > MaxTrafficChunks {
		return nil, errf(http.StatusBadRequest, "count: at most %d", MaxTrafficChunks)
	}
	f, h, err := openRecording(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	codec, name, lenient, tr, err := q.recordingCodec(rec, channelID, h)
	if err != nil {
		return nil, err
	}
	v := RecordingView{Recording: q.recordingInfo(channelID, path), ProtocolName: name, Transport: tr.String(),
		Lenient: lenient, Peer: h.peer, Header: h.text, From: from, Chunks: []TrafficChunk{}}
	d := protocol.NewStreamDecoder(codec, tr, 0)
	rd := traffic.NewReader(f)
	var cur *TrafficChunk // the chunk being shown, nil before from
	budget := maxTrafficHex
	emit := func(frame []byte, r *protocol.Result) error {
		if cur == nil {
			return nil
		}
		fv := TrafficFrame{Hex: hex.EncodeToString(frame), Ident: r.Ident, Messages: make([]json.RawMessage, 0, len(r.Messages)),
			Reply: hex.EncodeToString(r.Reply), Close: r.Close}
		for i := range r.Messages {
			fv.Messages = append(fv.Messages, r.Messages[i].AppendJSON(nil))
		}
		for _, resp := range r.Responses {
			tr := TrafficResponse{Text: resp.Text, Hex: hex.EncodeToString(resp.Data)}
			if resp.HasID {
				id := resp.ID
				tr.ID = &id
			}
			fv.Responses = append(fv.Responses, tr)
		}
		v.Messages += len(r.Messages)
		budget -= len(fv.Hex)
		cur.Frames = append(cur.Frames, fv)
		return nil
	}
	for i := 0; ; i++ {
		if i%256 == 0 && q.ctx.Err() != nil {
			return nil, q.ctx.Err()
		}
		c, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errf(http.StatusUnprocessableEntity, "traffic: %s: %v", filepath.Base(path), err)
		}
		if i >= from+count || budget <= 0 {
			v.More = true
			break
		}
		tc := TrafficChunk{Index: i, Line: c.Line, Dir: c.Dir.String()}
		if !c.Time.IsZero() {
			tc.Time = unixSeconds(c.Time)
		}
		cur = nil
		if i >= from {
			tc.Hex = hex.EncodeToString(c.Data)
			budget -= len(tc.Hex)
			v.Chunks = append(v.Chunks, tc)
			cur = &v.Chunks[len(v.Chunks)-1]
		}
		if c.Dir != traffic.In {
			continue
		}
		// A rejected frame is consumed: feeding nil goes on after it.
		err = d.Feed(c.Data, emit)
		for n := 0; err != nil && n < 100; n++ {
			cur.addError(err)
			err = d.Feed(nil, emit)
		}
	}
	if !v.More {
		if err := d.Finish(emit); err != nil && !errors.Is(err, protocol.ErrTruncated) {
			cur.addError(err)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return result([][]byte{b}), nil
}

// TrafficExport is a recording exported whole: Content is the file to
// save under Name.
type TrafficExport struct {
	Name    string `json:"name"`
	Format  string `json:"format"`
	Content string `json:"content"`
}

// exportRecording answers a recording as a file: "hex", the recording as
// it is (for examples/decode -f), or "txtar", a protocoltest golden case
// whose messages.json and reply.hex are what the codec makes of it now.
func (q *request) exportRecording(rec Recordings, channelID int64, path, format string) ([]byte, error) {
	if format != "hex" && format != "txtar" {
		return nil, errf(http.StatusNotFound, "traffic: export as hex or txtar, not %q", format)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxTrafficExport {
		return nil, errf(http.StatusRequestEntityTooLarge, "traffic: %s is %d bytes, more than the %d the API exports; copy it from the gateway's data directory",
			filepath.Base(path), st.Size(), MaxTrafficExport)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	info := q.recordingInfo(channelID, path)
	out := TrafficExport{Name: filepath.Base(path), Format: format, Content: string(data)}
	if format == "txtar" {
		first, _, _ := bytes.Cut(data, []byte("\n"))
		h := parseHeader(string(first))
		codec, name, lenient, tr, err := q.recordingCodec(rec, channelID, h)
		if err != nil {
			return nil, err
		}
		chunks, err := traffic.Parse(bytes.NewReader(data))
		if err != nil {
			return nil, errf(http.StatusUnprocessableEntity, "traffic: %s: %v", filepath.Base(path), err)
		}
		out.Content = goldenCase(codec, name, lenient, tr, info, h, data, chunks)
		ident := info.Ident
		if ident == "" {
			ident = "unidentified"
		}
		out.Name = fmt.Sprintf("%s-%s-%s.txtar", name, ident, strings.TrimSuffix(info.Name, ".hex"))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return result([][]byte{b}), nil
}

// goldenCase writes a protocoltest case (see protocoltest.Case): the
// provenance, the recording as frame.hex, and the goldens the codec makes
// now, so that the case passes as soon as it is saved in
// protocol/<name>/testdata; Want lines are the reviewer's to add. It
// decodes as protocoltest.Decode does and writes the goldens in the shape
// of protocoltest.FormatMessages and FormatHex (protocoltest compares them
// after parsing, so spacing never matters): that package imports testing,
// which a server should not link. TestTraffic runs the result through
// protocoltest.RunCase.
func goldenCase(codec protocol.Codec, name string, lenient bool, tr protocol.Transport, info Recording, h recordingHeader,
	data []byte, chunks []traffic.Chunk) string {
	var msgs []protocol.Message
	var replies []byte
	d := protocol.NewStreamDecoder(codec, tr, 0)
	collect := func(_ []byte, r *protocol.Result) error {
		for i := range r.Messages {
			msgs = append(msgs, r.Messages[i].Clone())
		}
		replies = append(replies, r.Reply...)
		return nil
	}
	var decodeErr error
	for _, c := range chunks {
		if c.Dir != traffic.In {
			continue
		}
		if decodeErr = d.Feed(c.Data, collect); decodeErr != nil {
			break
		}
	}
	if decodeErr == nil {
		decodeErr = d.Finish(collect)
	}
	var b strings.Builder
	connected := time.UnixMicro(int64(info.Connected * 1e6)).UTC().Format(time.RFC3339)
	fmt.Fprintf(&b, "Source: gnssgate channel %d recording of device %q (connection %d", info.ChannelID, info.Ident, info.ConnID)
	if h.peer != "" {
		fmt.Fprintf(&b, " from %s", h.peer)
	}
	fmt.Fprintf(&b, ", %s), file %s\n", connected, info.Name)
	b.WriteString("Note: add Want: lines for the values the device's documentation states, then review the goldens\n")
	fmt.Fprintf(&b, "Transport: %s\n", tr)
	if lenient {
		b.WriteString("Lenient: true\n")
	}
	expect := "no-position"
	if decodeErr != nil {
		expect = "error"
	} else {
		for i := range msgs {
			_, lat := msgs[i].Float(protocol.ParamLatitude)
			_, lon := msgs[i].Float(protocol.ParamLongitude)
			if lat && lon {
				expect = "position"
				break
			}
		}
	}
	fmt.Fprintf(&b, "Expect: %s\n", expect)
	b.WriteString("-- frame.hex --\n")
	b.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
	if decodeErr != nil {
		fmt.Fprintf(&b, "-- error --\n%s\n", decodeErr)
	}
	b.WriteString("-- messages.json --\n[")
	for i := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		b.Write(msgs[i].AppendJSON(nil))
	}
	if len(msgs) > 0 {
		b.WriteByte('\n')
	}
	b.WriteString("]\n-- reply.hex --\n")
	for r := replies; len(r) > 0; {
		n := min(32, len(r))
		fmt.Fprintf(&b, "%x\n", r[:n])
		r = r[n:]
	}
	return b.String()
}
