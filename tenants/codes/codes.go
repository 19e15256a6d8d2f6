// Package codes issues and checks SMS verification codes ("send verification
// code" / create customer with mobile_phone + verification_code).
//
// Codes live only in Redis and are ephemeral by design: losing Redis loses
// outstanding codes, and users simply ask for a new one. Only a salted
// SHA-256 of each code is stored, never the code itself. Every operation
// touches exactly one key, so the package works unchanged on a standalone
// server, the embedded server and Redis Cluster.
//
// Key layout: livery:code:<tenant>:<scene>:<phone>, a hash holding
//
//	salt  random per-code salt (hex)
//	hash  hex SHA-256(salt || code); removed once the code is used or locked
//	exp   expiry instant, Unix milliseconds (by Options.Now)
//	fail  number of wrong attempts
//	state "" (live), "used" or "locked"
//
// The key itself lives for ttl + MarkerRetention, so that after the code
// expires a Check still finds the marker and reports ErrExpired rather than
// ErrNotIssued.
package codes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/livery/livery/internal/redisx"
	"github.com/redis/go-redis/v9"
)

// Sentinel errors returned by Check (test with errors.Is). Redis failures are
// never one of these: they are returned wrapped, so a caller can tell "the
// user typed a bad code" (4xx) from "we could not check" (5xx).
var (
	// ErrWrong: the code does not match. Maps to CBC.99004010.
	ErrWrong = errors.New("codes: verification code wrong")
	// ErrExpired: a code was issued but is no longer valid because its
	// time ran out or it was already used. Maps to CBC.99004008.
	ErrExpired = errors.New("codes: verification code expired")
	// ErrTooManyFailures: MaxFailures wrong attempts invalidated the code;
	// returned (even for the right code) until a new one is issued.
	// Maps to CBC.99004009.
	ErrTooManyFailures = errors.New("codes: verification code failed too many times")
	// ErrNotIssued: no code was issued for (tenant, phone, scene), or the
	// last one expired more than MarkerRetention ago.
	ErrNotIssued = errors.New("codes: no verification code issued")
	// ErrInvalid: an argument is unusable (empty tenant/phone/scene, a ':'
	// in tenant or scene, ttl <= 0). A caller bug or bad input, not a
	// Redis failure.
	ErrInvalid = errors.New("codes: invalid argument")
)

const (
	// Digits is the length of a code.
	Digits = 6
	// DefaultMaxFailures is Options.MaxFailures when unset.
	DefaultMaxFailures = 3
	// MarkerRetention is how long the marker outlives the code.
	MarkerRetention = 24 * time.Hour
	// KeyPrefix prefixes every key this package writes.
	KeyPrefix = redisx.KeyCodes
)

// Options tunes a Store. The zero value is valid.
type Options struct {
	// MaxFailures is the number of wrong attempts after which the code is
	// invalidated; <= 0 means DefaultMaxFailures (3).
	MaxFailures int
	// Now is the clock used for code expiry; nil means time.Now. (Redis
	// key TTLs, which only bound the marker's lifetime, use Redis time.)
	Now func() time.Time
}

// Store issues and checks codes. It is safe for concurrent use, and several
// gateway instances may share one Redis: nothing is kept in process memory.
type Store struct {
	rdb         redis.UniversalClient
	maxFailures int
	now         func() time.Time
}

