package apistats_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants/apistats"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func open(t *testing.T, url string) *redisx.Conn {
	t.Helper()
	rdb, err := redisx.Open(context.Background(), redisx.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestStats runs against a real redis-server: the documented key (one
// hash per tenant and day, one cluster slot per tenant) with its expiry,
// tenants apart, days outside the period left out, the period's bounds.
func TestStats(t *testing.T) {
	ctx := context.Background()
	rdb := open(t, "redis://"+testenv.Redis(t))
	day := time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC)
	clk := &clock{t: day}
	s := apistats.New(rdb, apistats.Options{Now: clk.now})
	if sum, err := s.Summary(ctx, "acme", 0); err != nil || sum.Total != 0 || sum.Days != 7 || len(sum.PerDay) != 7 || sum.Counts == nil {
		t.Fatalf("empty: %+v %v", sum, err)
	}
	for _, r := range []struct {
		at               time.Time
		tenant, op, code string
	}{
		{day, "acme", "create", ""},
		{day, "acme", "create", ""},
		{day, "acme", "create", "CBC.0101"},
		{day, "acme", "query", "success"},
		{day.AddDate(0, 0, -1), "acme", "create", "CBC.0101"},
		{day.AddDate(0, 0, -6), "acme", "send-code", "APIGW.0308"},
		{day.AddDate(0, 0, -7), "acme", "create", "success"}, // outside 7 days
		{day, "globex", "create", "success"},
		{day, "", "create", "success"}, // no tenant: not counted
	} {
		clk.set(r.at)
		s.Record(ctx, r.tenant, r.op, r.code)
	}
	clk.set(day)
	sum, err := s.Summary(ctx, "acme", 7)
	if err != nil {
		t.Fatal(err)
	}
	want := []apistats.Count{{"create", "CBC.0101", 2}, {"create", "success", 2}, {"query", "success", 1}, {"send-code", "APIGW.0308", 1}}
	if len(sum.Counts) != len(want) {
		t.Fatalf("counts %+v, want %+v", sum.Counts, want)
	}
	for i := range want {
		if sum.Counts[i] != want[i] {
			t.Fatalf("counts %+v, want %+v", sum.Counts, want)
		}
	}
	if sum.Total != 6 || sum.From != "2026-03-04" || sum.To != "2026-03-10" || sum.PerDay[0].Total != 1 || sum.PerDay[6].Total != 4 || sum.PerDay[5].Total != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if sum8, err := s.Summary(ctx, "acme", 8); err != nil || sum8.Total != 7 {
		t.Fatalf("8 days: %+v %v", sum8, err)
	}
	if g, _ := s.Summary(ctx, "globex", 1); g.Total != 1 {
		t.Fatalf("globex: %+v", g)
	}
	k := "livery:apistats:{acme}:2026-03-10"
	if k != apistats.Key("acme", day) {
		t.Fatalf("key %q", apistats.Key("acme", day))
	}
	if n, err := rdb.HGet(ctx, k, "create success").Int64(); err != nil || n != 2 {
		t.Fatalf("documented field: %d %v", n, err)
	}
	if ttl := rdb.TTL(ctx, k).Val(); ttl < apistats.Retention-time.Minute || ttl > apistats.Retention {
		t.Fatalf("ttl %v", ttl)
	}
	for _, d := range []int{-1, 32} {
		if _, err := s.Summary(ctx, "acme", d); !errors.Is(err, apistats.ErrDays) {
			t.Fatalf("days %d: %v", d, err)
		}
	}
	if _, err := s.Summary(ctx, "acme", apistats.MaxDays); err != nil {
		t.Fatal(err)
	}
}

// TestRecordNeverFails: with Redis gone, Record returns promptly, counts
// the failure and logs it once; Summary reports the error.
func TestRecordNeverFails(t *testing.T) {
	ctx := context.Background()
	rdb := open(t, "redis://"+testenv.Redis(t))
	var logs bytes.Buffer
	s := apistats.New(rdb, apistats.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.Record(ctx, "acme", "create", "")
	if s.Failures() != 0 {
		t.Fatalf("failures before: %d", s.Failures())
	}
	rdb.Close()
	start := time.Now()
	for range 3 {
		s.Record(ctx, "acme", "create", "")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Record took %v with Redis down", d)
	}
	if s.Failures() != 3 || strings.Count(logs.String(), "not counted") != 1 {
		t.Fatalf("failures %d, logs %q", s.Failures(), logs.String())
	}
	if _, err := s.Summary(ctx, "acme", 1); err == nil {
		t.Fatal("summary without Redis: no error")
	}
}
