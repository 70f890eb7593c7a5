package channel

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
)

// The JSON rules that the HTTP and MQTT channels share, after flespi's
// HTTP channel: a JSON array of message objects, or one object; "ident"
// (or the configured field) is required, a string or a whole number;
// "timestamp" is Unix seconds (fraction allowed) or an ISO-8601 / RFC 3339
// string, and the server time when absent; every other parameter is kept
// as sent.

// MaxIdentLen bounds an ident given in JSON.
const MaxIdentLen = 256

// jsonRules turns a JSON payload into messages.
type jsonRules struct {
	identField string // "" means "ident"
	maxMsgs    int
}

func (j jsonRules) decode(data []byte, forcedIdent string, now time.Time) ([]protocol.Message, error) {
	msgs, err := protocol.UnmarshalMessages(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%w: no messages", ErrBadMessage)
	}
	if j.maxMsgs > 0 && len(msgs) > j.maxMsgs {
		return nil, fmt.Errorf("%w: %d messages in one batch, the limit is %d", ErrBadMessage, len(msgs), j.maxMsgs)
	}
	for i := range msgs {
		if err := j.fix(&msgs[i], forcedIdent, now); err != nil {
			return nil, &MessageError{Index: i, Err: err}
		}
	}
	return msgs, nil
}

// fix applies the ident and timestamp rules to one message.
func (j jsonRules) fix(m *protocol.Message, forcedIdent string, now time.Time) error {
	field := j.identField
	if field == "" {
		field = protocol.ParamIdent
	}
	ident := forcedIdent
	if ident == "" {
		v, ok := m.Lookup(field)
		if !ok {
			return fmt.Errorf("%w: %q is required", ErrBadMessage, field)
		}
		var err error
		if ident, err = identString(v); err != nil {
			return fmt.Errorf("%w: %q: %v", ErrBadMessage, field, err)
		}
	}
	if err := ValidIdent(ident); err != nil {
		return err
	}
	m.SetString(protocol.ParamIdent, ident)
	v, ok := m.Lookup(protocol.ParamTimestamp)
	if !ok || v.IsNull() {
		m.SetFloat(protocol.ParamTimestamp, float64(now.UnixMicro())/1e6)
		return nil
	}
	ts, err := parseTimestamp(v)
	if err != nil {
		return fmt.Errorf("%w: timestamp: %v", ErrBadMessage, err)
	}
	m.Set(protocol.ParamTimestamp, ts)
	return nil
}

func identString(v protocol.Value) (string, error) {
	if s, ok := v.Str(); ok {
		return s, nil
	}
	if i, ok := v.Int(); ok && v.Kind() != protocol.KindFloat {
		return strconv.FormatInt(i, 10), nil
	}
	if u, ok := v.Uint(); ok && v.Kind() == protocol.KindUint {
		return strconv.FormatUint(u, 10), nil
	}
	return "", fmt.Errorf("want a string or a whole number, got %s", v.Kind())
}

// ValidIdent reports whether s can be a device ident: 1 to [MaxIdentLen]
// bytes of printable UTF-8 characters, without the '#', '+' and '/' that MQTT
// topics reserve (flespi's rule).
func ValidIdent(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty ident", ErrBadMessage)
	}
	if len(s) > MaxIdentLen {
		return fmt.Errorf("%w: ident longer than %d bytes", ErrBadMessage, MaxIdentLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: ident %q is not UTF-8", ErrBadMessage, s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '#' || r == '+' || r == '/' }); i >= 0 {
		return fmt.Errorf("%w: ident %q has a forbidden character at %d", ErrBadMessage, s, i)
	}
	return nil
}

func parseTimestamp(v protocol.Value) (protocol.Value, error) {
	if v.IsNumber() {
		f, _ := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return v, fmt.Errorf("%v is not a Unix time", f)
		}
		return v, nil
	}
	s, ok := v.Str()
	if !ok {
		return v, fmt.Errorf("want Unix seconds or an ISO-8601 string, got %s", v.Kind())
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && !math.IsInf(f, 0) {
		return protocol.Float(f), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil { // no zone: UTC, as flespi reads it
			return protocol.Float(float64(t.UnixMicro()) / 1e6), nil
		}
	}
	return v, fmt.Errorf("%q is neither Unix seconds nor ISO-8601", s)
}

// IngestStats counts what an HTTP or MQTT channel took in.
type IngestStats struct {
	Requests      uint64 // HTTP requests or MQTT deliveries
	MessagesAcked uint64 // messages the handler accepted
	Rejected      uint64 // requests or deliveries refused as bad input
	HandlerErrors uint64
}

type ingestCounters struct {
	requests, acked, rejected, handlerErrors atomic.Uint64
}

func (c *ingestCounters) snapshot() IngestStats {
	return IngestStats{Requests: c.requests.Load(), MessagesAcked: c.acked.Load(), Rejected: c.rejected.Load(), HandlerErrors: c.handlerErrors.Load()}
}

// sameIdent returns the ident all msgs share, or "".
func sameIdent(msgs []protocol.Message) string {
	id := ""
	for i := range msgs {
		m := msgs[i].Ident()
		if i > 0 && m != id {
			return ""
		}
		id = m
	}
	return id
}
