package branded

import (
	"bytes"
	"testing"
)

// TestAssetCacheBounds: the cache holds at most maxEntries images and
// maxBytes bytes, evicting the least recently served first, and never
// holds an image larger than the byte bound.
func TestAssetCacheBounds(t *testing.T) {
	body := func(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }
	tests := []struct {
		name       string
		maxBytes   int64
		maxEntries int
		steps      func(c *assetCache)
		want       []string // names still cached
		gone       []string // names evicted
	}{
		{"entry bound evicts least recently used", 1 << 20, 2, func(c *assetCache) {
			c.add("a", body(10))
			c.add("b", body(10))
			c.get("a") // a is now more recent than b
			c.add("c", body(10))
		}, []string{"a", "c"}, []string{"b"}},
		{"byte bound evicts until it holds", 100, 10, func(c *assetCache) {
			c.add("a", body(40))
			c.add("b", body(40))
			c.add("c", body(40)) // 120 > 100: a goes
		}, []string{"b", "c"}, []string{"a"}},
		{"one large entry evicts several", 100, 10, func(c *assetCache) {
			c.add("a", body(30))
			c.add("b", body(30))
			c.add("c", body(30))
			c.add("d", body(90))
		}, []string{"d"}, []string{"a", "b", "c"}},
		{"larger than the byte bound is not cached", 100, 10, func(c *assetCache) {
			c.add("a", body(50))
			c.add("huge", body(101))
		}, []string{"a"}, []string{"huge"}},
		{"adding a cached name again keeps one copy", 100, 10, func(c *assetCache) {
			c.add("a", body(60))
			c.add("a", body(60))
		}, []string{"a"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newAssetCache(tc.maxBytes, tc.maxEntries)
			tc.steps(c)
			for _, n := range tc.want {
				if _, ok := c.get(n); !ok {
					t.Errorf("%q was evicted", n)
				}
			}
			for _, n := range tc.gone {
				if _, ok := c.get(n); ok {
					t.Errorf("%q is still cached", n)
				}
			}
			entries, size := c.stats()
			if entries > tc.maxEntries || size > tc.maxBytes || entries != len(tc.want) {
				t.Errorf("cache holds %d entries, %d bytes; bounds %d, %d; want %d entries", entries, size, tc.maxEntries, tc.maxBytes, len(tc.want))
			}
		})
	}
}
