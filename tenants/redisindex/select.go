package redisindex

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/tenants"
)

// walkChunk is how many names a walk of the list order reads at once.
const walkChunk = 1000

// query is one Select in progress.
type query struct {
	x      Index
	k      keys
	tenant string
	sel    *tenants.Selection
	// min and max bound the score (the association window), as ZCOUNT
	// arguments.
	min, max string
}

// Select implements tenants.Index. Its cost (docs/customer-index.md):
// a customer id is two hash reads; the terms and the window are counted
// and cut on one sorted set (ZCOUNT, ZRANGE by rank: O(log n + limit));
// several terms are intersected first in Redis (ZINTERSTORE, O(the
// smallest set)); a substring reads the posting lists of its rarest
// grams, or, when every gram is dense, walks the list order. Errors are
// Redis's, or a decode error for a corrupt entry.
func (x Index) Select(ctx context.Context, tenant string, sel tenants.Selection) ([]tenants.Customer, int, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	q := &query{x: x, k: keysOf(tenant), tenant: tenant, sel: &sel, min: "-inf", max: "+inf"}
	if ok, err := x.ready(ctx, q.k); err != nil || !ok {
		return nil, 0, false, err
	}
	if !sel.End.IsZero() {
		q.min = strconv.FormatFloat(score(sel.End), 'f', -1, 64)
	}
	if !sel.Begin.IsZero() {
		us := sel.Begin.UnixMicro()
		if sel.Begin.After(time.UnixMicro(us)) {
			us++ // the first whole microsecond at or after Begin
		}
		q.max = strconv.FormatFloat(float64(-us), 'f', -1, 64)
	}
	if sel.CustomerID != "" {
		cs, total, err := q.byID(ctx)
		return cs, total, true, err
	}
	base, cleanup, err := q.base(ctx)
	defer cleanup()
	if err != nil || base == "" {
		return nil, 0, true, err
	}
	var cs []tenants.Customer
	var total int
	if len(sel.Contains) == 0 {
		cs, total, err = q.window(ctx, base)
	} else {
		cs, total, err = q.contains(ctx, base)
	}
	return cs, total, true, err
}

// byID answers a selection with a customer id: at most one customer.
func (q *query) byID(ctx context.Context) ([]tenants.Customer, int, error) {
	name, err := q.x.RDB.HGet(ctx, q.k.ids(), q.sel.CustomerID).Result()
	if errors.Is(err, redis.Nil) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	cs, err := q.records(ctx, []string{name})
	if err != nil || len(cs) == 0 || !q.sel.Matches(&cs[0]) {
		return nil, 0, err
	}
	if q.sel.After != nil && !tenants.ListBefore(*q.sel.After, tenants.PositionOf(&cs[0])) || q.sel.Offset > 0 {
		return nil, 1, nil
	}
	return cs, 1, nil
}

// base returns the sorted set holding exactly the customers of every term
// group: the list order, one term's set, or an intersection made in Redis
// for this query (removed by cleanup). "" means none can match.
func (q *query) base(ctx context.Context) (string, func(), error) {
	nop := func() {}
	if len(q.sel.Groups) == 0 {
		return q.k.order(), nop, nil
	}
	var sets, tmps []string
	for _, g := range q.sel.Groups {
		switch len(g) {
		case 0:
			return "", nop, nil
		case 1:
			sets = append(sets, q.k.term(g[0]))
		default:
			tmps = append(tmps, q.k.tmp(ids.Hex(8)))
			sets = append(sets, tmps[len(tmps)-1])
		}
	}
	if len(sets) == 1 && len(tmps) == 0 {
		return sets[0], nop, nil
	}
	dest := sets[0]
	if len(sets) > 1 {
		dest = q.k.tmp(ids.Hex(8))
		tmps = append(tmps, dest)
	}
	cleanup := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
		defer cancel()
		q.x.RDB.Del(cctx, tmps...)
	}
	_, err := q.x.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		u := 0
		for _, g := range q.sel.Groups {
			if len(g) < 2 {
				continue
			}
			src := make([]string, len(g))
			for i, t := range g {
				src[i] = q.k.term(t)
			}
			p.ZUnionStore(ctx, tmps[u], &redis.ZStore{Keys: src, Aggregate: "MIN"})
			p.PExpire(ctx, tmps[u], tmpTTL)
			u++
		}
		if len(sets) > 1 {
			p.ZInterStore(ctx, dest, &redis.ZStore{Keys: sets, Aggregate: "MIN"})
			p.PExpire(ctx, dest, tmpTTL)
		}
		return nil
	})
	return dest, cleanup, err
}

