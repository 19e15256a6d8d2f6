package render

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheHitMissEvict(t *testing.T) {
	c := NewCache(2)
	builds := 0
	build := func(k Key) func() *Chrome {
		return func() *Chrome { builds++; return &Chrome{Tenant: k.Tenant, Version: k.Version} }
	}
	k1, k2, k3 := Key{"a", 1, "zh", false}, Key{"b", 1, "zh", false}, Key{"c", 1, "zh", false}
	if got := c.Get(k1, testNow, build(k1)); got.Tenant != "a" || builds != 1 {
		t.Fatal("miss not built")
	}
	first := c.Get(k1, testNow, build(k1))
	if builds != 1 {
		t.Fatal("hit rebuilt")
	}
	c.Get(k2, testNow, build(k2))
	c.Get(k1, testNow, build(k1)) // k1 most recent: k2 is evicted next
	c.Get(k3, testNow, build(k3))
	if c.Len() != 2 || builds != 3 {
		t.Fatalf("len %d builds %d", c.Len(), builds)
	}
	if got := c.Get(k1, testNow, build(k1)); got != first || builds != 3 {
		t.Error("k1 was evicted")
	}
	c.Get(k2, testNow, build(k2))
	if builds != 4 {
		t.Error("k2 was not evicted")
	}
	// Keys differing only in locale or preview are distinct.
	c2 := NewCache(0)
	n := 0
	for _, k := range []Key{{"a", 1, "zh", false}, {"a", 1, "en", false}, {"a", 1, "zh", true}, {"a", 2, "zh", false}} {
		c2.Get(k, testNow, func() *Chrome { n++; return &Chrome{} })
	}
	if n != 4 || c2.Len() != 4 {
		t.Errorf("distinct keys: %d builds, len %d", n, c2.Len())
	}
}

func TestCacheExpiry(t *testing.T) {
	c := NewCache(10)
	k := Key{"a", 1, "en", false}
	n := 0
	build := func() *Chrome {
		n++
		return &Chrome{Version: n, ValidUntil: testNow.Add(time.Hour)}
	}
	c.Get(k, testNow, build)
	if c.Get(k, testNow.Add(59*time.Minute), build).Version != 1 {
		t.Error("rebuilt before ValidUntil")
	}
	if c.Get(k, testNow.Add(time.Hour), build).Version != 2 {
		t.Error("not rebuilt at ValidUntil")
	}
	if c.Len() != 1 {
		t.Errorf("len %d", c.Len())
	}
	// A zero ValidUntil never expires.
	k2 := Key{"b", 1, "en", false}
	c.Get(k2, testNow, func() *Chrome { return &Chrome{Tenant: "b"} })
	if c.Get(k2, testNow.Add(1000*time.Hour), func() *Chrome { return nil }) == nil {
		t.Error("zero ValidUntil expired")
	}
	// nil builds are returned, not cached.
	k3 := Key{"c", 1, "en", false}
	if c.Get(k3, testNow, func() *Chrome { return nil }) != nil || c.Get(k3, testNow, build) == nil {
		t.Error("nil cached")
	}
}

func TestCacheInvalidate(t *testing.T) {
	c := NewCache(10)
	for _, tn := range []string{"a", "a", "b"} {
		c.Get(Key{tn, c.Len(), "en", false}, testNow, func() *Chrome { return &Chrome{} })
	}
	c.Invalidate("a")
	if c.Len() != 1 {
		t.Errorf("len %d after invalidate", c.Len())
	}
	// A build in flight during Invalidate is returned but not cached.
	k := Key{"x", 1, "en", false}
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan *Chrome)
	go func() {
		done <- c.Get(k, testNow, func() *Chrome { close(started); <-release; return &Chrome{Tenant: "stale"} })
	}()
	<-started
	c.Invalidate("x")
	close(release)
	if got := <-done; got == nil || got.Tenant != "stale" {
		t.Fatal("in-flight build not returned")
	}
	if got := c.Get(k, testNow, func() *Chrome { return &Chrome{Tenant: "fresh"} }); got.Tenant != "fresh" {
		t.Error("stale build was cached")
	}
}

func TestCacheSingleflight(t *testing.T) {
	c := NewCache(10)
	k := Key{"a", 1, "en", false}
	var builds atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]*Chrome, 50)
	for i := range results {
		wg.Go(func() {
			results[i] = c.Get(k, testNow, func() *Chrome {
				builds.Add(1)
				<-release
				return Render("a", 1, sampleDoc(), "en", DefaultUpstream(), RenderOptions{Now: testNow})
			})
		})
	}
	time.Sleep(20 * time.Millisecond) // let the burst pile up on the one build
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds for one burst", n)
	}
	for _, r := range results {
		if r == nil || r != results[0] {
			t.Fatal("callers got different chromes")
		}
	}
}

func TestCachePanickingBuild(t *testing.T) {
	c := NewCache(10)
	k := Key{"a", 1, "en", false}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		c.Get(k, testNow, func() *Chrome { panic("boom") })
	}()
	if got := c.Get(k, testNow, func() *Chrome { return &Chrome{Tenant: "ok"} }); got == nil || got.Tenant != "ok" {
		t.Error("key stuck after a panicking build")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(16)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := Key{fmt.Sprint("t", (g*7+i)%40), i % 3, "en", i%2 == 0}
				now := testNow.Add(time.Duration(i) * time.Minute)
				ch := c.Get(k, now, func() *Chrome { return &Chrome{Tenant: k.Tenant, ValidUntil: now.Add(10 * time.Minute)} })
				if ch.Tenant != k.Tenant {
					t.Error("wrong chrome")
					return
				}
				if i%100 == 0 {
					c.Invalidate(k.Tenant)
				}
			}
		})
	}
	wg.Wait()
	if c.Len() > 16 {
		t.Errorf("len %d beyond capacity", c.Len())
	}
}
