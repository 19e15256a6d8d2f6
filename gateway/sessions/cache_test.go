package sessions

import (
	"context"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/testenv"
)

// TestCacheIsBounded: the in-process cache holds at most CacheEntries
// sessions, and sessions that are never presented again leave it within
// about two CacheTTLs instead of staying until they are.
func TestCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	t.Cleanup(func() { rdb.Close() })

	t.Run("size", func(t *testing.T) {
		s := newStore(t, rdb, Options{CacheEntries: 10, CacheTTL: time.Hour})
		var ids []string
		for range 50 {
			sess, err := s.Create(ctx, Session{Tenant: "t1", Kind: "customer", Issuer: "https://idp", Subject: "u"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sess.ID)
		}
		if n := s.CacheLen(); n != 10 {
			t.Fatalf("cache holds %d sessions, want the bound 10", n)
		}
		// Evicted sessions are still valid: they are read from Redis again.
		for _, id := range ids[:5] {
			if _, err := s.Get(ctx, id); err != nil {
				t.Fatalf("evicted session %s: %v", id, err)
			}
		}
		if n := s.CacheLen(); n != 10 {
			t.Fatalf("cache holds %d sessions after re-reads, want 10", n)
		}
	})

	t.Run("age", func(t *testing.T) {
		const ttl = 100 * time.Millisecond
		s := newStore(t, rdb, Options{CacheTTL: ttl})
		var keep string
		for i := range 20 {
			sess, err := s.Create(ctx, Session{Tenant: "t1", Kind: "customer", Issuer: "https://idp", Subject: "u"})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				keep = sess.ID
			}
		}
		if n := s.CacheLen(); n != 20 {
			t.Fatalf("cache holds %d, want 20 right after creation", n)
		}
		// Nobody presents the sessions again: the sweep drops them all.
		waitFor(t, 20*ttl, func() bool { return s.CacheLen() == 0 }, "unused sessions swept")
		// They are still valid sessions, read from Redis on next use.
		if _, err := s.Get(ctx, keep); err != nil || s.CacheLen() != 1 {
			t.Fatalf("swept session on next use: %v (cache %d)", err, s.CacheLen())
		}
	})
}

// TestSweepKeepsFreshEntries drives the sweep with a fake clock: entries
// used within CacheTTL stay, older ones go.
func TestSweepKeepsFreshEntries(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	t.Cleanup(func() { rdb.Close() })
	now := time.Now()
	clock := func() time.Time { return now }
	s := newStore(t, rdb, Options{CacheTTL: time.Hour, Now: clock})
	old, _ := s.Create(ctx, Session{Tenant: "t1", Kind: "customer", Issuer: "https://idp", Subject: "old"})
	now = now.Add(50 * time.Minute)
	fresh, _ := s.Create(ctx, Session{Tenant: "t1", Kind: "customer", Issuer: "https://idp", Subject: "fresh"})
	now = now.Add(20 * time.Minute) // old: 70 min unused; fresh: 20 min
	s.sweep()
	s.mu.Lock()
	_, hasOld := s.cache.Peek(old.ID)
	_, hasFresh := s.cache.Peek(fresh.ID)
	s.mu.Unlock()
	if hasOld || !hasFresh {
		t.Fatalf("after sweep: old cached %v (want false), fresh cached %v (want true)", hasOld, hasFresh)
	}
}

// TestCacheKeyIsCopied: Get may be handed an id that points into a
// request buffer the server reuses (Fiber's zero-copy strings); the cache
// keeps its own copy, so a later overwrite of that buffer neither loses the
// entry nor re-keys it.
func TestCacheKeyIsCopied(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	sess, err := newStore(t, rdb, Options{}).Create(ctx, Session{Tenant: "t1", Kind: "customer", Issuer: "https://idp", Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	counted := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { counted.Close() })
	cc := &commandCounter{}
	counted.AddHook(cc)
	s := newStore(t, counted, Options{CacheTTL: time.Hour})

	buf := []byte(sess.ID)
	borrowed := unsafe.String(&buf[0], len(buf)) // as a zero-copy request value is
	if _, err := s.Get(ctx, borrowed); err != nil {
		t.Fatal(err)
	}
	copy(buf, strings.Repeat("A", len(buf))) // the next request reuses the buffer
	before := cc.n.Load()
	got, err := s.Get(ctx, sess.ID)
	if err != nil || got.ID != sess.ID {
		t.Fatalf("Get after the buffer was reused: %v, id %q", err, got.ID)
	}
	if n := cc.n.Load() - before; n != 0 {
		t.Fatalf("cached session read from Redis again (%d commands): its cache key changed with the buffer", n)
	}
}