// window answers a selection without substrings from the base set: count
// the window, find its first rank and the cursor's, read one range.
func (q *query) window(ctx context.Context, base string) ([]tenants.Customer, int, error) {
	var below, afterLess *redis.IntCmd
	var ties *redis.StringSliceCmd
	var afterScore string
	p := q.x.RDB.Pipeline()
	total := p.ZCount(ctx, base, q.min, q.max)
	if q.min != "-inf" {
		below = p.ZCount(ctx, base, "-inf", "("+q.min)
	}
	if q.sel.After != nil {
		afterScore = strconv.FormatFloat(score(q.sel.After.AssociatedOn), 'f', -1, 64)
		afterLess = p.ZCount(ctx, base, "-inf", "("+afterScore)
		ties = p.ZRangeByScore(ctx, base, &redis.ZRangeBy{Min: afterScore, Max: afterScore})
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, 0, err
	}
	first := int64(0)
	if below != nil {
		first = below.Val()
	}
	start := first
	if q.sel.After != nil {
		r := afterLess.Val()
		for _, m := range ties.Val() {
			if m <= q.sel.After.DomainName {
				r++
			}
		}
		start = max(start, r)
	}
	start += int64(q.sel.Offset)
	last := first + total.Val() - 1
	if q.sel.Limit > 0 {
		last = min(last, start+int64(q.sel.Limit)-1)
	}
	if start > last {
		return nil, int(total.Val()), nil
	}
	names, err := q.x.RDB.ZRange(ctx, base, start, last).Result()
	if err != nil {
		return nil, 0, err
	}
	cs, err := q.records(ctx, names)
	return cs, int(total.Val()), err
}

