package preview

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/gateway/web"
)

// store keeps preview links ("token:") and markers ("marker:") in Redis
// under KeyPrefix, each by the hash of its secret: the secret itself is
// only ever in the link or the cookie. Errors are the store's; a record
// that is absent, expired or unreadable is found=false.
type store struct{ rdb redis.UniversalClient }

func key(kind, secret string) string { return KeyPrefix + kind + ":" + web.HashToken(secret) }

func (s store) put(ctx context.Context, kind, secret string, rec Preview, ttl time.Duration) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, key(kind, secret), b, ttl).Err()
}

// get reads a record; take reads and deletes it (a link works once).
func (s store) get(ctx context.Context, kind, secret string) (Preview, bool, error) {
	return decode(s.rdb.Get(ctx, key(kind, secret)).Bytes())
}

func (s store) take(ctx context.Context, kind, secret string) (Preview, bool, error) {
	return decode(s.rdb.GetDel(ctx, key(kind, secret)).Bytes())
}

func (s store) del(ctx context.Context, kind, secret string) error {
	return s.rdb.Del(ctx, key(kind, secret)).Err()
}

func decode(b []byte, err error) (rec Preview, found bool, _ error) {
	switch {
	case errors.Is(err, redis.Nil):
		return rec, false, nil
	case err != nil:
		return rec, false, err
	}
	if json.Unmarshal(b, &rec) != nil {
		return rec, false, nil
	}
	return rec, true, nil
}

const (
	kindToken  = "token"
	kindMarker = "marker"
)
