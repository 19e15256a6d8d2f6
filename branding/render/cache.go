package render

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheSize is the capacity of a Cache created with size <= 0.
const DefaultCacheSize = 1024

// Key identifies one rendered chrome.
type Key struct {
	Tenant  string
	Version int
	Locale  string
	Preview bool
}

// Cache is a bounded LRU of rendered chromes, safe for concurrent use.
// Concurrent misses for the same key share one build.
type Cache struct {
	mu       sync.Mutex
	size     int
	ll       *list.List // front = most recently used; values are *entry
	items    map[Key]*list.Element
	inflight map[Key]*call
	gen      uint64 // bumped by Invalidate: builds started before are not cached

	hits, misses atomic.Uint64
}

type entry struct {
	key Key
	c   *Chrome
}

type call struct {
	done chan struct{}
	c    *Chrome
	gen  uint64
}

// NewCache returns a cache holding at most size chromes (DefaultCacheSize
// if size <= 0).
func NewCache(size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Cache{size: size, ll: list.New(), items: make(map[Key]*list.Element), inflight: make(map[Key]*call)}
}

// Get returns the cached chrome for key unless it is missing or expired at
// now (Chrome.Expired), in which case build is called (once for all
// concurrent callers of the same key; the others wait for it) and its
// result cached. A nil result is returned but not cached. If build panics,
// the panic propagates to its caller and the waiters get nil.
func (c *Cache) Get(key Key, now time.Time, build func() *Chrome) *Chrome {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		if ch := el.Value.(*entry).c; !ch.Expired(now) {
			c.ll.MoveToFront(el)
			c.mu.Unlock()
			c.hits.Add(1)
			return ch
		}
	}
	c.misses.Add(1)
	if cl, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.c
	}
	cl := &call{done: make(chan struct{}), gen: c.gen}
	c.inflight[key] = cl
	c.mu.Unlock()

	defer func() {
		c.mu.Lock()
		delete(c.inflight, key)
		if cl.c != nil && cl.gen == c.gen {
			c.put(key, cl.c)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	cl.c = build()
	return cl.c
}

// put stores ch under key, evicting the least recently used entry when
// full. c.mu must be held.
func (c *Cache) put(key Key, ch *Chrome) {
	if el, ok := c.items[key]; ok {
		el.Value.(*entry).c = ch
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&entry{key, ch})
	for c.ll.Len() > c.size {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*entry).key)
	}
}

// Invalidate drops every cached chrome of tenant (for example after its
// draft changed while a preview was cached).
func (c *Cache) Invalidate(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, el := range c.items {
		if k.Tenant == tenant {
			c.ll.Remove(el)
			delete(c.items, k)
		}
	}
}

// Stats reports the chromes held, and Gets answered from the cache (hits)
// or that built or waited for a build (misses) since NewCache.
func (c *Cache) Stats() (entries int, hits, misses uint64) {
	return c.Len(), c.hits.Load(), c.misses.Load()
}

// Len is the number of cached chromes.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
