// Package sessions keeps browser sessions server-side in Redis, behind an
// in-process cache invalidated over Redis pub/sub.
//
// The cookie carries only an opaque random id. A session ends at its idle
// timeout (refreshed while used) or its absolute lifetime, on logout, or
// when the identity provider signals back-channel logout for its sid or
// subject. Ending a session publishes its id, so every instance drops it
// from its cache within the pub/sub latency; a cached session is also
// re-read from Redis at least every CacheTTL. In steady state a request
// with a cached session makes no Redis round trip.
//
// The cache is bounded by size and age: it holds at most CacheEntries
// sessions (the least recently used one goes first), and an entry not used
// for CacheTTL is swept within another CacheTTL, so sessions that are never
// presented again do not accumulate.
package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/internal/redisx"
)

// ErrNotFound: no live session has this id (unknown, expired, ended).
var ErrNotFound = errors.New("sessions: not found")

// Session is one signed-in browser.
type Session struct {
	ID         string    `json:"-"`
	Tenant     string    `json:"tenant"`
	Kind       string    `json:"kind"` // "customer", "staff" or KindDelegated
	Issuer     string    `json:"iss"`
	Subject    string    `json:"sub"`
	SID        string    `json:"sid,omitempty"`
	User       string    `json:"user,omitempty"`
	Email      string    `json:"email,omitempty"`
	AccountID  string    `json:"account_id,omitempty"`
	Account    string    `json:"account,omitempty"`
	Roles      []string  `json:"roles,omitempty"`
	HomeTenant string    `json:"home_tenant,omitempty"` // staff: the partner they belong to
	IDToken    string    `json:"id_token,omitempty"`    // for RP-initiated logout
	CreatedAt  time.Time `json:"created_at"`
	// Extra carries feature state (preview, delegation) that must end with
	// the session.
	Extra map[string]string `json:"extra,omitempty"`
}

// KindCustomer is a customer's own sign-in to its partner's console.
const KindCustomer = "customer"

// KindInvitee is a cloud account signed in on a partner's console it is
// not associated with (yet): it may answer the partner's invitation and
// read its signed notices, never use the console. After it accepts, the
// session is rotated into a KindCustomer one.
const KindInvitee = "invitee"

// KindDelegated is the kind of a delegated session: partner staff
// operating a customer's console under a delegation grant
// (gateway/switchrole). It carries the customer's identity; Extra names
// the grant and the staff member.
const KindDelegated = "delegated"

// Options configures a Store.
type Options struct {
	IdleTimeout time.Duration // required (sessions.idle_timeout)
	MaxLifetime time.Duration // required, at least IdleTimeout (sessions.max_lifetime)
	CacheTTL    time.Duration // 0: CacheTTL
	// CacheEntries bounds the in-process cache (about 1 KB a session).
	CacheEntries int
	Logger       *slog.Logger
	Now          func() time.Time
}

// Store is safe for concurrent use. Close stops its pub/sub listener.
type Store struct {
	rdb redis.UniversalClient
	o   Options

	mu    sync.Mutex
	cache *simplelru.LRU[string, cached] // guarded by mu

	sub    *redisx.Subscriber // invalidations
	cancel context.CancelFunc // stops the sweeper

	hits, misses atomic.Uint64
}

type cached struct {
	s       *Session
	fetched time.Time
}

const (
	keyPrefix     = redisx.KeySessions
	invalidateCh  = redisx.ChanSessions
	indexTTLSlack = time.Hour
)

