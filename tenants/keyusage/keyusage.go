// Package keyusage is the Redis implementation of tenants.KeyUsage: when
// each partner access key last authenticated a call. One hash per tenant
// (one Redis Cluster slot), field = access key, value = Unix seconds:
//
//	livery:keyuse:{<tenant>}   hash: access key → last use (Unix seconds)
//
// It holds nothing durable: after a Redis flush keys show no last-used
// time until they are used again.
package keyusage

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
)

// Usage keeps last-used times in Redis. Set RDB. Safe for concurrent use.
type Usage struct{ RDB redis.UniversalClient }

var _ tenants.KeyUsage = Usage{}

func key(tenant string) string { return redisx.KeyKeyUsage + "{" + tenant + "}" }

// Touch implements tenants.KeyUsage. Errors are Redis's.
func (u Usage) Touch(ctx context.Context, tenant, ak string, at time.Time) error {
	return u.RDB.HSet(ctx, key(tenant), ak, strconv.FormatInt(at.Unix(), 10)).Err()
}

// LastUsed implements tenants.KeyUsage; a malformed value is skipped.
// Errors are Redis's.
func (u Usage) LastUsed(ctx context.Context, tenant string) (map[string]time.Time, error) {
	m, err := u.RDB.HGetAll(ctx, key(tenant)).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(m))
	for ak, v := range m {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			out[ak] = time.Unix(n, 0).UTC()
		}
	}
	return out, nil
}
