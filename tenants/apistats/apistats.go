// Package apistats counts partner API requests per tenant, per UTC day,
// by operation and answer code, in Redis, for the partner admins' request
// summary. One hash per tenant and day, all of a tenant's days in one
// Redis Cluster slot (the {tenant} hash tag):
//
//	livery:apistats:{<tenant>}:<YYYY-MM-DD>   hash: "<operation> <code>" → count
//
// Each day's hash expires Retention after its last write. It holds nothing
// durable: after a Redis flush the summary starts again from zero. A
// failure to count never fails the request that is counted: Record logs
// it (at most once a minute) and counts it (Failures).
package apistats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/redisx"
)

// Limits of the summary and of the data kept.
const (
	// DefaultDays is the summary's period when the caller names none.
	DefaultDays = 7
	// MaxDays is the longest period a summary covers.
	MaxDays = 31
	// Retention is how long a day's counts are kept after its last
	// request (a little longer than MaxDays).
	Retention = 35 * 24 * time.Hour
	// CodeSuccess is the code counted for a request answered without an
	// error code.
	CodeSuccess = "success"
)

// Deadlines of the Redis calls: counting one request, reading a summary.
const (
	recordTimeout  = 250 * time.Millisecond
	summaryTimeout = 2 * time.Second
	logEvery       = time.Minute
)

// ErrDays: a summary period outside 1 to MaxDays days.
var ErrDays = errors.New("apistats: days must be from 1 to 31")

// Options configure Stats. Zero values select the defaults.
type Options struct {
	Logger *slog.Logger
	// Now is the clock (nil: time.Now); days are UTC days.
	Now func() time.Time
}

// Stats counts and summarizes partner API requests. Safe for concurrent
// use.
type Stats struct {
	rdb      redis.UniversalClient
	log      *slog.Logger
	now      func() time.Time
	failures atomic.Uint64
	lastLog  atomic.Int64 // Unix nanoseconds of the last logged failure
}

// New returns Stats on rdb.
func New(rdb redis.UniversalClient, o Options) *Stats {
	s := &Stats{rdb: rdb, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Key is the Redis key of tenant's counts of the UTC day of day.
func Key(tenant string, day time.Time) string {
	return redisx.KeyAPIStats + "{" + tenant + "}:" + day.UTC().Format(time.DateOnly)
}

// Record counts one request of tenant: operation op answered with code
// ("" counts as CodeSuccess). It waits at most recordTimeout for Redis,
// also when ctx ends first (the request is answered already), and never
// fails: an error is logged and counted in Failures.
func (s *Stats) Record(ctx context.Context, tenant, op, code string) {
	if tenant == "" {
		return
	}
	if code == "" {
		code = CodeSuccess
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	k := Key(tenant, s.now())
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, k, field(op, code), 1)
		p.Expire(ctx, k, Retention)
		return nil
	})
	if err != nil {
		s.failures.Add(1)
		now := time.Now().UnixNano()
		if last := s.lastLog.Load(); now-last >= int64(logEvery) && s.lastLog.CompareAndSwap(last, now) {
			s.log.Warn("apistats: partner API request not counted (the summary undercounts)", "tenant", tenant,
				"operation", op, "code", code, "failures", s.failures.Load(), "err", err)
		}
	}
}

// Failures is the number of requests Record could not count since start.
func (s *Stats) Failures() uint64 { return s.failures.Load() }

func field(op, code string) string { return op + " " + code }

// Count is the number of requests of one operation answered with one code.
type Count struct {
	Operation string `json:"operation"`
	Code      string `json:"code"`
	Count     int64  `json:"count"`
}

// Day is the number of requests of one UTC day (YYYY-MM-DD).
type Day struct {
	Day   string `json:"day"`
	Total int64  `json:"total"`
}

// Summary is a tenant's requests of the last Days UTC days, today
// included: From and To are the first and last day (YYYY-MM-DD).
type Summary struct {
	Tenant string `json:"tenant"`
	Days   int    `json:"days"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Counts are by operation, then code.
	Counts []Count `json:"counts"`
	// PerDay has every day of the period, oldest first (zero included).
	PerDay []Day `json:"per_day"`
	Total  int64 `json:"total"`
}

// Summary adds up tenant's counts of the last days UTC days (today
// included; 0 means DefaultDays). Errors: ErrDays, Redis's.
func (s *Stats) Summary(ctx context.Context, tenant string, days int) (Summary, error) {
	if days == 0 {
		days = DefaultDays
	}
	if days < 1 || days > MaxDays {
		return Summary{}, ErrDays
	}
	ctx, cancel := context.WithTimeout(ctx, summaryTimeout)
	defer cancel()
	today := s.now().UTC()
	first := today.AddDate(0, 0, -(days - 1))
	cmds := make([]*redis.MapStringStringCmd, days)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range days {
			cmds[i] = p.HGetAll(ctx, Key(tenant, first.AddDate(0, 0, i)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Summary{}, fmt.Errorf("apistats: read summary of %s: %w", tenant, err)
	}
	out := Summary{Tenant: tenant, Days: days, From: first.Format(time.DateOnly), To: today.Format(time.DateOnly),
		Counts: []Count{}, PerDay: make([]Day, days)}
	sums := map[[2]string]int64{}
	for i, cmd := range cmds {
		out.PerDay[i].Day = first.AddDate(0, 0, i).Format(time.DateOnly)
		for f, v := range cmd.Val() {
			op, code, ok := strings.Cut(f, " ")
			n, err := strconv.ParseInt(v, 10, 64)
			if !ok || err != nil || n < 0 {
				continue // not a field Record writes
			}
			sums[[2]string{op, code}] += n
			out.PerDay[i].Total += n
			out.Total += n
		}
	}
	for k, n := range sums {
		out.Counts = append(out.Counts, Count{Operation: k[0], Code: k[1], Count: n})
	}
	slices.SortFunc(out.Counts, func(a, b Count) int {
		if c := strings.Compare(a.Operation, b.Operation); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out, nil
}
