// Package redisindex is the Redis implementation of tenants.Index, the
// rebuildable query index of customers: one hash of customer JSON per
// tenant plus a "built" marker. It holds nothing the object store does not;
// `livery reindex` (tenants.Customers.Reindex) rebuilds it.
//
// Keys (one Redis Cluster slot per tenant):
//
//	livery:idx:{<tenant>}:customers   hash: tenants.CustomerKey → customer JSON
//	livery:idx:{<tenant>}:built       "1" once the tenant's index was filled
package redisindex

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
)

// Index keeps the customer index in Redis. The zero value is unusable; set
// RDB. Safe for concurrent use.
type Index struct{ RDB redis.UniversalClient }

var _ tenants.Index = Index{}

func customersKey(tenant string) string { return redisx.KeyIndex + "{" + tenant + "}:customers" }
func builtKey(tenant string) string     { return redisx.KeyIndex + "{" + tenant + "}:built" }

// Put implements tenants.Index. Errors are Redis's.
func (x Index) Put(ctx context.Context, c *tenants.Customer) error {
	b, _ := json.Marshal(c)
	return x.RDB.HSet(ctx, customersKey(c.Tenant), tenants.CustomerKey(c.Tenant, c.XAccountType, c.XAccountID), b).Err()
}

// Load implements tenants.Index. Errors are Redis's, or a decode error for
// a corrupt entry.
func (x Index) Load(ctx context.Context, tenant string) ([]tenants.Customer, bool, error) {
	n, err := x.RDB.Exists(ctx, builtKey(tenant)).Result()
	if err != nil || n == 0 {
		return nil, false, err
	}
	m, err := x.RDB.HGetAll(ctx, customersKey(tenant)).Result()
	if err != nil {
		return nil, false, err
	}
	out := make([]tenants.Customer, 0, len(m))
	for _, v := range m {
		var c tenants.Customer
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return nil, false, fmt.Errorf("index entry: %w", err)
		}
		out = append(out, c)
	}
	return out, true, nil
}

// Fill implements tenants.Index in one transaction. It never deletes
// entries, so a customer indexed by a concurrent registration during a
// rebuild is not lost. Errors are Redis's.
func (x Index) Fill(ctx context.Context, tenant string, cs []tenants.Customer) error {
	_, err := x.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cs {
			b, _ := json.Marshal(&cs[i])
			p.HSet(ctx, customersKey(tenant), tenants.CustomerKey(tenant, cs[i].XAccountType, cs[i].XAccountID), b)
		}
		p.Set(ctx, builtKey(tenant), "1", 0)
		return nil
	})
	return err
}
