// Package redisindex is the Redis implementation of tenants.Index, the
// rebuildable query index of customers. It holds nothing the object store
// does not; `livery reindex` (tenants.Customers.Reindex) rebuilds it. The
// design and its measured cost: docs/customer-index.md.
//
// Keys of a tenant T, all under one hash tag (one Redis Cluster slot per
// tenant), prefix P = livery:idx:{T}: —
//
//	P ready          "2" once the tenant's index was built (format 2)
//	P c              hash  account name → "<ordinal>|<customer JSON (entry)>"
//	P o              zset  account name, score −associated_on in µs (list order)
//	P t:<type>       zset  as P o, customers of one association type
//	P l:<label>      zset  as P o, customers with one label
//	P p:<partner>    zset  as P o, customers of one indirect partner
//	P m:<manager>    zset  as P o, customers one manager manages
//	P id             hash  customer id (domain id) → account name
//	P n              hash  ordinal → account name
//	P seq            the last ordinal given
//	P gc             hash  n-gram → how many indexed names contain it
//	P gd             hash  n-gram → "1" once a removal met it dense: its
//	                 posting list stays deleted even when fewer names
//	                 contain it again
//	P g:<gram>       string: the ordinals (uint32 little-endian, ascending)
//	                 of the names containing the gram, while at most
//	                 DenseAt names do; deleted when more do
//	P ckpt           hash  the checkpoint of an unfinished rebuild
//	P lock           the rebuild lock (a token, with a deadline)
//	P tmp:<random>   a query's intersection, deleted after it (10 s TTL)
//
// Grams are the 1-, 2- and 3-rune substrings of the lowercased name.
package redisindex

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
)

// Index keeps the customer index in Redis. Set RDB; the other fields have
// defaults. Safe for concurrent use.
type Index struct {
	RDB redis.UniversalClient
	// DenseAt is how many names a gram's posting list holds at most
	// (0: DefaultDenseAt). Every writer and reader of one Redis must use
	// the same value; only tests change it.
	DenseAt int
}

var _ tenants.Index = Index{}

// DefaultDenseAt is the posting-list bound: a gram that more names
// contain is "dense" and answered by walking the list order instead.
const DefaultDenseAt = 8192

// Deadlines: one call (most), and a whole-tenant load or batch fill.
const (
	callTimeout = 2 * time.Second
	bulkTimeout = 30 * time.Second
	tmpTTL      = 10 * time.Second
)

// format is the value of the ready marker: the layout above.
const format = "2"

func (x Index) denseAt() int {
	if x.DenseAt > 0 {
		return x.DenseAt
	}
	return DefaultDenseAt
}

// keys are one tenant's key names.
type keys struct{ p string }

func keysOf(tenant string) keys { return keys{redisx.KeyIndex + "{" + tenant + "}:"} }

func (k keys) ready() string            { return k.p + "ready" }
func (k keys) records() string          { return k.p + "c" }
func (k keys) order() string            { return k.p + "o" }
func (k keys) ids() string              { return k.p + "id" }
func (k keys) names() string            { return k.p + "n" }
func (k keys) seq() string              { return k.p + "seq" }
func (k keys) gramCounts() string       { return k.p + "gc" }
func (k keys) denseGrams() string       { return k.p + "gd" }
func (k keys) gram(g string) string     { return k.p + "g:" + g }
func (k keys) checkpoint() string       { return k.p + "ckpt" }
func (k keys) lock() string             { return k.p + "lock" }
func (k keys) tmp(id string) string     { return k.p + "tmp:" + id }
func (k keys) legacy() (string, string) { return k.p + "customers", k.p + "built" } // format 1

var termPrefix = map[tenants.TermKind]string{tenants.TermAssociationType: "t:", tenants.TermLabel: "l:",
	tenants.TermIndirectPartnerID: "p:", tenants.TermManager: "m:"}

func (k keys) term(t tenants.Term) string { return k.p + termPrefix[t.Kind] + t.Value }

// score is a customer's place in list order: ascending score is newest
// association first; equal scores order by member (the name), as
// tenants.ListBefore does.
func score(t time.Time) float64 { return float64(-t.UnixMicro()) }

// grams returns the distinct 1-, 2- and 3-rune substrings of lowered.
func grams(lowered string) []string {
	r := []rune(lowered)
	seen := make(map[string]struct{}, 3*len(r))
	out := make([]string, 0, 3*len(r))
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(r); i++ {
			g := string(r[i : i+n])
			if _, ok := seen[g]; !ok {
				seen[g] = struct{}{}
				out = append(out, g)
			}
		}
	}
	return out
}

// Load implements tenants.Index (one HGETALL: the whole tenant). Errors
// are Redis's, or a decode error for a corrupt entry.
func (x Index) Load(ctx context.Context, tenant string) ([]tenants.Customer, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
	defer cancel()
	k := keysOf(tenant)
	if ok, err := x.ready(ctx, k); err != nil || !ok {
		return nil, false, err
	}
	m, err := x.RDB.HGetAll(ctx, k.records()).Result()
	if err != nil {
		return nil, false, err
	}
	out := make([]tenants.Customer, 0, len(m))
	for name, v := range m {
		c, err := decode(tenant, name, v)
		if err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	return out, true, nil
}

func (x Index) ready(ctx context.Context, k keys) (bool, error) {
	v, err := x.RDB.Get(ctx, k.ready()).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return v == format, err
}

// Checkpoint implements tenants.Index. Errors are Redis's.
func (x Index) Checkpoint(ctx context.Context, tenant string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	v, err := x.RDB.HMGet(ctx, keysOf(tenant).checkpoint(), "after", "count").Result()
	if err != nil {
		return "", 0, err
	}
	after, _ := v[0].(string)
	n, _ := v[1].(string)
	count, _ := strconv.Atoi(n)
	return after, count, nil
}

var lockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`)

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`)

// Lock implements tenants.Index. Errors are Redis's.
func (x Index) Lock(ctx context.Context, tenant, token string, ttl time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	n, err := lockScript.Run(ctx, x.RDB, []string{keysOf(tenant).lock()}, token, ttl.Milliseconds()).Int()
	return n == 1, err
}

// Unlock implements tenants.Index. Errors are Redis's.
func (x Index) Unlock(ctx context.Context, tenant, token string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return unlockScript.Run(ctx, x.RDB, []string{keysOf(tenant).lock()}, token).Err()
}
