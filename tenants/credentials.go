package tenants

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/seal"
)

// MaxActiveKeys is how many access keys a tenant may have at once (two, so
// that keys can be rotated without downtime).
const MaxActiveKeys = 2

// Credential errors.
var (
	// ErrUnknownKey: no such access key, or it was revoked.
	ErrUnknownKey = errors.New("unknown or revoked access key")
	// ErrTooManyKeys: the tenant already has MaxActiveKeys active keys.
	ErrTooManyKeys = errors.New("tenant already has the maximum number of active access keys")
)

// KeyInfo describes an access key without its secret.
type KeyInfo struct {
	AccessKey string     `json:"access_key"`
	Tenant    string     `json:"tenant"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// storedKey is a key as persisted: the secret sealed with AES-GCM under
// the master key, bound to tenant and access key as additional data.
type storedKey struct {
	KeyInfo
	Sealed []byte `json:"sealed_secret"`
}

type keyring struct {
	Keys []storedKey `json:"keys"`
}

type akIndex struct {
	Tenant string `json:"tenant"`
}

// Credentials stores partner access keys (AK/SK) in the object store. The
// secret key is needed for HMAC verification, so it is stored encrypted,
// never hashed, and never logged.
type Credentials struct {
	store objstore.Store
	aead  cipher.AEAD
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey

	hits, misses atomic.Uint64
}

type cachedKey struct {
	tenant  string
	secret  []byte
	err     error
	expires time.Time
}

// NewCredentials uses a 32-byte master key. cacheTTL bounds how long a
// revoked key may still be accepted by an instance that did not revoke it.
func NewCredentials(store objstore.Store, masterKey []byte, cacheTTL time.Duration) (*Credentials, error) {
	aead, err := seal.AEAD(masterKey)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return &Credentials{store: store, aead: aead, ttl: cacheTTL, now: time.Now, cache: map[string]cachedKey{}}, nil
}

func keyringKey(tenant string) string { return "credentials/tenants/" + tenant + ".json" }
func akKey(ak string) string          { return "credentials/access-keys/" + ak + ".json" }

func (c *Credentials) aad(tenant, ak string) []byte {
	return []byte("livery-sk\x00" + tenant + "\x00" + ak)
}

// Create makes a new access key for tenant and returns the secret once.
// Errors: ErrTooManyKeys, or a store error.
func (c *Credentials) Create(ctx context.Context, tenant string) (KeyInfo, string, error) {
	ak, sk := randomToken(20, upperAlnum), randomToken(40, alnum)
	if _, err := objstore.PutJSON(ctx, c.store, akKey(ak), akIndex{Tenant: tenant}, objstore.PutOptions{IfNoneMatch: true}); err != nil {
		return KeyInfo{}, "", fmt.Errorf("credentials: reserve access key: %w", err)
	}
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce)
	k := storedKey{KeyInfo: KeyInfo{AccessKey: ak, Tenant: tenant, CreatedAt: c.now().UTC()},
		Sealed: c.aead.Seal(nonce, nonce, []byte(sk), c.aad(tenant, ak))}
	err := c.update(ctx, tenant, func(r *keyring) error {
		active := 0
		for _, k := range r.Keys {
			if k.RevokedAt == nil {
				active++
			}
		}
		if active >= MaxActiveKeys {
			return ErrTooManyKeys
		}
		r.Keys = append(r.Keys, k)
		return nil
	})
	if err != nil {
		_ = c.store.Delete(ctx, akKey(ak))
		return KeyInfo{}, "", err
	}
	return k.KeyInfo, sk, nil
}

// List returns the tenant's keys, revoked ones included, without secrets.
func (c *Credentials) List(ctx context.Context, tenant string) ([]KeyInfo, error) {
	r, _, err := c.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(r.Keys))
	for _, k := range r.Keys {
		out = append(out, k.KeyInfo)
	}
	return out, nil
}

// Revoke revokes one of tenant's keys. Errors: ErrUnknownKey when the
// tenant has no such active key.
func (c *Credentials) Revoke(ctx context.Context, tenant, ak string) error {
	err := c.update(ctx, tenant, func(r *keyring) error {
		for i := range r.Keys {
			if r.Keys[i].AccessKey == ak && r.Keys[i].RevokedAt == nil {
				now := c.now().UTC()
				r.Keys[i].RevokedAt = &now
				return nil
			}
		}
		return ErrUnknownKey
	})
	if err == nil {
		c.mu.Lock()
		delete(c.cache, ak)
		c.mu.Unlock()
	}
	return err
}

// Lookup returns the tenant and secret of an active access key, from a
// short-lived in-process cache when possible. Errors: ErrUnknownKey for an
// unknown, revoked or undecryptable key; other errors mean the store failed.
func (c *Credentials) Lookup(ctx context.Context, ak string) (string, []byte, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.cache[ak]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		c.hits.Add(1)
		return e.tenant, e.secret, e.err
	}
	c.misses.Add(1)
	tenant, secret, err := c.lookup(ctx, ak)
	if err == nil || errors.Is(err, ErrUnknownKey) {
		c.mu.Lock()
		if len(c.cache) > 10000 { // bound memory under a flood of random keys
			c.cache = map[string]cachedKey{}
		}
		c.cache[ak] = cachedKey{tenant: tenant, secret: secret, err: err, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return tenant, secret, err
}

// CacheStats reports the access-key cache: keys held, and Lookups answered
// from it (hits) or from the store (misses) since the start.
func (c *Credentials) CacheStats() (entries int, hits, misses uint64) {
	c.mu.Lock()
	entries = len(c.cache)
	c.mu.Unlock()
	return entries, c.hits.Load(), c.misses.Load()
}

func (c *Credentials) lookup(ctx context.Context, ak string) (string, []byte, error) {
	if objstore.ValidateKey(akKey(ak)) != nil || len(ak) > 64 {
		return "", nil, ErrUnknownKey
	}
	idx, _, err := objstore.GetJSON[akIndex](ctx, c.store, akKey(ak))
	if errors.Is(err, objstore.ErrNotFound) {
		return "", nil, ErrUnknownKey
	}
	if err != nil {
		return "", nil, err
	}
	r, _, err := c.load(ctx, idx.Tenant)
	if err != nil {
		return "", nil, err
	}
	for _, k := range r.Keys {
		if k.AccessKey != ak || k.RevokedAt != nil {
			continue
		}
		ns := c.aead.NonceSize()
		if len(k.Sealed) < ns {
			return "", nil, ErrUnknownKey
		}
		sk, err := c.aead.Open(nil, k.Sealed[:ns], k.Sealed[ns:], c.aad(idx.Tenant, ak))
		if err != nil {
			return "", nil, fmt.Errorf("%w: secret does not decrypt under the master key", ErrUnknownKey)
		}
		return idx.Tenant, sk, nil
	}
	return "", nil, ErrUnknownKey
}

func (c *Credentials) load(ctx context.Context, tenant string) (keyring, string, error) {
	r, obj, err := objstore.GetJSON[keyring](ctx, c.store, keyringKey(tenant))
	if errors.Is(err, objstore.ErrNotFound) {
		return keyring{}, "", nil
	}
	return r, obj.ETag, err
}

// update applies fn to the tenant's keyring with compare-and-swap, retrying
// on concurrent changes.
func (c *Credentials) update(ctx context.Context, tenant string, fn func(*keyring) error) error {
	for attempt := 0; attempt < 10; attempt++ {
		r, etag, err := c.load(ctx, tenant)
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		opts := objstore.PutOptions{IfMatch: etag, IfNoneMatch: etag == ""}
		_, err = objstore.PutJSON(ctx, c.store, keyringKey(tenant), r, opts)
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			continue
		}
		return err
	}
	return errors.New("credentials: keyring update contention")
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomToken draws n characters uniformly from set (rejection sampling).
func randomToken(n int, set string) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(set)
	for len(out) < n {
		_, _ = rand.Read(buf)
		if int(buf[0]) < limit {
			out = append(out, set[int(buf[0])%len(set)])
		}
	}
	return string(out)
}
