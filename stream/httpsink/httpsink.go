// Package httpsink is the HTTP [stream.Sink]: each batch is one request
// whose body is a JSON array of messages, as flespi's HTTP stream sends
// them.
//
//	sink, err := httpsink.New(&httpsink.Config{
//		URL:    "https://crm.example.com/telematics/%ident%",
//		Header: http.Header{"Authorization": {"Bearer secret"}},
//	})
//
// # Answers
//
// A 2xx answer accepts the batch. 408, 425, 429 and 5xx answers, timeouts
// and connection errors are retried by the stream (a Retry-After header,
// in seconds or as an HTTP date, sets the wait); any other answer (4xx,
// and 3xx other than 307/308, which are followed) refuses the batch for
// good, and the stream isolates the messages the target refuses by halving
// the batch. Config.Retry and Config.Permanent move statuses between the
// two.
//
// # Message ids
//
// Every request carries the ids of its messages in the header
// "Gnssgate-Message-Ids" in the compact form of [stream.Batch.AppendIDs]
// ("<log id>:1001-1500,1502-2000", one id per array element, in order);
// [stream.ParseIDs] reads it. A receiver that keeps the ids it has seen
// drops the duplicates a crash can cause.
//
// # URL masks
//
// The URL may contain masks, %name%, replaced with a message's parameter
// (path-escaped): "%ident%", "%device.id%", "%channel.id%". A batch whose
// messages expand to different URLs is sent as one request per run of
// consecutive messages with the same URL, in order. A message without the
// parameter is refused for good (it could never be delivered).
package httpsink

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/stream"
)

// IDHeader is the request header that lists the messages' ids.
const IDHeader = "Gnssgate-Message-Ids"

// Config configures a [Sink]. URL is required; every other field's zero
// value is documented.
type Config struct {
	// URL is where batches are sent: http:// or https://, optionally with
	// %name% masks (see the package documentation).
	URL string
	// Method is the request method; "" means POST.
	Method string
	// Header is sent with every request (Authorization, for instance).
	// Content-Type is application/json unless set here.
	Header http.Header
	// Gzip compresses request bodies (Content-Encoding: gzip).
	Gzip bool
	// TLS configures https: a private CA, a client certificate
	// (internal/tlsconf builds one from files). nil means the system's
	// roots.
	TLS *tls.Config
	// Client sends the requests; nil means a client of this package with
	// TLS, keep-alive connections and no redirects except 307 and 308.
	// The stream's write timeout bounds each request through its context.
	Client *http.Client
	// Retry lists statuses retried although they are 4xx (users who want a
	// 403 or 404 retried until the target is fixed, say); Permanent lists
	// statuses refused for good although they would be retried (501, say).
	Retry, Permanent []int
	// MaxErrorBody bounds how much of an error answer is read into the
	// error message; 0 means 512 bytes.
	MaxErrorBody int
}

// Sink is the HTTP sink. Safe for concurrent use, though a stream never
// calls it concurrently.
type Sink struct {
	cfg    Config
	method string
	client *http.Client
	tmpl   []segment // the URL, split at masks
	pool   sync.Pool // *bytes.Buffer request bodies
	gz     sync.Pool // *gzip.Writer
}

// segment is a literal piece of the URL template, or a mask naming a
// parameter.
type segment struct {
	lit   string
	param string
}

// ErrBadURL is returned by New for a URL that is not absolute http(s).
var ErrBadURL = errors.New("httpsink: URL must be absolute http:// or https://")

// New returns a sink for cfg.
func New(cfg *Config) (*Sink, error) {
	s := &Sink{cfg: *cfg, method: cfg.Method}
	if s.method == "" {
		s.method = http.MethodPost
	}
	tmpl, err := parseTemplate(cfg.URL)
	if err != nil {
		return nil, err
	}
	// Check the template with every mask filled in.
	probe := expand(nil, tmpl, func(string) (string, bool) { return "x", true })
	u, err := url.Parse(string(probe))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q", ErrBadURL, cfg.URL)
	}
	s.tmpl = tmpl
	s.client = cfg.Client
	if s.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg.TLS
		tr.MaxIdleConnsPerHost = 4
		s.client = &http.Client{
			Transport: tr,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				// A 301/302/303 turns a POST into a GET without its body: a
				// "success" that delivered nothing. Only 307/308 keep it.
				if req.Response != nil && req.Response.StatusCode != 307 && req.Response.StatusCode != 308 {
					return http.ErrUseLastResponse
				}
				if len(via) >= 5 {
					return http.ErrUseLastResponse
				}
				return nil
			},
		}
	}
	s.pool.New = func() any { return new(bytes.Buffer) }
	s.gz.New = func() any { return gzip.NewWriter(io.Discard) }
	return s, nil
}

