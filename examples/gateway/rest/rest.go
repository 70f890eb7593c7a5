package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/selector"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/stream"
)

// DefaultMaxBody bounds a request body when API.MaxBody is 0.
const DefaultMaxBody = 4 << 20

// API is flespi's REST API over a gateway's registry and store. It is an
// http.Handler; mount it at the root of the gateway's HTTP server.
type API struct {
	Registry *registry.Registry
	Store    store.Store
	// Live answers what only the running gateway knows (connections,
	// stream counters, commands); nil answers as if nothing ran.
	Live Live
	// Ingest stores messages POSTed to a device; nil refuses such POSTs.
	Ingest func(ctx context.Context, msgs []protocol.Message) error
	// LogMaxAge is the log's retention, reported as channels'
	// messages_ttl.
	LogMaxAge time.Duration
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Refused, when set, counts attempts to reach another account's
	// objects (see the Refusal kinds); it must not block.
	Refused func(kind string)
}

// Live is the running gateway's side of the API.
type Live interface {
	// ChannelState reports a channel's listeners and connections.
	ChannelState(id int64) ChannelState
	// Connections lists a channel's connections (ident "" for all), or a
	// device's (channel 0).
	Connections(channelID int64, ident string) []channel.ConnInfo
	// CloseConnections closes them and says how many.
	CloseConnections(channelID int64, ident string) int
	// DeviceState reports whether a device is connected and when it was
	// last active.
	DeviceState(ident string) DeviceState
	// StreamState reports a stream's counters.
	StreamState(id int64) (stream.Stats, bool)
	// Send queues a command for a device.
	Send(ctx context.Context, d registry.Device, cmd Command) (Command, error)
	// Commands lists a device's commands, queued and answered.
	Commands(deviceID int64) []Command
	// Recordings serves the traffic endpoints (traffic.go).
	Recordings
}

// ChannelState is a channel's live state.
type ChannelState struct {
	URI              string `json:"uri"`
	Running          bool   `json:"running"`
	Error            string `json:"error,omitempty"`
	ConnectionsCount int    `json:"connections_count"`
}

// DeviceState is a device's live state.
type DeviceState struct {
	Connected  bool    `json:"connected"`
	LastActive float64 `json:"last_active"`
}

