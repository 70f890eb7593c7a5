package httpsink_test

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/httpsink"
	"github.com/gnssgate/gnssgate/stream/streamtest"
)

// receiver is a real HTTP server that decodes what the sink posts.
type receiver struct {
	streamtest.Collector
	*httptest.Server
	requests atomic.Int64
	paths    sync.Map // path → count
	// hook, when set, answers instead of the receiver (fault injection).
	hook func(w http.ResponseWriter, r *http.Request, n int64) bool
	mu   sync.Mutex
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setHook(h func(w http.ResponseWriter, r *http.Request, n int64) bool) {
	rc.mu.Lock()
	rc.hook = h
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	n := rc.requests.Add(1)
	rc.mu.Lock()
	hook := rc.hook
	rc.mu.Unlock()
	if hook != nil && hook(w, r, n) {
		return
	}
	if rc.Down() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return // reset mid-body: the sink sees an error
	}
	msgs, err := protocol.UnmarshalMessages(data)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	ids, err := stream.ParseIDs(r.Header.Get(httpsink.IDHeader), 0)
	if err != nil || len(ids) != len(msgs) {
		http.Error(w, "bad ids header", 400)
		return
	}
	for i := range msgs {
		if rc.Refused(&msgs[i]) {
			http.Error(w, "message refused", http.StatusUnprocessableEntity)
			return
		}
	}
	got := make([]streamtest.Received, len(msgs))
	for i := range msgs {
		got[i] = streamtest.Received{ID: ids[i], Message: msgs[i]}
	}
	rc.Add(got...)
	c, _ := rc.paths.LoadOrStore(r.URL.Path, new(atomic.Int64))
	c.(*atomic.Int64).Add(int64(len(msgs)))
	w.WriteHeader(http.StatusNoContent)
}

func TestConformance(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		rc := newReceiver(t)
		sink, err := httpsink.New(&httpsink.Config{URL: rc.URL + "/in"})
		if err != nil {
			t.Fatal(err)
		}
		return sink, rc
	}, streamtest.Options{})
}

func TestConformanceGzipMasks(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Sink, streamtest.Target) {
		rc := newReceiver(t)
		sink, err := httpsink.New(&httpsink.Config{URL: rc.URL + "/in/%ident%", Gzip: true})
		if err != nil {
			t.Fatal(err)
		}
		return sink, rc
	}, streamtest.Options{})
}

// runStream streams n messages through sink and waits until all are
// committed.
func runStream(t *testing.T, sink stream.Sink, n int, cfg stream.Config) *stream.Stream {
	t.Helper()
	l := memory.New(nil).Log()
	var batch []protocol.Message
	for i := 0; i < n; i++ {
		batch = append(batch, streamtest.Message("356307042441013", i))
	}
	if _, err := l.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.StartAt = "t", stream.StartOldest
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = time.Millisecond, 20*time.Millisecond
	}
	s, err := stream.New(l, sink, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if next, _ := l.Cursor(context.Background(), s.Consumer()); next == uint64(n)+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %+v", s.Stats())
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
	return s
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name string
		hook func(w http.ResponseWriter, r *http.Request, n int64) bool
		cfg  stream.Config
		// checks on the stream afterwards
		retries int64
	}{
		{"500s", func(w http.ResponseWriter, r *http.Request, n int64) bool {
			if n <= 3 {
				http.Error(w, "boom", 500)
				return true
			}
			return false
		}, stream.Config{}, 3},
		{"429 with Retry-After", func(w http.ResponseWriter, r *http.Request, n int64) bool {
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "slow down", 429)
				return true
			}
			return false
		}, stream.Config{}, 1},
		{"slow answer past the write timeout", func(w http.ResponseWriter, r *http.Request, n int64) bool {
			if n == 1 {
				time.Sleep(300 * time.Millisecond)
				return false // it still stores them: a duplicate follows
			}
			return false
		}, stream.Config{WriteTimeout: 50 * time.Millisecond}, 1},
		{"reset mid-body", func(w http.ResponseWriter, r *http.Request, n int64) bool {
			if n == 1 {
				io.ReadFull(r.Body, make([]byte, 10))
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
				return true
			}
			return false
		}, stream.Config{}, 1},
		{"redirect that would turn POST into GET", func(w http.ResponseWriter, r *http.Request, n int64) bool {
			if n == 1 {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
				return true
			}
			return false
		}, stream.Config{OnReject: stream.RejectStop}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := newReceiver(t)
			rc.setHook(c.hook)
			sink, _ := httpsink.New(&httpsink.Config{URL: rc.URL + "/in"})
			if c.cfg.OnReject == stream.RejectStop {
				l := memory.New(nil).Log()
				m := streamtest.Message("a", 1)
				l.Append(context.Background(), []protocol.Message{m})
				s, _ := stream.New(l, sink, &stream.Config{Name: "t", StartAt: stream.StartOldest, OnReject: stream.RejectStop})
				err := s.Run(context.Background())
				var se *httpsink.StatusError
				if !errors.Is(err, stream.ErrStopped) || !errors.As(err, &se) || se.Code != 302 {
					t.Fatalf("Run = %v, want a refused 302", err)
				}
				return
			}
			s := runStream(t, sink, 50, c.cfg)
			st := s.Stats()
			if st.Retries != c.retries || st.Accepted != 50 {
				t.Fatalf("stats %+v, want %d retries, 50 accepted", st, c.retries)
			}
			seen := map[string]bool{}
			for _, r := range rc.Received() {
				seen[r.ID] = true
			}
			if len(seen) != 50 {
				t.Fatalf("receiver holds %d distinct ids, want 50", len(seen))
			}
		})
	}
}

