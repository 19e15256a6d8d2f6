package redisindex

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/tenants"
)

// removeScript drops one customer and every entry that finds it, in one
// atomic step within the tenant's slot, if the record is still what the
// caller read (ARGV[2]); it returns 0 when it is not, and the caller
// reads again.
//
// KEYS: c, o, id, n, gc, gd, then the term sets the record is in (ARGV[4]
// of them), then the gram postings of the name (ARGV[5]).
// ARGV: name, expected record, domain id, #terms, #grams, DenseAt, then
// the grams.
//
// Gram counts stay exact (a query's total relies on them). A gram's
// posting list loses the name's ordinal; a gram that is dense (more names
// than DenseAt, no posting list) is marked in gd, so that it stays
// without a posting list when fewer names contain it again (its list
// would be incomplete).
var removeScript = redis.NewScript(`
local name = ARGV[1]
local cur = redis.call('HGET', KEYS[1], name)
if not cur then return 1 end
if cur ~= ARGV[2] then return 0 end
local ord = string.match(cur, '^(%d+)|')
redis.call('HDEL', KEYS[1], name)
redis.call('ZREM', KEYS[2], name)
if ARGV[3] ~= '' and redis.call('HGET', KEYS[3], ARGV[3]) == name then
  redis.call('HDEL', KEYS[3], ARGV[3])
end
redis.call('HDEL', KEYS[4], ord)
local nt = tonumber(ARGV[4])
for i = 1, nt do redis.call('ZREM', KEYS[6 + i], name) end
local cap = tonumber(ARGV[6])
local o = tonumber(ord)
local packed = string.char(o % 256, math.floor(o / 256) % 256, math.floor(o / 65536) % 256, math.floor(o / 16777216) % 256)
local k = 7 + nt
for i = 1, tonumber(ARGV[5]) do
  local g = ARGV[6 + i]
  local n = tonumber(redis.call('HGET', KEYS[5], g) or '0')
  if n > cap then
    redis.call('HSET', KEYS[6], g, '1')
  elseif redis.call('HEXISTS', KEYS[6], g) == 0 then
    local s = redis.call('GET', KEYS[k])
    if s then
      for j = 1, #s, 4 do
        if string.sub(s, j, j + 3) == packed then
          s = string.sub(s, 1, j - 1) .. string.sub(s, j + 4)
          if #s == 0 then redis.call('DEL', KEYS[k]) else redis.call('SET', KEYS[k], s) end
          break
        end
      end
    end
  end
  if n > 0 then redis.call('HINCRBY', KEYS[5], g, -1) end
  k = k + 1
end
return 1`)

// Remove implements tenants.Index: one atomic script call (after reading
// the current record). Removing a name the index does not hold is not an
// error. Errors are Redis's, a decode error for a corrupt entry, or a
// contention error when the record kept changing.
func (x Index) Remove(ctx context.Context, tenant, name string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	k := keysOf(tenant)
	for range maxPutAttempts {
		old, err := x.RDB.HGet(ctx, k.records(), name).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		prev, err := decode(tenant, name, old)
		if err != nil {
			return err
		}
		terms := tenants.TermsOf(&prev)
		gs := grams(strings.ToLower(name))
		keys := make([]string, 0, 6+len(terms)+len(gs))
		keys = append(keys, k.records(), k.order(), k.ids(), k.names(), k.gramCounts(), k.denseGrams())
		for _, t := range terms {
			keys = append(keys, k.term(t))
		}
		for _, g := range gs {
			keys = append(keys, k.gram(g))
		}
		args := make([]any, 0, 6+len(gs))
		args = append(args, name, old, prev.DomainID, len(terms), len(gs), x.denseAt())
		for _, g := range gs {
			args = append(args, g)
		}
		n, err := removeScript.Run(ctx, x.RDB, keys, args...).Int()
		if err != nil || n == 1 {
			return err
		}
	}
	return fmt.Errorf("index: customer %q changed concurrently %d times", name, maxPutAttempts)
}