func parseTemplate(raw string) ([]segment, error) {
	var out []segment
	for rest := raw; rest != ""; {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			out = append(out, segment{lit: rest})
			break
		}
		j := strings.IndexByte(rest[i+1:], '%')
		name := ""
		if j >= 0 {
			name = rest[i+1 : i+1+j]
		}
		if j < 0 || !isParamName(name) {
			// A literal '%' (or a percent-escape such as %20).
			out = append(out, segment{lit: rest[:i+1]})
			rest = rest[i+1:]
			continue
		}
		if i > 0 {
			out = append(out, segment{lit: rest[:i]})
		}
		out = append(out, segment{param: name})
		rest = rest[i+2+j:]
	}
	return out, nil
}

// isParamName accepts flespi parameter names: letters, digits, '.', '_',
// '#' and '-', starting with a letter (so "%20" stays an escape).
func isParamName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '#' || c == '-') {
			return false
		}
	}
	return true
}

func expand(dst []byte, tmpl []segment, value func(string) (string, bool)) []byte {
	for _, seg := range tmpl {
		if seg.param == "" {
			dst = append(dst, seg.lit...)
			continue
		}
		v, _ := value(seg.param)
		dst = append(dst, url.PathEscape(v)...)
	}
	return dst
}

func (s *Sink) masked() bool {
	return slices.ContainsFunc(s.tmpl, func(seg segment) bool { return seg.param != "" })
}

// Write implements [stream.Sink].
func (s *Sink) Write(ctx context.Context, b *stream.Batch) error {
	if !s.masked() {
		return s.post(ctx, s.cfg.URL, b)
	}
	// One request per run of messages with the same URL, in order.
	var be *stream.BatchError
	urls := make([]string, len(b.Messages))
	for i := range b.Messages {
		u, err := s.urlFor(b.Messages[i].Message)
		if err != nil {
			if be == nil {
				be = stream.NewBatchError()
			}
			be.Failed(i, stream.Permanent(err))
		}
		urls[i] = u
	}
	for i := 0; i < len(b.Messages); {
		if urls[i] == "" {
			i++
			continue
		}
		j := i + 1
		for j < len(b.Messages) && urls[j] == urls[i] {
			j++
		}
		sub := &stream.Batch{Stream: b.Stream, Messages: b.Messages[i:j]}
		if err := s.post(ctx, urls[i], sub); err != nil {
			if i == 0 && j == len(b.Messages) {
				return err // one URL for all: the error as it is
			}
			if be == nil {
				be = stream.NewBatchError()
			}
			// This run failed; later runs wait for the retry so that
			// order holds.
			for k := i; k < len(b.Messages); k++ {
				if be.Err(k) == nil {
					be.Failed(k, err)
				}
			}
			return be
		}
		i = j
	}
	if be != nil {
		return be
	}
	return nil
}

func (s *Sink) urlFor(m *protocol.Message) (string, error) {
	var missing string
	u := expand(nil, s.tmpl, func(name string) (string, bool) {
		v, ok := m.Lookup(name)
		if !ok || v.IsNull() {
			missing = name
			return "", false
		}
		if str, ok := v.Str(); ok {
			return str, true
		}
		return string(v.AppendJSON(nil)), true
	})
	if missing != "" {
		return "", fmt.Errorf("httpsink: message has no %q for the URL mask", missing)
	}
	return string(u), nil
}

// post sends one request with b's messages as a JSON array.
func (s *Sink) post(ctx context.Context, target string, b *stream.Batch) error {
	buf := s.pool.Get().(*bytes.Buffer)
	defer s.pool.Put(buf)
	buf.Reset()
	body := b.AppendJSONArray(buf.AvailableBuffer())
	if s.cfg.Gzip {
		raw := body
		var zb bytes.Buffer
		zw := s.gz.Get().(*gzip.Writer)
		zw.Reset(&zb)
		zw.Write(raw)
		zw.Close()
		s.gz.Put(zw)
		body = zb.Bytes()
	} else {
		buf.Write(body) // keep the grown storage for the next batch
		body = buf.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, s.method, target, bytes.NewReader(body))
	if err != nil {
		return stream.Permanent(fmt.Errorf("httpsink: %w", err))
	}
	for k, v := range s.cfg.Header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "gnssgate-stream")
	}
	req.Header.Set(IDHeader, string(b.AppendIDs(nil)))
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("httpsink: %w", err) // network errors and timeouts: retried
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // reuse the connection
		return nil
	}
	max := s.cfg.MaxErrorBody
	if max <= 0 {
		max = 512
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, int64(max)))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	herr := &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	if s.retried(resp.StatusCode) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return stream.RetryAfter(herr, d)
		}
		return herr
	}
	return stream.Permanent(herr)
}

func (s *Sink) retried(code int) bool {
	switch {
	case slices.Contains(s.cfg.Permanent, code):
		return false
	case slices.Contains(s.cfg.Retry, code):
		return true
	}
	return code == 408 || code == 425 || code == 429 || code >= 500
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Code int
	Body string // the start of the answer's body
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("httpsink: %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("httpsink: %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// Close closes idle connections.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
