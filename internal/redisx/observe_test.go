package redisx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/testenv"
)

// TestLoggerBacksOff: go-redis's lines become JSON records (no plain text
// in the log); a repeated message is logged at most once per interval and
// the next line says how many were suppressed; other messages are not held
// back by it.
func TestLoggerBacksOff(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewJSONHandler(&buf, nil)), 10*time.Second)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	ctx := context.Background()
	dial := "redis: %s: connection pool: failed to dial after %d attempts: %s"
	for i := range 5 {
		l.Printf(ctx, dial, "10.0.0.1:6379", i, "connection refused")
		now = now.Add(time.Second)
	}
	l.Printf(ctx, "redis: discarding bad PubSub connection: %s", "EOF") // another message: logged at once
	now = now.Add(6 * time.Second)                                      // 11 s after the first
	l.Printf(ctx, dial, "10.0.0.2:6379", 9, "connection refused")

	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not a JSON record: %q (%v)", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(recs), buf.String())
	}
	want := []struct {
		msg        string
		suppressed any
	}{
		{"redis: 10.0.0.1:6379: connection pool: failed to dial after 0 attempts: connection refused", nil},
		{"redis: discarding bad PubSub connection: EOF", nil},
		{"redis: 10.0.0.2:6379: connection pool: failed to dial after 9 attempts: connection refused", float64(4)},
	}
	for i, w := range want {
		r := recs[i]
		if r["msg"] != w.msg || r["level"] != "WARN" || r["component"] != "go-redis" || r["suppressed"] != w.suppressed {
			t.Errorf("line %d = %v, want msg %q suppressed %v", i, r, w.msg, w.suppressed)
		}
	}
}

// TestSetLoggerRoutesGoRedisLines: go-redis's own warning when it cannot
// dial (here: a closed port) arrives in the slog handler as JSON, once per
// LogEvery however often it recurs, and not on stderr as plain text.
func TestSetLoggerRoutesGoRedisLines(t *testing.T) {
	var buf syncBuf
	SetLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { SetLogger(slog.New(slog.DiscardHandler)) })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond,
		MaxRetries: -1, DialerRetries: 1})
	defer rdb.Close()
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := rdb.Ping(ctx).Err(); err == nil {
			t.Fatal("ping of a closed port succeeded")
		}
		cancel()
	}
	out := strings.TrimSpace(buf.String())
	if out == "" {
		t.Fatal("go-redis logged nothing through slog")
	}
	lines := strings.Split(out, "\n")
	dials := 0
	for _, line := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("plain-text line in the JSON log: %q", line)
		}
		if r["component"] != "go-redis" {
			t.Errorf("record without component=go-redis: %v", r)
		}
		if m, _ := r["msg"].(string); strings.Contains(m, "failed to dial") {
			dials++
		}
	}
	if dials != 1 {
		t.Errorf("%d dial warnings in 5 failed pings, want 1 (backed off):\n%s", dials, out)
	}
}

// TestMetricsHook: every command is timed by operation; failures are
// counted, a missing key is not, against a real redis-server.
func TestMetricsHook(t *testing.T) {
	m := NewMetrics()
	c, err := Open(context.Background(), Options{URL: "redis://" + testenv.Redis(t) + "/0", Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.Set(ctx, "obs:k", "v", time.Minute)
	if err := c.Get(ctx, "obs:missing").Err(); err != redis.Nil {
		t.Fatalf("get missing: %v", err)
	}
	if err := c.Incr(ctx, "obs:k").Err(); err == nil { // not an integer
		t.Fatal("incr of a string succeeded")
	}
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error { p.Get(ctx, "obs:k"); return nil })
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	errs, counts := map[string]float64{}, map[string]uint64{}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			op := s.GetLabel()[0].GetValue()
			switch f.GetName() {
			case "livery_redis_errors_total":
				errs[op] = s.GetCounter().GetValue()
			case "livery_redis_command_duration_seconds":
				counts[op] = s.GetHistogram().GetSampleCount()
			}
		}
	}
	for op, v := range errs {
		if v == 0 {
			delete(errs, op) // exposed from the start (dial, ping)
		}
	}
	if errs["incr"] != 1 || len(errs) != 1 {
		t.Errorf("errors by operation: %v, want incr 1 only", errs)
	}
	for _, op := range []string{"ping", "set", "get", "incr", "pipeline"} {
		if counts[op] == 0 {
			t.Errorf("no %s timed: %v", op, counts)
		}
	}
	if counts["get"] != 1 {
		t.Errorf("get timed %d times, want 1 (the pipeline counts as pipeline)", counts["get"])
	}
}

type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