// New starts the invalidation listener. It returns once subscribed (or
// after 5 s, logging), so that invalidations published afterwards reach it.
// The settings (IdleTimeout, MaxLifetime, CacheEntries) have their defaults
// in the configuration (internal/config), which validates them: New panics
// when one is not positive, a caller's bug. CacheTTL 0 means CacheTTL, the
// implementation's refresh interval.
func New(rdb redis.UniversalClient, o Options) *Store {
	if o.IdleTimeout <= 0 || o.MaxLifetime < o.IdleTimeout || o.CacheEntries <= 0 {
		panic(fmt.Sprintf("sessions: invalid options: idle timeout %s, max lifetime %s, cache entries %d",
			o.IdleTimeout, o.MaxLifetime, o.CacheEntries))
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = CacheTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	cache, _ := simplelru.NewLRU[string, cached](o.CacheEntries, nil) // size > 0: no error
	s := &Store{rdb: rdb, o: o, cache: cache, cancel: cancel}
	// Every (re)subscription and every break clears the whole cache, since
	// invalidations may have been missed meanwhile.
	s.sub = redisx.Subscribe(ctx, rdb, invalidateCh, redisx.Handlers{
		OnSubscribed: s.clear,
		OnMessage:    s.drop,
		OnError:      func(error) { s.clear() },
	}, o.Logger)
	go s.sweepEvery(ctx, o.CacheTTL)
	select {
	case <-s.sub.Subscribed():
	case <-time.After(5 * time.Second):
		o.Logger.Warn("sessions: invalidation channel not subscribed yet; relying on cache TTL")
	}
	return s
}

// Close stops the invalidation listener and the cache sweeper.
func (s *Store) Close() {
	s.cancel()
	s.sub.Close()
}

func (s *Store) clear() {
	s.mu.Lock()
	s.cache.Purge()
	s.mu.Unlock()
}

// CacheTTL is how long a cached session is used before it is read from
// Redis again (which also extends its idle timeout).
const CacheTTL = 15 * time.Second

// sweepEvery sweeps the cache every interval until ctx ends.
func (s *Store) sweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep drops the entries not used for CacheTTL. They sit at the
// least-recently-used end: an entry last used before now-CacheTTL was
// fetched before then too, so the walk stops at the first fresh entry.
func (s *Store) sweep() {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		id, c, ok := s.cache.GetOldest()
		if !ok || now.Sub(c.fetched) < s.o.CacheTTL {
			return
		}
		s.cache.Remove(id)
	}
}

// CacheLen returns the number of cached sessions (for metrics and tests).
func (s *Store) CacheLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.Len()
}

func newID() string { return ids.Token() }

// ValidID reports whether id has the shape of a session id; anything else
// (forged, oversized cookies) is refused without a Redis lookup.
func ValidID(id string) bool {
	if len(id) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

func dataKey(id string) string { return keyPrefix + "d:" + id }

func indexKey(kind, iss, v string) string {
	sum := sha256.Sum256([]byte(iss + "\x00" + v))
	return keyPrefix + kind + ":" + hex.EncodeToString(sum[:16])
}

// Create stores a new session with a fresh id and returns it.
func (s *Store) Create(ctx context.Context, sess Session) (*Session, error) {
	sess.ID = newID()
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.o.Now().UTC()
	}
	b, err := json.Marshal(&sess)
	if err != nil {
		return nil, err
	}
	// The indexes first, then the session: the keys hash to different
	// slots of a Redis Cluster (no transaction spans them), and in this
	// order a session never exists without its back-channel index entries.
	// A failure in between leaves an index entry of a session that does not
	// exist, which ending it ignores.
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ik := range s.indexKeys(&sess) {
			p.SAdd(ctx, ik, sess.ID)
			p.Expire(ctx, ik, s.o.MaxLifetime+indexTTLSlack)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sessions: create: index: %w", err)
	}
	if err := s.rdb.Set(ctx, dataKey(sess.ID), b, s.ttl(&sess)).Err(); err != nil {
		return nil, fmt.Errorf("sessions: create: %w", err)
	}
	s.put(&sess)
	return &sess, nil
}

func (s *Store) indexKeys(sess *Session) []string {
	keys := []string{indexKey("sub", sess.Issuer, sess.Subject)}
	if sess.SID != "" {
		keys = append(keys, indexKey("sid", sess.Issuer, sess.SID))
	}
	if sess.Tenant != "" && sess.AccountID != "" {
		keys = append(keys, indexKey("acct", sess.Tenant, sess.AccountID))
	}
	return keys
}

// ttl is the Redis lifetime: the idle timeout, capped by the absolute end.
func (s *Store) ttl(sess *Session) time.Duration {
	left := sess.CreatedAt.Add(s.o.MaxLifetime).Sub(s.o.Now())
	if left < s.o.IdleTimeout {
		return max(left, time.Millisecond)
	}
	return s.o.IdleTimeout
}

