package osmand

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Name is the protocol's name in errors and configuration.
const Name = "osmand"

// Codec is the OsmAnd / Traccar Client HTTP protocol. The zero value is
// ready to use; a Codec is safe for concurrent use (the protocol has no
// state between requests).
type Codec struct {
	// MaxFrameSize bounds a request body. 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB); a Traccar Client request
	// is a few hundred bytes, a batch of locations some kilobytes.
	MaxFrameSize int
	// Lenient skips parameters whose values do not read (a latitude that
	// is not a number, a cell without its four numbers, a time in no
	// known form) and keeps the rest of the request; otherwise such a
	// request is a [protocol.ErrMalformed] error, which the HTTP channel
	// answers with 400.
	Lenient bool
}

// Name returns "osmand".
func (c *Codec) Name() string { return Name }

// DecodeRequest turns one request into messages: it implements the HTTP
// channel's RequestDecoder (channel.HTTP.Decoder), which answers 200 once
// the messages are stored. A JSON body (Content-Type application/json) is
// the Traccar Client 8+ form; anything else is the query form, read from
// the URL or, when the URL has no query, from the body.
func (c *Codec) DecodeRequest(req *http.Request, body []byte) ([]protocol.Message, error) {
	if len(body) > protocol.FrameLimit(c.MaxFrameSize) {
		return nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "request body longer than the size limit")
	}
	var r protocol.Result
	var err error
	if isJSON(req.Header.Get("Content-Type")) {
		err = c.DecodeJSON(body, &r)
	} else if req.URL != nil && req.URL.RawQuery != "" {
		err = c.DecodeQuery(req.URL.RawQuery, &r)
	} else {
		err = c.DecodeQuery(string(bytes.TrimSpace(body)), &r)
	}
	if err != nil {
		return nil, err
	}
	msgs := make([]protocol.Message, len(r.Messages))
	for i := range r.Messages {
		msgs[i] = r.Messages[i].Clone()
	}
	return msgs, nil
}

// ReadRequest reads one HTTP request (as net/http's ReadRequest does, its
// body bounded by MaxFrameSize) and decodes it: what the decode tool does
// with a raw request.
func (c *Codec) ReadRequest(raw io.Reader) ([]protocol.Message, error) {
	req, err := http.ReadRequest(bufio.NewReader(raw))
	if err != nil {
		return nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "not an HTTP request: "+err.Error())
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, int64(protocol.FrameLimit(c.MaxFrameSize))+1))
	if err != nil {
		return nil, protocol.Errorf(Name, 0, protocol.ErrTruncated, "request body: "+err.Error())
	}
	return c.DecodeRequest(req, body)
}

func isJSON(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// DecodeQuery decodes the query form, "id=…&lat=…&lon=…&timestamp=…",
// into one message appended to r. A first pass reads the identity, time
// and position, which lead the message; a second the rest, in request
// order. It allocates only the strings the message keeps.
func (c *Codec) DecodeQuery(query string, r *protocol.Result) error {
	n := len(r.Messages)
	if err := c.decodeQuery(query, r); err != nil {
		r.Messages = r.Messages[:n] // no half-decoded message
		return err
	}
	return nil
}

func (c *Codec) decodeQuery(query string, r *protocol.Result) error {
	q := queryDecoder{c: c, m: r.NewMessage()}
	m := q.m
	m.Grow(16)
	// The ident, time and position lead the message whatever their place
	// in the query: their slots are reserved now and the empty ones
	// dropped at the end.
	for _, name := range headNames {
		m.Add(name, protocol.Null())
	}
	for i := 0; i < len(query); {
		end := strings.IndexByte(query[i:], '&')
		if end < 0 {
			end = len(query) - i
		}
		pair := query[i : i+end]
		i += end + 1
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		esc := strings.IndexByte(pair, '%') >= 0 || strings.IndexByte(pair, '+') >= 0
		if esc {
			var err1, err2 error
			k, err1 = unescape(k)
			v, err2 = unescape(v)
			if err1 != nil || err2 != nil {
				if err := q.bad(pair, "bad percent-encoding"); err != nil {
					return err
				}
				continue
			}
		}
		if err := q.param(k, v); err != nil {
			return err
		}
	}
	if q.ident == "" {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "no id or deviceid parameter")
	}
	r.Ident = q.ident
	m.Set(protocol.ParamIdent, protocol.String(q.ident))
	if q.hasTime {
		m.Set(protocol.ParamTimestamp, q.time)
	}
	if q.hasLat && q.hasLon {
		m.Set(protocol.ParamLatitude, protocol.Float(q.lat))
		m.Set(protocol.ParamLongitude, protocol.Float(q.lon))
		m.Set(protocol.ParamValid, protocol.Bool(q.valid >= 0))
	} else if q.valid != 0 {
		m.Set(protocol.ParamValid, protocol.Bool(q.valid > 0))
	}
	m.Retain(func(p *protocol.Param) bool { return !p.Value.IsNull() })
	if len(q.cells) > 0 {
		m.Add(paramCells, protocol.RawJSON("["+string(q.cells)+"]"))
	}
	if len(q.wifis) > 0 {
		m.Add(paramWifi, protocol.RawJSON("["+string(q.wifis)+"]"))
	}
	return nil
}