// New returns a Store on rdb. It does not contact Redis.
func New(rdb redis.UniversalClient, opts Options) *Store {
	s := &Store{rdb: rdb, maxFailures: opts.MaxFailures, now: opts.Now}
	if s.maxFailures <= 0 {
		s.maxFailures = DefaultMaxFailures
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// TimeoutFromMinutes turns the API's "timeout" field (minutes) into a code
// lifetime, following the reference contract:
//
//	m == 0 (absent)  → 10 minutes (the default)
//	1 ≤ m ≤ 60       → m minutes
//	m > 60           → 5 minutes ("a value over 60 is treated as 5")
//	m < 0            → 10 minutes, i.e. treated as absent
//
// It never fails; a handler that wants to reject negative values with
// CBC.0101 must do so before calling it.
func TimeoutFromMinutes(m int) time.Duration {
	switch {
	case m <= 0:
		return 10 * time.Minute
	case m > 60:
		return 5 * time.Minute
	default:
		return time.Duration(m) * time.Minute
	}
}

// Key returns the Redis key holding the code for (tenant, phone, scene).
func Key(tenant, phone, scene string) string {
	return KeyPrefix + tenant + ":" + scene + ":" + phone
}

func validate(tenant, phone, scene string) error {
	switch {
	case tenant == "" || phone == "" || scene == "":
		return fmt.Errorf("%w: tenant, phone and scene are required", ErrInvalid)
	case strings.Contains(tenant, ":") || strings.Contains(scene, ":"):
		// Keeps keys unambiguous: the phone is the last segment.
		return fmt.Errorf("%w: ':' not allowed in tenant or scene", ErrInvalid)
	}
	return nil
}

func hashCode(salt, code string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

// newCode returns Digits uniformly random decimal digits from crypto/rand.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// Issue creates a fresh 6-digit code for (tenant, phone, scene), valid for
// ttl, replacing any previous code and resetting its failure count and
// lockout. The plain code is returned for delivery and is not stored.
//
// Errors: ErrInvalid (wrapped) for empty arguments, ':' in tenant or scene,
// or ttl <= 0; otherwise a wrapped Redis (or crypto/rand) error, in which
// case no usable code was stored.
//
// Because Issue resets the lockout, callers must rate-limit issuing per
// phone, or the failure limit does not bound guessing.
func (s *Store) Issue(ctx context.Context, tenant, phone, scene string, ttl time.Duration) (string, error) {
	if err := validate(tenant, phone, scene); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w: ttl must be positive", ErrInvalid)
	}
	code, err := newCode()
	if err != nil {
		return "", fmt.Errorf("codes: generate code: %w", err)
	}
	saltb := make([]byte, 16)
	if _, err := rand.Read(saltb); err != nil {
		return "", fmt.Errorf("codes: generate salt: %w", err)
	}
	salt := hex.EncodeToString(saltb)
	exp := s.now().Add(ttl).UnixMilli()
	key := Key(tenant, phone, scene)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, "salt", salt, "hash", hashCode(salt, code), "exp", exp, "fail", 0, "state", "")
		p.PExpire(ctx, key, ttl+MarkerRetention)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("codes: issue: redis: %w", err)
	}
	return code, nil
}

// checkScript atomically verifies and consumes a code. KEYS[1] the code key;
// ARGV: hash of the candidate, salt it was computed with, now (Unix ms),
// max failures. Replies with a status word.
var checkScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'salt', 'hash', 'exp', 'fail', 'state')
if not v[1] then return 'notissued' end
if v[1] ~= ARGV[2] then return 'stale' end
if v[5] == 'locked' then return 'toomany' end
if v[5] == 'used' or not v[2] then return 'expired' end
if tonumber(ARGV[3]) >= tonumber(v[3]) then return 'expired' end
if v[2] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'used')
  redis.call('HDEL', KEYS[1], 'hash')
  return 'ok'
end
local f = redis.call('HINCRBY', KEYS[1], 'fail', 1)
if f >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'state', 'locked')
  redis.call('HDEL', KEYS[1], 'hash')
end
return 'wrong'
`)

// maxStaleRetries bounds re-reads when a code is re-issued between reading
// its salt and running the check script.
const maxStaleRetries = 3

// Check verifies code for (tenant, phone, scene) and consumes it: on success
// (nil) the code is marked used, so of any number of concurrent Checks with
// the right code at most one succeeds.
//
// Errors (test with errors.Is):
//   - ErrNotIssued: nothing was issued (or the marker is gone, > 24 h after expiry).
//   - ErrExpired: the code's ttl passed, or it was already used.
//   - ErrWrong: mismatch; the failure counter is incremented. The
//     MaxFailures-th wrong attempt still returns ErrWrong but locks the code.
//   - ErrTooManyFailures: the code is locked; returned for every Check, right
//     code included, until Issue replaces it. A locked code takes precedence
//     over expiry.
//   - ErrInvalid: bad tenant/phone/scene (nothing is read).
//   - anything else: a wrapped Redis error (the code's state is unknown to
//     the caller; treat it as a server error, not as a wrong code).
//
// A code of the wrong shape (not 6 digits) is treated as wrong and counted.
func (s *Store) Check(ctx context.Context, tenant, phone, scene, code string) error {
	if err := validate(tenant, phone, scene); err != nil {
		return err
	}
	key := Key(tenant, phone, scene)
	for range maxStaleRetries {
		salt, err := s.rdb.HGet(ctx, key, "salt").Result()
		if errors.Is(err, redis.Nil) {
			return ErrNotIssued
		}
		if err != nil {
			return fmt.Errorf("codes: check: redis: %w", err)
		}
		res, err := checkScript.Run(ctx, s.rdb, []string{key},
			hashCode(salt, code), salt, s.now().UnixMilli(), s.maxFailures).Text()
		if err != nil {
			return fmt.Errorf("codes: check: redis: %w", err)
		}
		switch res {
		case "ok":
			return nil
		case "wrong":
			return ErrWrong
		case "expired":
			return ErrExpired
		case "toomany":
			return ErrTooManyFailures
		case "notissued":
			return ErrNotIssued
		case "stale":
			continue // re-issued meanwhile: check against the new code
		default:
			return fmt.Errorf("codes: check: unexpected script reply %q", res)
		}
	}
	return fmt.Errorf("codes: check: code re-issued concurrently %d times", maxStaleRetries)
}
