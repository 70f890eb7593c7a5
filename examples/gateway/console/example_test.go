package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gnssgate/gnssgate/examples/gateway/console"
)

// The console mounts on the gateway's HTTP mux; in the gateway binary:
//
//	con, _ := console.New(console.Config{Tiles: cfg.ConsoleTiles,
//		MQTTWebSocket: func() string { return n.Addrs().MQTTWebSocket }})
//	n.SetHTTPHandlers(func(mux *http.ServeMux) { con.Mount(mux) })
func Example() {
	con, err := console.New(console.Config{Tiles: console.DefaultTiles})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	con.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.URL + "/")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"))

	resp, err = http.Get(srv.URL + console.Prefix)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), "; ") {
		if strings.HasPrefix(d, "script-src") || strings.HasPrefix(d, "img-src") {
			fmt.Println(d)
		}
	}
	// Output:
	// 302 /console/
	// script-src 'self'
	// img-src 'self' data: https://tile.openstreetmap.org
}
