package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/tidwall/gjson"
)

// DefaultMaxBodySize bounds an HTTP channel request body when
// [HTTP.MaxBodySize] is zero.
const DefaultMaxBodySize = 1 << 20

// HTTP is flespi's HTTP channel: an [http.Handler] that accepts POSTed JSON
// messages (an array of objects, or one object). "ident" is required,
// "timestamp" is Unix seconds or ISO-8601 (the server time when absent),
// and unknown parameters are kept. The channel answers 200 only after
// Handler accepted every message of the request; bad input gets a 4xx with
// the reason in the body; a handler error gets 503, so the client retries.
// Its zero value, with Handler set, is ready to use.
type HTTP struct {
	// Handler receives each request's messages in one call; required.
	Handler Handler
	// ChannelID and ProtocolID are stamped as "channel.id" and
	// "protocol.id"; zero leaves them out.
	ChannelID, ProtocolID int64
	// IdentField names the parameter that holds the ident; "" means
	// "ident". The value is copied to "ident".
	IdentField string
	// MessagesPath, when set, is a gjson path (github.com/tidwall/gjson
	// syntax, e.g. "data.items") to the message array or object inside a
	// body that wraps them, as flespi's "object plus JSON path" option.
	MessagesPath string
	// MaxBodySize bounds a request body; 0 means [DefaultMaxBodySize].
	MaxBodySize int64
	// MaxMessages bounds the messages in one request; 0 means no limit
	// beyond MaxBodySize.
	MaxMessages int
	// Decoder, when set, replaces the JSON rules: it turns each request
	// (GET or POST) into messages. This is where a device protocol spoken
	// over HTTP plugs in, such as OsmAnd / Traccar Client (query string
	// id=…&lat=…&lon=…&timestamp=…), which a protocol/osmand package is to
	// provide. Its messages then follow the same ident rule and stamping.
	Decoder RequestDecoder
	// Logger receives the channel's logs; nil means slog.Default().
	Logger *slog.Logger

	stats ingestCounters
}

// RequestDecoder turns one HTTP request of a device protocol into
// messages. body is the request body, already read and bounded by
// [HTTP.MaxBodySize]. An error wrapping [ErrBadMessage] or
// [protocol.ErrMalformed] answers 400; any other error answers 500.
type RequestDecoder interface {
	DecodeRequest(r *http.Request, body []byte) ([]protocol.Message, error)
}

// Stats returns the channel's counters.
func (h *HTTP) Stats() IngestStats { return h.stats.snapshot() }

func (h *HTTP) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// ServeHTTP implements [http.Handler].
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.stats.requests.Add(1)
	if h.Handler == nil {
		httpError(w, http.StatusInternalServerError, ErrNoHandler.Error())
		return
	}
	allowed := r.Method == http.MethodPost || (h.Decoder != nil && r.Method == http.MethodGet)
	if !allowed {
		h.stats.rejected.Add(1)
		if h.Decoder != nil {
			w.Header().Set("Allow", "GET, POST")
		} else {
			w.Header().Set("Allow", "POST")
		}
		httpError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	max := h.MaxBodySize
	if max <= 0 {
		max = DefaultMaxBodySize
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		h.stats.rejected.Add(1)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", max))
			return
		}
		httpError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	now := time.Now()
	rules := jsonRules{identField: h.IdentField, maxMsgs: h.MaxMessages}
	var msgs []protocol.Message
	if h.Decoder != nil {
		msgs, err = h.Decoder.DecodeRequest(r, body)
		if err == nil {
			for i := range msgs {
				if err = rules.fix(&msgs[i], "", now); err != nil {
					err = &MessageError{Index: i, Err: err}
					break
				}
			}
		}
	} else {
		payload := body
		if h.MessagesPath != "" {
			if !gjson.ValidBytes(body) {
				err = fmt.Errorf("%w: body is not JSON", ErrBadMessage)
			} else if r := gjson.GetBytes(body, h.MessagesPath); !r.Exists() {
				err = fmt.Errorf("%w: nothing at %q in the body", ErrBadMessage, h.MessagesPath)
			} else {
				payload = []byte(r.Raw)
			}
		}
		if err == nil {
			msgs, err = rules.decode(payload, "", now)
		}
	}
	if err != nil {
		h.stats.rejected.Add(1)
		if errors.Is(err, ErrBadMessage) || errors.Is(err, protocol.ErrMalformed) {
			httpError(w, http.StatusBadRequest, err.Error())
		} else {
			h.logger().Error("channel: HTTP decoder failed", "err", err)
			httpError(w, http.StatusInternalServerError, err.Error())
		}
		return
	}
	if len(msgs) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	c := &Conn{network: "http", peer: r.RemoteAddr, since: now}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.remote = net.TCPAddrFromAddrPort(ap)
	}
	c.ctx, c.cancel = context.WithCancel(r.Context())
	defer c.cancel()
	c.last.Store(now.UnixNano())
	if id := sameIdent(msgs); id != "" {
		c.ident.Store(&id)
	}
	c.msgsIn.Store(uint64(len(msgs)))
	c.bytesIn.Store(uint64(len(body)))
	stampMessages(msgs, float64(now.UnixMicro())/1e6, h.ChannelID, h.ProtocolID, r.RemoteAddr, "")
	if err := h.Handler.HandleMessages(c.ctx, c, msgs); err != nil {
		h.stats.handlerErrors.Add(1)
		h.logger().Warn("channel: handler refused HTTP messages", "peer", r.RemoteAddr, "messages", len(msgs), "err", err)
		w.Header().Set("Retry-After", "5")
		httpError(w, http.StatusServiceUnavailable, "messages not stored: "+err.Error())
		return
	}
	h.stats.acked.Add(uint64(len(msgs)))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"accepted":`+strconv.Itoa(len(msgs))+"}\n")
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Write(append(b, '\n'))
}
