package console

import (
	"net/url"
	"testing"
)

// Upstreams no tenant uses any more are dropped; those in use keep their
// client (and its keep-alive connections).
func TestPruneUpstreams(t *testing.T) {
	p := &Proxy{upstreams: newUpstreams(ProxyOptions{MaxConnsPerHost: 4})}
	old, _ := url.Parse("https://old.example:8443/console")
	cur, _ := url.Parse("https://cur.example/")
	hc := p.upstreams.client(cur)
	p.upstreams.client(old)
	if n := p.PruneUpstreams([]*url.URL{cur}); n != 1 {
		t.Fatalf("pruned %d; want 1", n)
	}
	if p.upstreams.client(cur) != hc {
		t.Error("an upstream in use lost its client")
	}
	if len(p.upstreams.clients) != 1 {
		t.Errorf("clients = %d; want 1", len(p.upstreams.clients))
	}
	if n := p.PruneUpstreams([]*url.URL{cur}); n != 0 {
		t.Errorf("second prune dropped %d", n)
	}
}