// headNames are the parameters that lead a message, in order.
var headNames = [...]string{protocol.ParamIdent, protocol.ParamTimestamp, protocol.ParamLatitude, protocol.ParamLongitude, protocol.ParamValid}

type queryDecoder struct {
	c            *Codec
	m            *protocol.Message
	ident        string
	lat, lon     float64
	hasLat       bool
	hasLon       bool
	valid        int // -1 stated false, 1 stated true, 0 not stated
	time         protocol.Value
	hasTime      bool
	cells, wifis []byte
}

func (q *queryDecoder) bad(key, why string) error {
	if q.c.Lenient {
		return nil
	}
	return protocol.Errorf(Name, 0, protocol.ErrMalformed, fmt.Sprintf("parameter %.40q: %s", key, why))
}

// param reads one query parameter: the ones the OsmAnd and Traccar Client
// documents name, and any other kept as custom.<name>.
func (q *queryDecoder) param(k, v string) error {
	num := func() (float64, bool) { return decimal(v) }
	switch k {
	case "id", "deviceid":
		if !validIdent(v) {
			return q.bad(k, "not a device identifier")
		}
		q.ident = v
		return nil
	case "lat", "lon":
		f, ok := num()
		if !ok || k == "lat" && (f < -90 || f > 90) || k == "lon" && (f < -180 || f > 180) {
			return q.bad(k, "not a coordinate")
		}
		if k == "lat" {
			q.lat, q.hasLat = f, true
		} else {
			q.lon, q.hasLon = f, true
		}
		return nil
	case "location":
		a, b, ok := strings.Cut(v, ",")
		la, ok1 := decimal(strings.TrimSpace(a))
		lo, ok2 := decimal(strings.TrimSpace(b))
		if !ok || !ok1 || !ok2 || la < -90 || la > 90 || lo < -180 || lo > 180 {
			return q.bad(k, "not \"lat,lon\"")
		}
		q.lat, q.lon, q.hasLat, q.hasLon = la, lo, true, true
		return nil
	case "timestamp":
		t, ok := parseTime(v)
		if !ok {
			return q.bad(k, "not Unix seconds, milliseconds or an ISO 8601 time")
		}
		q.time, q.hasTime = t, true
		return nil
	case "valid":
		q.valid = -1
		if v == "1" || strings.EqualFold(v, "true") {
			q.valid = 1
		}
		return nil
	case "cell":
		if !appendCell(&q.cells, v) {
			return q.bad(k, "not \"mcc,mnc,lac,cellid[,rssi]\"")
		}
		return nil
	case "wifi":
		if !appendWifi(&q.wifis, v) {
			return q.bad(k, "not \"mac,rssi\"")
		}
		return nil
	case "driverUniqueId":
		q.m.Set(paramDriver, protocol.String(strings.ToValidUTF8(v, "\uFFFD")))
		return nil
	case "charge":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return q.bad(k, "not true or false")
		}
		q.m.Set(paramCharging, protocol.Bool(b))
		return nil
	}
	if name, scale, ok := numericParam(k); ok {
		f, good := num()
		if !good {
			return q.bad(k, "not a number")
		}
		if name == protocol.ParamDirection && f < 0 || name == protocol.ParamSpeed && f < 0 {
			return nil // unknown
		}
		q.m.Set(name, protocol.Float(f*scale))
		return nil
	}
	return q.custom(k, v)
}

// numericParam maps the numeric parameters to flespi names and the factor
// to their units: speed is in knots, altitude and accuracy in metres.
func numericParam(k string) (name string, scale float64, ok bool) {
	switch k {
	case "speed":
		return protocol.ParamSpeed, 1.852, true
	case "bearing", "heading":
		return protocol.ParamDirection, 1, true
	case "altitude":
		return protocol.ParamAltitude, 1, true
	case "accuracy":
		return paramAccuracy, 1, true
	case "hdop":
		return protocol.ParamHDOP, 1, true
	case "batt":
		return paramBatteryLevel, 1, true
	}
	return "", 0, false
}