// A 400 for one message of a batch of 200: the stream finds it by halving,
// every other message is delivered, and it costs about 2·log2(200) requests.
func TestOneBadMessageIsIsolated(t *testing.T) {
	rc := newReceiver(t)
	rc.Reject(func(m *protocol.Message) bool {
		ts, _ := m.Float(protocol.ParamTimestamp)
		return ts == 1.7e9+123
	})
	sink, _ := httpsink.New(&httpsink.Config{URL: rc.URL + "/in"})
	dl := memory.New(nil).Log()
	s := runStream(t, sink, 200, stream.Config{MaxBatch: 200, DeadLetter: dl})
	st := s.Stats()
	if st.Accepted != 199 || st.DeadLettered != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := rc.requests.Load(); n > 20 {
		t.Fatalf("%d requests to isolate one message in 200", n)
	}
	recs, _ := dl.Read(context.Background(), 1, 5)
	if len(recs) != 1 {
		t.Fatalf("dead letters: %d", len(recs))
	}
	if r, _ := recs[0].Message.Str(stream.ParamRejectReason); !strings.Contains(r, "422") {
		t.Fatalf("reason %q", r)
	}
}

func TestStatusLists(t *testing.T) {
	rc := newReceiver(t)
	rc.setHook(func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if n <= 2 {
			http.Error(w, "no such tenant yet", 404)
			return true
		}
		return false
	})
	sink, _ := httpsink.New(&httpsink.Config{URL: rc.URL + "/in", Retry: []int{404}})
	s := runStream(t, sink, 5, stream.Config{})
	if st := s.Stats(); st.Retries != 2 || st.Accepted != 5 {
		t.Fatalf("404 listed in Retry was not retried: %+v", s.Stats())
	}
}

func TestMaskWithoutParameterIsRefused(t *testing.T) {
	rc := newReceiver(t)
	sink, _ := httpsink.New(&httpsink.Config{URL: rc.URL + "/d/%device.id%"})
	s := runStream(t, sink, 3, stream.Config{OnReject: stream.RejectSkip})
	if st := s.Stats(); st.Rejected != 3 {
		t.Fatalf("messages without device.id: %+v", st)
	}
}

func TestMasksSplitByURL(t *testing.T) {
	rc := newReceiver(t)
	sink, _ := httpsink.New(&httpsink.Config{URL: rc.URL + "/d/%ident%/in?x=%20"})
	l := memory.New(nil).Log()
	var batch []protocol.Message
	for i := 0; i < 30; i++ {
		batch = append(batch, streamtest.Message([]string{"a", "b c", "a"}[i/10], i))
	}
	l.Append(context.Background(), batch)
	s, _ := stream.New(l, sink, &stream.Config{Name: "t", StartAt: stream.StartOldest})
	ctx, cancel := context.WithCancel(context.Background())
	go s.Run(ctx)
	defer cancel()
	for deadline := time.Now().Add(10 * time.Second); len(rc.Received()) < 30 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	a, _ := rc.paths.Load("/d/a/in")
	bc, _ := rc.paths.Load("/d/b c/in")
	if a == nil || bc == nil || a.(*atomic.Int64).Load() != 20 || bc.(*atomic.Int64).Load() != 10 {
		t.Fatalf("paths: a=%v b c=%v", a, bc)
	}
}

func TestTLSWithPrivateCAAndClientCertificate(t *testing.T) {
	ca := testcert.NewCA(t)
	srvPair, cliPair := ca.Server(), ca.Client("gateway")
	rc := &receiver{}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	scfg, err := tlsconf.Files{CA: ca.File, Cert: srvPair.CertFile, Key: srvPair.KeyFile}.Server()
	if err != nil {
		t.Fatal(err)
	}
	rc.TLS = scfg
	rc.StartTLS()
	defer rc.Close()
	ccfg, err := tlsconf.Files{CA: ca.File, Cert: cliPair.CertFile, Key: cliPair.KeyFile}.Client()
	if err != nil {
		t.Fatal(err)
	}
	sink, _ := httpsink.New(&httpsink.Config{URL: rc.URL + "/in", TLS: ccfg})
	runStream(t, sink, 10, stream.Config{})
	if n := len(rc.Received()); n != 10 {
		t.Fatalf("received %d over TLS", n)
	}
	// Without the client certificate the server refuses the handshake:
	// retried, never accepted.
	bare, _ := tlsconf.Files{CA: ca.File}.Client()
	sink2, _ := httpsink.New(&httpsink.Config{URL: rc.URL + "/in", TLS: bare})
	err = sink2.Write(context.Background(), &stream.Batch{})
	if err == nil || stream.IsPermanent(err) {
		t.Fatalf("Write without a client certificate = %v, want a retried error", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "/relative", "http://"} {
		if _, err := httpsink.New(&httpsink.Config{URL: u}); !errors.Is(err, httpsink.ErrBadURL) {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
}
