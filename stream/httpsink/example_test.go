package httpsink_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/httpsink"
)

// A stream POSTs the log's messages to an HTTP endpoint as JSON arrays,
// with a header the target needs. A 2xx answer commits the batch; 429,
// 5xx and network errors are retried; other 4xx reject it.
func Example() {
	got := make(chan string, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, r.Header.Get("Authorization"), body)
	}))
	defer target.Close()

	sink, err := httpsink.New(&httpsink.Config{URL: target.URL + "/gps/%ident%",
		Header: http.Header{"Authorization": {"Bearer crm-secret"}}})
	if err != nil {
		panic(err)
	}
	db := memory.New(nil)
	defer db.Close()
	s, err := stream.New(db.Log(), sink, &stream.Config{Name: "crm", MaxWait: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := s.Open(ctx); err != nil {
		panic(err)
	}
	var m protocol.Message
	m.SetString("ident", "352093081452251")
	m.SetFloat("position.speed", 42)
	if _, err := db.Log().Append(ctx, []protocol.Message{m}); err != nil {
		panic(err)
	}
	go s.Run(ctx)
	fmt.Println(<-got)
	// Output:
	// POST /gps/352093081452251 Bearer crm-secret [{"ident":"352093081452251","position.speed":42}]
}
