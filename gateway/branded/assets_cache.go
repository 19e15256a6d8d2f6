package branded

import (
	"container/list"
	"sync"
)

// Bounds of the in-process cache of content-addressed images. Logos are
// at most 512 KB each (branding's upload limit) and a console shows one
// or two per tenant, so these hold every partner's logos many times over
// while capping the memory at a few tens of MB.
const (
	assetCacheBytes    = 32 << 20 // total bytes of cached bodies
	assetCacheEntries  = 1024     // cached images
	assetCacheMaxEntry = 1 << 20  // larger images are streamed, not cached
)

// assetCache is a least-recently-used cache of immutable image bodies,
// bounded by total bytes and by entry count (whichever is reached first
// evicts the least recently served entries). It is safe for concurrent
// use. Only bodies whose SHA-256 matched their name are put in it.
//
// A small own LRU rather than a library: the well-kept ones bound either
// the entry count (hashicorp/golang-lru) or a total weight (otter), not
// both, and this is forty lines.
type assetCache struct {
	mu         sync.Mutex
	maxBytes   int64
	maxEntries int
	bytes      int64
	order      *list.List // front = most recently used; values are *assetEntry
	byName     map[string]*list.Element
}

type assetEntry struct {
	name string
	body []byte
}

func newAssetCache(maxBytes int64, maxEntries int) *assetCache {
	return &assetCache{maxBytes: maxBytes, maxEntries: maxEntries, order: list.New(), byName: map[string]*list.Element{}}
}

// get returns the cached body of name and marks it recently used. The
// body must not be modified.
func (c *assetCache) get(name string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byName[name]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*assetEntry).body, true
}

// add caches body under name, evicting least recently used entries until
// both bounds hold. A body larger than the byte bound is not cached.
func (c *assetCache) add(name string, body []byte) {
	size := int64(len(body))
	if size > c.maxBytes || c.maxEntries <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byName[name]; ok { // same name, same content
		c.order.MoveToFront(el)
		return
	}
	c.byName[name] = c.order.PushFront(&assetEntry{name: name, body: body})
	c.bytes += size
	for c.bytes > c.maxBytes || c.order.Len() > c.maxEntries {
		el := c.order.Back()
		e := el.Value.(*assetEntry)
		c.order.Remove(el)
		delete(c.byName, e.name)
		c.bytes -= int64(len(e.body))
	}
}

// stats returns the number of entries and their total bytes.
func (c *assetCache) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}