func (s *Store) put(sess *Session) {
	s.mu.Lock()
	s.cache.Add(sess.ID, cached{s: sess, fetched: s.o.Now()})
	s.mu.Unlock()
}

// Get returns the live session with id. A cached session is returned
// without contacting Redis; after CacheTTL it is re-read, which also
// extends its idle timeout. Errors: ErrNotFound, or a Redis error.
func (s *Store) Get(ctx context.Context, id string) (*Session, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	now := s.o.Now()
	s.mu.Lock()
	c, ok := s.cache.Get(id)
	s.mu.Unlock()
	if ok && now.Sub(c.fetched) < s.o.CacheTTL && now.Before(c.s.CreatedAt.Add(s.o.MaxLifetime)) {
		s.hits.Add(1)
		return c.s, nil
	}
	s.misses.Add(1)
	b, err := s.rdb.Get(ctx, dataKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		s.drop(id)
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sessions: get: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(b, &sess); err != nil {
		return nil, fmt.Errorf("sessions: decode: %w", err)
	}
	// The id may point into a reused request buffer (Fiber's zero-copy
	// strings); it is kept as the cache key, so it is copied.
	sess.ID = strings.Clone(id)
	id = sess.ID
	if !now.Before(sess.CreatedAt.Add(s.o.MaxLifetime)) {
		_ = s.Delete(ctx, id)
		return nil, ErrNotFound
	}
	// Used again: push the idle deadline out (bounded by the absolute end).
	s.rdb.PExpire(ctx, dataKey(id), s.ttl(&sess))
	s.put(&sess)
	return &sess, nil
}

// CacheStats reports the in-process cache: sessions held, and Gets
// answered from it (hits) or from Redis (misses) since New.
func (s *Store) CacheStats() (entries int, hits, misses uint64) {
	s.mu.Lock()
	entries = s.cache.Len()
	s.mu.Unlock()
	return entries, s.hits.Load(), s.misses.Load()
}

func (s *Store) drop(id string) {
	s.mu.Lock()
	s.cache.Remove(id)
	s.mu.Unlock()
}

// Delete ends a session on every instance. Deleting an unknown id is not an error.
func (s *Store) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = dataKey(id)
		s.drop(id)
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys { // one DEL a key: on a Cluster they hash to different slots
			p.Del(ctx, k)
		}
		for _, id := range ids {
			p.Publish(ctx, invalidateCh, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sessions: delete: %w", err)
	}
	return nil
}

// Rotate replaces a session's id (at sign-in and at every privilege
// change), applying change to the copy first. The old id stops working on
// every instance.
func (s *Store) Rotate(ctx context.Context, old *Session, change func(*Session)) (*Session, error) {
	next := *old
	next.Extra = map[string]string{}
	for k, v := range old.Extra {
		next.Extra[k] = v
	}
	if change != nil {
		change(&next)
	}
	created, err := s.Create(ctx, next)
	if err != nil {
		return nil, err
	}
	if err := s.Delete(ctx, old.ID); err != nil {
		return nil, err
	}
	return created, nil
}

// EndBySID ends every session of the issuer's session id (back-channel
// logout with sid) and returns how many ended.
func (s *Store) EndBySID(ctx context.Context, iss, sid string) (int, error) {
	return s.endIndex(ctx, indexKey("sid", iss, sid))
}

// EndBySubject ends every session of the issuer's subject.
func (s *Store) EndBySubject(ctx context.Context, iss, sub string) (int, error) {
	return s.endIndex(ctx, indexKey("sub", iss, sub))
}

// EndByAccount ends every session on tenant's console that acts as the
// cloud account: the customer's own (through any provider), an invitee's
// and delegated ones (when the customer is unbound from the partner).
func (s *Store) EndByAccount(ctx context.Context, tenant, account string) (int, error) {
	return s.endIndex(ctx, indexKey("acct", tenant, account))
}

func (s *Store) endIndex(ctx context.Context, key string) (int, error) {
	ids, err := s.rdb.SMembers(ctx, key).Result()
	if err != nil {
		return 0, fmt.Errorf("sessions: index: %w", err)
	}
	if err := s.Delete(ctx, ids...); err != nil {
		return 0, err
	}
	return len(ids), s.rdb.Del(ctx, key).Err()
}