// records reads the customers of names, in that order (names missing
// from the records are skipped).
func (q *query) records(ctx context.Context, names []string) ([]tenants.Customer, error) {
	if len(names) == 0 {
		return nil, nil
	}
	vs, err := q.x.RDB.HMGet(ctx, q.k.records(), names...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]tenants.Customer, 0, len(vs))
	for i, v := range vs {
		s, ok := v.(string)
		if !ok {
			continue
		}
		c, err := decode(q.tenant, names[i], s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// hit is a candidate name with its score.
type hit struct {
	name  string
	score float64
}

func (h hit) before(o hit) bool {
	if h.score != o.score {
		return h.score < o.score
	}
	return h.name < o.name
}

// contains answers a selection with substrings.
func (q *query) contains(ctx context.Context, base string) ([]tenants.Customer, int, error) {
	var subs []string
	for _, s := range q.sel.Contains {
		if l := strings.ToLower(s); !slices.Contains(subs, l) {
			subs = append(subs, l)
		}
	}
	var gs []string // the grams every match contains
	for _, s := range subs {
		r := []rune(s)
		if len(r) <= 3 {
			gs = append(gs, s)
			continue
		}
		for i := 0; i+3 <= len(r); i++ {
			gs = append(gs, string(r[i:i+3]))
		}
	}
	slices.Sort(gs)
	gs = slices.Compact(gs)
	p := q.x.RDB.Pipeline()
	hm := p.HMGet(ctx, q.k.gramCounts(), gs...)
	dense := p.HMGet(ctx, q.k.denseGrams(), gs...)
	size := p.ZCard(ctx, q.k.order())
	if _, err := p.Exec(ctx); err != nil {
		return nil, 0, err
	}
	vs := hm.Val()
	counts := make(map[string]int, len(gs))
	var sparse []string
	for i, v := range vs {
		n := 0
		if s, ok := v.(string); ok {
			n, _ = strconv.Atoi(s)
		}
		if n == 0 {
			return nil, 0, nil // some gram is in no name
		}
		counts[gs[i]] = n
		if _, marked := dense.Val()[i].(string); n <= q.x.denseAt() && !marked {
			sparse = append(sparse, gs[i])
		}
	}
	match := func(name string) bool {
		l := strings.ToLower(name)
		for _, s := range subs {
			if !strings.Contains(l, s) {
				return false
			}
		}
		return true
	}
	// One gram over the whole list: its count is exact, and walking the
	// list order finds a page after about (offset+limit)·size/count names,
	// cheaper than resolving count candidates when the gram is common.
	exact := -1
	if len(subs) == 1 && len([]rune(subs[0])) <= 3 && base == q.k.order() && q.min == "-inf" && q.max == "+inf" {
		exact = counts[subs[0]]
	}
	if len(sparse) == 0 || exact > 0 && q.sel.Limit > 0 && q.sel.After == nil &&
		int64(q.sel.Offset+q.sel.Limit)*size.Val() < 2*int64(exact)*int64(exact) {
		return q.walk(ctx, base, match, exact)
	}
	slices.SortFunc(sparse, func(a, b string) int { return counts[a] - counts[b] })
	hits, err := q.candidates(ctx, base, sparse[:min(3, len(sparse))], match)
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	total := len(hits)
	if a := q.sel.After; a != nil {
		pos := hit{a.DomainName, score(a.AssociatedOn)}
		i, _ := slices.BinarySearchFunc(hits, pos, func(h, p hit) int {
			if !p.before(h) { // h at or before the cursor
				return -1
			}
			return 1
		})
		hits = hits[i:]
	}
	hits = hits[min(q.sel.Offset, len(hits)):]
	if q.sel.Limit > 0 && len(hits) > q.sel.Limit {
		hits = hits[:q.sel.Limit]
	}
	names := make([]string, len(hits))
	for i, h := range hits {
		names[i] = h.name
	}
	cs, err := q.records(ctx, names)
	return cs, total, err
}

// candidates intersects the posting lists of gs, resolves the ordinals to
// names, keeps those that match and lie in base within the window, with
// their scores.
func (q *query) candidates(ctx context.Context, base string, gs []string, match func(string) bool) ([]hit, error) {
	p := q.x.RDB.Pipeline()
	gets := make([]*redis.StringCmd, len(gs))
	for i, g := range gs {
		gets[i] = p.Get(ctx, q.k.gram(g))
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var ords []uint32
	for i, g := range gets {
		b, _ := g.Bytes()
		list := make([]uint32, len(b)/4)
		for j := range list {
			list[j] = binary.LittleEndian.Uint32(b[4*j:])
		}
		if i == 0 {
			ords = list
		} else {
			ords = intersect(ords, list)
		}
		if len(ords) == 0 {
			return nil, nil
		}
	}
	fields := make([]string, len(ords))
	for i, o := range ords {
		fields[i] = strconv.FormatUint(uint64(o), 10)
	}
	vs, err := q.x.RDB.HMGet(ctx, q.k.names(), fields...).Result()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, v := range vs {
		if s, ok := v.(string); ok && match(s) && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2+len(names))
	args = append(args, "ZMSCORE", base)
	for _, n := range names {
		args = append(args, n)
	}
	scores, err := q.x.RDB.Do(ctx, args...).Slice()
	if err != nil {
		return nil, err
	}
	lo, hi := bound(q.min), bound(q.max)
	out := make([]hit, 0, len(names))
	for i, v := range scores {
		var f float64
		switch v := v.(type) {
		case float64: // RESP3
			f = v
		case string: // RESP2
			var err error
			if f, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		default:
			continue // not in base
		}
		if f >= lo && f <= hi {
			out = append(out, hit{names[i], f})
		}
	}
	return out, nil
}

func bound(s string) float64 {
	switch s {
	case "-inf":
		return math.Inf(-1)
	case "+inf":
		return math.Inf(1)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// intersect returns the values in both ascending lists.
func intersect(a, b []uint32) []uint32 {
	out := a[:0:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// walk reads base in list order within the window, chunk by chunk,
// keeping the names that match; with exact (the match count, known) >= 0
// it stops once the page is full, otherwise it counts to the end.
func (q *query) walk(ctx context.Context, base string, match func(string) bool, exact int) ([]tenants.Customer, int, error) {
	p := q.x.RDB.Pipeline()
	n := p.ZCount(ctx, base, q.min, q.max)
	var below *redis.IntCmd
	if q.min != "-inf" {
		below = p.ZCount(ctx, base, "-inf", "("+q.min)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, 0, err
	}
	first := int64(0)
	if below != nil {
		first = below.Val()
	}
	end := first + n.Val()
	var after *hit
	if a := q.sel.After; a != nil {
		after = &hit{a.DomainName, score(a.AssociatedOn)}
	}
	skip, matched := q.sel.Offset, 0
	var page []string
	for r := first; r < end; r += walkChunk {
		zs, err := q.x.RDB.ZRangeWithScores(ctx, base, r, min(r+walkChunk, end)-1).Result()
		if err != nil {
			return nil, 0, err
		}
		for _, z := range zs {
			name, _ := z.Member.(string)
			if !match(name) {
				continue
			}
			matched++
			switch {
			case after != nil && !after.before(hit{name, z.Score}):
			case skip > 0:
				skip--
			case q.sel.Limit == 0 || len(page) < q.sel.Limit:
				page = append(page, name)
			}
		}
		if exact >= 0 && q.sel.Limit > 0 && len(page) == q.sel.Limit {
			matched = exact
			break
		}
	}
	cs, err := q.records(ctx, page)
	return cs, matched, err
}
