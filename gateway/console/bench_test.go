package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// BenchmarkProxyOverhead compares the same upstream page fetched directly
// and through the gateway, over keep-alive connections, in one run:
//
//	go test -run '^$' -bench ProxyOverhead -benchmem ./gateway
func BenchmarkProxyOverhead(b *testing.B) {
	page := []byte("<!DOCTYPE html><html><head><title>x</title></head><body>" + strings.Repeat("<p>console</p>", 300) + "</body></html>")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer up.Close()
	g := gatewaytest.StartGateway(b, up.URL)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	for _, target := range []struct{ name, url string }{
		{"direct", up.URL + "/overview"},
		{"livery", g.ConsoleURL + "/overview"},
	} {
		b.Run(target.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(target.url)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || n != int64(len(page)) {
						b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
					}
				}
			})
		})
	}
}
