package sessions

import (
	"context"
	"testing"
	"time"

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