// custom keeps a parameter the protocol does not name as custom.<name>:
// a number when it reads as one, true or false, else text.
func (q *queryDecoder) custom(k, v string) error {
	if !validKey(k) {
		return q.bad(k, "not a parameter name")
	}
	name := "custom." + k
	switch {
	case v == "true" || v == "false":
		q.m.Set(name, protocol.Bool(v == "true"))
	default:
		if i, err := strconv.ParseInt(v, 10, 64); err == nil {
			q.m.Set(name, protocol.Int(i))
		} else if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && !strings.ContainsAny(v, "xXpP_") {
			q.m.Set(name, protocol.Float(f))
		} else {
			q.m.Set(name, protocol.String(strings.ToValidUTF8(v, "\uFFFD")))
		}
	}
	return nil
}

// validIdent applies flespi's rule for idents: printable, valid UTF-8,
// without '#', '+' or '/', at most 64 bytes.
func validIdent(v string) bool {
	if v == "" || len(v) > 64 || !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || r == '#' || r == '+' || r == '/' {
			return false
		}
	}
	return true
}

// validKey accepts printable ASCII names without the characters flespi
// and MQTT topics reserve.
func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '+' || c == '/' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendCell adds {"mcc","mnc","lac","cellid"[,"rssi"]} for
// "mcc,mnc,lac,cellid[,rssi]".
func appendCell(dst *[]byte, v string) bool {
	parts := strings.Split(v, ",")
	if len(parts) != 4 && len(parts) != 5 {
		return false
	}
	var n [5]int64
	for i, p := range parts {
		x, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return false
		}
		n[i] = x
	}
	b := *dst
	if len(b) > 0 {
		b = append(b, ',')
	}
	for i, key := range [...]string{"mcc", "mnc", "lac", "cellid", "rssi"} {
		if i == len(parts) {
			break
		}
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, n[i], 10)
	}
	*dst = append(b, '}')
	return true
}

// appendWifi adds {"mac","rssi"} for "mac,rssi" (the MAC with '-' or ':').
func appendWifi(dst *[]byte, v string) bool {
	mac, rssi, ok := strings.Cut(v, ",")
	n, err := strconv.ParseInt(strings.TrimSpace(rssi), 10, 64)
	if !ok || err != nil || len(mac) != 17 {
		return false
	}
	b := *dst
	if len(b) > 0 {
		b = append(b, ',')
	}
	b = append(b, `{"mac":"`...)
	for i := 0; i < len(mac); i++ {
		c := mac[i]
		switch {
		case c == '-' || c == ':':
			c = ':'
		case c >= 'A' && c <= 'F':
			c += 'a' - 'A'
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f':
		default:
			return false
		}
		b = append(b, c)
	}
	b = append(b, `","rssi":`...)
	*dst = append(strconv.AppendInt(b, n, 10), '}')
	return true
}

// parseTime reads the timestamp forms clients send: Unix seconds (with a
// fraction or not), Unix milliseconds (values from 2^31 up), ISO 8601
// ("2025-06-15T13:45:12.862Z") and "2014-06-04 09:10:11" (UTC).
func parseTime(v string) (protocol.Value, bool) {
	v = strings.TrimSpace(v)
	if f, ok := decimal(v); ok && f >= 0 {
		if f >= 1<<31 {
			f /= 1000
		}
		if f == math.Trunc(f) {
			return protocol.Int(int64(f)), true
		}
		return protocol.Float(f), true
	}
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return unixValue(t), true
		}
	}
	return protocol.Value{}, false
}

// decimal reads a plain decimal number ("-12.5") without allocating;
// other forms (exponents) go through strconv.
func decimal(s string) (float64, bool) {
	if f, ok := textfield.Decimal(unsafe.Slice(unsafe.StringData(s), len(s))); ok {
		return f, true
	}
	if strings.IndexByte(s, ':') >= 0 {
		return 0, false // an ISO time: strconv would refuse it too, allocating its error
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

func unixValue(t time.Time) protocol.Value {
	if t.Nanosecond() == 0 {
		return protocol.Int(t.Unix())
	}
	return protocol.Float(float64(t.UnixMilli()) / 1000)
}

// unescape decodes a query component that holds '%' or '+'.
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

func compactJSON(raw string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		return raw
	}
	return b.String()
}
