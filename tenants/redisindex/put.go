package redisindex

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/tenants"
)

// putScript writes one customer and every entry that finds it, in one
// atomic step within the tenant's slot, if the record is still what the
// caller read (ARGV[2], "" for none); it returns 0 when it is not, and
// the caller reads again.
//
// KEYS: c, o, id, n, seq, gc, gd, then the term sets to leave (ARGV[7]
// of them), the term sets to be in (ARGV[8]), the gram postings (ARGV[9]).
// ARGV: name, expected record, JSON, score, domain id, old domain id,
// #leave, #join, #grams, DenseAt, then the grams.
//
// The record is written first: a refused write (ACL, OOM) leaves nothing
// but a spent ordinal. Grams are posted only for a new name (a name
// never changes, so neither do its grams), and never to a gram marked
// dense (gd: its posting list was deleted; see remove.go).
var putScript = redis.NewScript(`
local name = ARGV[1]
local cur = redis.call('HGET', KEYS[1], name)
if (cur or '') ~= ARGV[2] then return 0 end
local ord
if cur then
  ord = string.match(cur, '^(%d+)|')
else
  ord = tostring(redis.call('INCR', KEYS[5]))
end
redis.call('HSET', KEYS[1], name, ord .. '|' .. ARGV[3])
if not cur then redis.call('HSET', KEYS[4], ord, name) end
if ARGV[6] ~= '' and ARGV[6] ~= ARGV[5] and redis.call('HGET', KEYS[3], ARGV[6]) == name then
  redis.call('HDEL', KEYS[3], ARGV[6])
end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], ARGV[5], name) end
redis.call('ZADD', KEYS[2], ARGV[4], name)
local k = 8
for i = 1, tonumber(ARGV[7]) do redis.call('ZREM', KEYS[k], name); k = k + 1 end
for i = 1, tonumber(ARGV[8]) do redis.call('ZADD', KEYS[k], ARGV[4], name); k = k + 1 end
if not cur then
  local cap = tonumber(ARGV[10])
  local o = tonumber(ord)
  local packed = string.char(o % 256, math.floor(o / 256) % 256, math.floor(o / 65536) % 256, math.floor(o / 16777216) % 256)
  for i = 1, tonumber(ARGV[9]) do
    local n = redis.call('HINCRBY', KEYS[6], ARGV[10 + i], 1)
    if redis.call('HEXISTS', KEYS[7], ARGV[10 + i]) == 1 then
      -- dense for good: no posting list
    elseif n <= cap then
      redis.call('APPEND', KEYS[k], packed)
    elseif n == cap + 1 then
      redis.call('DEL', KEYS[k])
    end
    k = k + 1
  end
end
return 1`)

// putCall is one prepared putScript call.
type putCall struct {
	keys []string
	args []any
}

// prepare builds the putScript call that turns old (the stored record
// value, "" for none) into c. Errors: a customer without a name, a corrupt
// old record.
func (x Index) prepare(k keys, c *tenants.Customer, old string) (putCall, error) {
	if c.DomainName == "" {
		return putCall{}, errors.New("index: customer without an account name")
	}
	b, err := encode(c)
	if err != nil {
		return putCall{}, err
	}
	var leave []tenants.Term
	oldID := ""
	join := tenants.TermsOf(c)
	if old != "" {
		prev, err := decode(c.Tenant, c.DomainName, old)
		if err != nil {
			return putCall{}, err
		}
		oldID = prev.DomainID
		for _, t := range tenants.TermsOf(&prev) {
			if !slices.Contains(join, t) {
				leave = append(leave, t)
			}
		}
	}
	var gs []string
	if old == "" {
		gs = grams(strings.ToLower(c.DomainName))
	}
	call := putCall{keys: make([]string, 0, 7+len(leave)+len(join)+len(gs))}
	call.keys = append(call.keys, k.records(), k.order(), k.ids(), k.names(), k.seq(), k.gramCounts(), k.denseGrams())
	for _, t := range leave {
		call.keys = append(call.keys, k.term(t))
	}
	for _, t := range join {
		call.keys = append(call.keys, k.term(t))
	}
	for _, g := range gs {
		call.keys = append(call.keys, k.gram(g))
	}
	call.args = append(make([]any, 0, 10+len(gs)), c.DomainName, old, b,
		strconv.FormatFloat(score(c.AssociatedOn), 'f', -1, 64), c.DomainID, oldID,
		len(leave), len(join), len(gs), x.denseAt())
	for _, g := range gs {
		call.args = append(call.args, g)
	}
	return call, nil
}

// maxPutAttempts bounds the read-and-write retries of one customer under
// concurrent writes of the same customer.
const maxPutAttempts = 8

// Put implements tenants.Index: one atomic script call (after reading the
// current record). Errors are Redis's, or ErrContention-like when the
// record kept changing.
func (x Index) Put(ctx context.Context, c *tenants.Customer) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return x.put(ctx, keysOf(c.Tenant), c)
}

func (x Index) put(ctx context.Context, k keys, c *tenants.Customer) error {
	for range maxPutAttempts {
		old, err := x.RDB.HGet(ctx, k.records(), c.DomainName).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		call, err := x.prepare(k, c, old)
		if err != nil {
			return err
		}
		n, err := putScript.Run(ctx, x.RDB, call.keys, call.args...).Int()
		if err != nil || n == 1 {
			return err
		}
	}
	return fmt.Errorf("index: customer %q changed concurrently %d times", c.DomainName, maxPutAttempts)
}

// Fill implements tenants.Index: the customers in pipelined script calls
// (one read pipeline, one write pipeline; a customer changed in between
// is written again alone), then the checkpoint, or the ready marker (and
// the removal of the checkpoint and of the previous format's keys). It
// never deletes customers, so one indexed by a concurrent registration
// during a rebuild is not lost. Errors are Redis's.
func (x Index) Fill(ctx context.Context, tenant string, cs []tenants.Customer, checkpoint string, count int, built bool) error {
	ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
	defer cancel()
	k := keysOf(tenant)
	if len(cs) > 0 {
		if err := putScript.Load(ctx, x.RDB).Err(); err != nil {
			return err
		}
		reads := make([]*redis.StringCmd, len(cs))
		if _, err := x.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range cs {
				reads[i] = p.HGet(ctx, k.records(), cs[i].DomainName)
			}
			return nil
		}); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		writes := make([]*redis.Cmd, len(cs))
		if _, err := x.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range cs {
				call, err := x.prepare(k, &cs[i], reads[i].Val())
				if err != nil {
					return err
				}
				writes[i] = p.EvalSha(ctx, putScript.Hash(), call.keys, call.args...)
			}
			return nil
		}); err != nil {
			return err
		}
		for i, w := range writes {
			if n, _ := w.Int(); n != 1 {
				if err := x.put(ctx, k, &cs[i]); err != nil {
					return err
				}
			}
		}
	}
	_, err := x.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if checkpoint != "" {
			p.HSet(ctx, k.checkpoint(), "after", checkpoint, "count", count)
		}
		if built {
			l1, l2 := k.legacy()
			p.Set(ctx, k.ready(), format, 0)
			p.Del(ctx, k.checkpoint(), l1, l2)
		}
		return nil
	})
	return err
}