// Command is a device command and what became of it.
type Command struct {
	ID         int64          `json:"id"`
	DeviceID   int64          `json:"device_id"`
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties"`
	TTL        int64          `json:"ttl"`
	// Status is "queued", "sent", "replied", "expired" or "failed".
	Status    string  `json:"status"`
	Timestamp float64 `json:"timestamp"`
	Response  string  `json:"response,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Error is an API error: its status code and reason, answered as
// {"errors":[{"code":N,"reason":"…"}]}.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return e.Reason }

func errf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Reason: fmt.Sprintf(format, args...)}
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, ok := a.authenticate(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `FlespiToken realm="gnssgate"`)
		writeError(w, errf(http.StatusUnauthorized, "a valid token is required: Authorization: FlespiToken <token>"))
		return
	}
	maxBody := a.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			writeError(w, errf(http.StatusBadRequest, "reading the body: %v", err))
			return
		}
		if int64(len(body)) > maxBody {
			writeError(w, errf(http.StatusRequestEntityTooLarge, "body larger than %d bytes", maxBody))
			return
		}
	}
	var cid int64
	if h := r.Header.Get(CIDHeader); h != "" {
		var err error
		if cid, err = strconv.ParseInt(strings.TrimSpace(h), 10, 64); err != nil || cid <= 0 {
			writeError(w, errf(http.StatusBadRequest, "%s: not an account id", CIDHeader))
			return
		}
	}
	status, out := a.DoAs(r.Context(), tok, cid, r.Method, r.URL.EscapedPath(), r.URL.Query(), body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(out)
}

// Authenticate returns the token a request presents ("FlespiToken KEY",
// "Bearer KEY", or the bare key).
func (a *API) authenticate(header string) (registry.Token, bool) {
	key := strings.TrimSpace(header)
	for _, scheme := range []string{"FlespiToken ", "Bearer "} {
		if len(key) > len(scheme) && strings.EqualFold(key[:len(scheme)], scheme) {
			key = strings.TrimSpace(key[len(scheme):])
			break
		}
	}
	return a.Registry.Authenticate(key, a.now())
}

// Token returns the token a credential presents, written as in the
// Authorization header ("FlespiToken KEY", "Bearer KEY" or the bare key):
// REST over MQTT on an external broker carries it in a user property.
func (a *API) Token(credential string) (registry.Token, bool) { return a.authenticate(credential) }

func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	w.Write(errorBody(e))
}

func errorBody(errs ...*Error) []byte {
	type item struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}
	out := struct {
		Errors []item `json:"errors"`
	}{}
	for _, e := range errs {
		out.Errors = append(out.Errors, item{e.Status, e.Reason})
	}
	b, _ := json.Marshal(out)
	return b
}

// CIDHeader selects the account a request acts in: the token's own, or
// one of its subaccounts (flespi's "x-flespi-cid").
const CIDHeader = "X-Flespi-Cid"

// Do serves one request for tok in its own account: method, the escaped
// path, its query and body. It returns the status and the JSON answer.
func (a *API) Do(ctx context.Context, tok registry.Token, method, path string, query url.Values, body []byte) (int, []byte) {
	return a.DoAs(ctx, tok, 0, method, path, query, body)
}

// DoAs is Do in account cid: the token's (0) or one of its subaccounts,
// which only a token allowed into subaccounts may choose. The
// REST-over-MQTT bridge calls it directly.
func (a *API) DoAs(ctx context.Context, tok registry.Token, cid int64, method, path string, query url.Values, body []byte) (int, []byte) {
	if cid == 0 {
		cid = tok.CID
	}
	if !a.MayActIn(tok, cid) {
		// The same answer whether the account exists or not: an id cannot
		// be probed.
		a.refused(RefusedAccount)
		e := errf(http.StatusForbidden, "the token cannot act in account %d", cid)
		return e.Status, errorBody(e)
	}
	segs, err := selector.SplitPath(path)
	if err != nil {
		return http.StatusBadRequest, errorBody(errf(http.StatusBadRequest, "path: %v", err))
	}
	if len(segs) > 0 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // a trailing slash
	}
	if err := a.allowed(tok, method, segs); err != nil {
		return err.Status, errorBody(err)
	}
	req := &request{api: a, ctx: ctx, tok: tok, cid: cid, method: strings.ToUpper(method), segs: segs, query: query, body: body}
	out, err := req.route()
	if err != nil {
		var pe *partialError
		if errors.As(err, &pe) {
			return pe.status, pe.body
		}
		var e *Error
		if !errors.As(err, &e) {
			e = classify(err)
		}
		if e.Status >= 500 {
			a.logger().Error("rest: request failed", "method", method, "path", path, "err", err)
		}
		return e.Status, errorBody(e)
	}
	return http.StatusOK, out
}

// classify maps registry, store and parse errors to statuses.
func classify(err error) *Error {
	var ve *registry.ValidationError
	var se *filter.SyntaxError
	var le *registry.LimitError
	switch {
	case errors.As(err, &le):
		return &Error{http.StatusForbidden, err.Error()}
	case errors.As(err, &ve), errors.As(err, &se), errors.Is(err, store.ErrInvalid):
		return &Error{http.StatusBadRequest, err.Error()}
	case errors.Is(err, registry.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return &Error{http.StatusNotFound, err.Error()}
	case errors.Is(err, registry.ErrConflict):
		return &Error{http.StatusConflict, err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{http.StatusServiceUnavailable, err.Error()}
	}
	return &Error{http.StatusInternalServerError, err.Error()}
}

// allowed checks tok's ACL for a call. A token without an ACL may do
// everything within its account.
func (a *API) allowed(tok registry.Token, method string, segs []string) *Error {
	if tok.ACL == nil {
		return nil
	}
	uri := strings.Join(segs, "/")
	for _, rule := range tok.ACL.REST {
		if (len(rule.Methods) == 0 || slices.ContainsFunc(rule.Methods, func(m string) bool { return strings.EqualFold(m, method) })) &&
			filter.Glob(rule.URI, uri) {
			return nil
		}
	}
	return errf(http.StatusForbidden, "the token's ACL does not allow %s %s", method, uri)
}

// request is one API call being served.
type request struct {
	api    *API
	ctx    context.Context
	tok    registry.Token
	cid    int64 // the account the call acts in
	method string
	segs   []string
	query  url.Values
	body   []byte
}

func (q *request) route() ([]byte, error) {
	s := q.segs
	switch {
	case len(s) >= 2 && s[0] == "gw" && s[1] == "channels":
		return q.channels(s[2:])
	case len(s) >= 2 && s[0] == "gw" && s[1] == "devices":
		return q.devices(s[2:])
	case len(s) >= 2 && s[0] == "gw" && s[1] == "streams":
		return q.streams(s[2:])
	case len(s) >= 2 && s[0] == "platform" && s[1] == "tokens":
		return q.tokens(s[2:])
	case len(s) >= 2 && s[0] == "platform" && s[1] == "subaccounts":
		return q.subaccounts(s[2:])
	case len(s) >= 2 && s[0] == "gw" && s[1] == "expressions":
		return q.expressions(s[2:])
	case len(s) >= 2 && s[0] == "mqtt" && s[1] == "sessions":
		return q.mqttSessions(s[2:])
	case len(s) >= 2 && s[0] == "mqtt" && s[1] == "messages":
		return q.mqttMessages(s[2:])
	}
	return nil, errf(http.StatusNotFound, "no such API: /%s", strings.Join(s, "/"))
}

// visible reports whether the call may see an object of account cid: one
// of the account it acts in, or of that account's subaccounts when the
// token is allowed into them.
func (q *request) visible(cid int64) bool {
	if cid == q.cid {
		return true
	}
	return subaccountsAllowed(q.tok) && q.api.Registry.Within(cid, q.cid)
}

// subaccountsAllowed reports whether a token may see and act in its
// account's subaccounts: a token without an ACL may, one with an ACL when
// it says so.
func subaccountsAllowed(t registry.Token) bool { return t.ACL == nil || t.ACL.Subaccounts }

func (q *request) methodNotAllowed() error {
	return errf(http.StatusMethodNotAllowed, "%s is not allowed on /%s", q.method, strings.Join(q.segs, "/"))
}

// items decodes a POST body: an array of objects, or one object.
func (q *request) items() ([]json.RawMessage, error) {
	b := strings.TrimSpace(string(q.body))
	if b == "" {
		return nil, errf(http.StatusBadRequest, "a JSON body is required")
	}
	if b[0] == '{' {
		return []json.RawMessage{json.RawMessage(b)}, nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal([]byte(b), &out); err != nil {
		return nil, errf(http.StatusBadRequest, "body: want a JSON array of objects or one object: %v", err)
	}
	if len(out) > 10000 {
		return nil, errf(http.StatusBadRequest, "at most 10000 objects per request")
	}
	return out, nil
}

// decodeStrict reads an object's fields into v, refusing unknown ones.
func decodeStrict(raw []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errf(http.StatusBadRequest, "%v", err)
	}
	return nil
}

// result wraps items as {"result":[…]}.
func result(items [][]byte) []byte {
	out := []byte(`{"result":[`)
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	return append(out, "]}"...)
}

// resultWithErrors answers a POST of several objects: what was created and
// what failed, with each failure's index.
func resultWithErrors(items [][]byte, errs []indexedError) ([]byte, error) {
	if len(errs) == 0 {
		return result(items), nil
	}
	if len(items) == 0 && len(errs) == 1 {
		return nil, errs[0].err
	}
	type item struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
		Index  int    `json:"index"`
	}
	var list []item
	status := http.StatusBadRequest
	for _, e := range errs {
		var ae *Error
		if !errors.As(e.err, &ae) {
			ae = classify(e.err)
		}
		status = ae.Status
		list = append(list, item{ae.Status, ae.Reason, e.index})
	}
	eb, _ := json.Marshal(list)
	out := result(items)
	out = append(out[:len(out)-1], `,"errors":`...)
	out = append(append(out, eb...), '}')
	if len(items) == 0 {
		return nil, &partialError{status: status, body: out}
	}
	return out, nil
}

type indexedError struct {
	index int
	err   error
}

// partialError carries a complete answer body for a failed request.
type partialError struct {
	status int
	body   []byte
}

func (e *partialError) Error() string { return string(e.body) }
