package redisx

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/testenv"
)

const testChannel = "livery:test:sub"

var quiet = slog.New(slog.DiscardHandler)

// recorder counts a Subscriber's callbacks and queues its messages.
type recorder struct {
	subscribed, errs atomic.Int64
	msgs             chan string
}

func newRecorder() *recorder { return &recorder{msgs: make(chan string, 100)} }

func (r *recorder) handlers() Handlers {
	return Handlers{
		OnSubscribed: func() { r.subscribed.Add(1) },
		OnMessage:    func(p string) { r.msgs <- p },
		OnError:      func(error) { r.errs.Add(1) },
	}
}

// next returns the next message, failing the test after 5 s.
func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return ""
	}
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func subscribed(t *testing.T, s *Subscriber) {
	t.Helper()
	select {
	case <-s.Subscribed():
	case <-time.After(10 * time.Second):
		t.Fatal("never subscribed")
	}
}

// backend is a Redis deployment whose subscriptions a test can break.
type backend struct {
	conn *Conn
	addr string // the server's (a cluster's seed)
	// breaks name ways to break the subscription; each returns once the
	// server accepts connections again.
	breaks map[string]func(t *testing.T)
}

func backends(t *testing.T) map[string]func(t *testing.T) backend {
	killPubSub := func(addr string) func(t *testing.T) {
		return func(t *testing.T) {
			admin := redis.NewClient(&redis.Options{Addr: addr})
			defer admin.Close()
			n, err := admin.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Result()
			if err != nil || n == 0 {
				t.Fatalf("CLIENT KILL TYPE pubsub = %d, %v", n, err)
			}
		}
	}
	open := func(t *testing.T, o Options) *Conn {
		c, err := Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return map[string]func(t *testing.T) backend{
		"embedded": func(t *testing.T) backend {
			c := open(t, Options{})
			return backend{conn: c, addr: c.Embedded.Addr(), breaks: map[string]func(t *testing.T){
				"server restarted": func(t *testing.T) {
					c.Embedded.Close()
					if err := c.Embedded.Restart(); err != nil {
						t.Fatal(err)
					}
				},
			}}
		},
		"redis-server": func(t *testing.T) backend {
			srv := testenv.StartRedis(t)
			return backend{conn: open(t, Options{URL: "redis://" + srv.Addr + "/0"}), addr: srv.Addr, breaks: map[string]func(t *testing.T){
				"pubsub clients killed": killPubSub(srv.Addr),
				"server restarted":      func(t *testing.T) { srv.Stop(); srv.Start() },
			}}
		},
		"cluster": func(t *testing.T) backend {
			srv := startCluster(t)
			return backend{conn: open(t, Options{Addrs: []string{srv.Addr}}), addr: srv.Addr, breaks: map[string]func(t *testing.T){
				"pubsub clients killed": killPubSub(srv.Addr),
			}}
		},
	}
}

// startCluster starts a one-node Redis Cluster holding every slot.
func startCluster(t *testing.T) *testenv.RedisServer {
	srv := testenv.StartRedis(t, "--cluster-enabled", "yes")
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	ctx := context.Background()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "cluster state ok", func() bool {
		info, _ := admin.ClusterInfo(ctx).Result()
		return strings.Contains(info, "cluster_state:ok")
	})
	return srv
}

func TestSubscriberDeliversMessages(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			rec := newRecorder()
			s := Subscribe(context.Background(), b.conn, testChannel, rec.handlers(), quiet)
			defer s.Close()
			subscribed(t, s)
			if !s.Ready() || rec.subscribed.Load() != 1 {
				t.Fatalf("after subscribing: Ready %v, OnSubscribed ran %d times", s.Ready(), rec.subscribed.Load())
			}
			for _, p := range []string{"one", "two", "three"} {
				if err := b.conn.Publish(context.Background(), testChannel, p).Err(); err != nil {
					t.Fatal(err)
				}
			}
			for _, want := range []string{"one", "two", "three"} {
				if got := rec.next(t); got != want {
					t.Fatalf("message %q; want %q", got, want)
				}
			}
			if err := b.conn.Publish(context.Background(), testChannel+":other", "x").Err(); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-rec.msgs:
				t.Fatalf("message %q from another channel", m)
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}

// After the server restarts or the subscription's connection is killed,
// the Subscriber subscribes again, runs OnSubscribed again and delivers.
func TestSubscriberResubscribes(t *testing.T) {
	for name, open := range backends(t) {
		for how := range open(t).breaks {
			t.Run(name+"/"+how, func(t *testing.T) {
				b := open(t)
				rec := newRecorder()
				s := Subscribe(context.Background(), b.conn, testChannel, rec.handlers(), quiet)
				defer s.Close()
				subscribed(t, s)
				b.breaks[how](t)
				took := waitUntil(t, 10*time.Second, "OnSubscribed again", func() bool { return rec.subscribed.Load() == 2 })
				t.Logf("resubscribed %s after the break", took)
				if !s.Ready() || rec.errs.Load() == 0 {
					t.Fatalf("after resubscribing: Ready %v, OnError ran %d times", s.Ready(), rec.errs.Load())
				}
				if err := b.conn.Publish(context.Background(), testChannel, "after").Err(); err != nil {
					t.Fatal(err)
				}
				if got := rec.next(t); got != "after" {
					t.Fatalf("message %q; want after", got)
				}
			})
		}
	}
}

// logRecorder keeps every log record's level and message.
type logRecorder struct {
	mu   sync.Mutex
	recs []string // "LEVEL message"
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Level.String()+" "+r.Message)
	l.mu.Unlock()
	return nil
}

// take returns the records so far and forgets them.
func (l *logRecorder) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.recs
	l.recs = nil
	return r
}

func levels(recs []string, level string) int {
	n := 0
	for _, r := range recs {
		if strings.HasPrefix(r, level+" ") {
			n++
		}
	}
	return n
}

// Against a stopped server the waits between attempts grow, one warning is
// logged (the retries at debug); when the server is back the Subscriber
// subscribes, says so at info, and after a healthy subscription the next
// break is retried at the short delay again.
func TestSubscriberBacksOff(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t))) // nothing listens yet
	var mu sync.Mutex
	var dials []time.Time
	rdb := redis.NewClient(&redis.Options{Addr: addr, Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dials = append(dials, time.Now())
		mu.Unlock()
		return (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr)
	}})
	defer rdb.Close()
	logs := &logRecorder{}
	rec := newRecorder()
	s := Subscribe(context.Background(), rdb, testChannel, rec.handlers(), slog.New(logs))
	defer s.Close()

	const window = 3 * time.Second
	time.Sleep(window)
	mu.Lock()
	at := append([]time.Time(nil), dials...)
	mu.Unlock()
	// Fixed 100 ms retries would make ~30 attempts; doubling from 100 ms
	// makes 5 or 6 (fewer on a loaded machine).
	if len(at) < 3 || len(at) > 8 {
		t.Fatalf("%d attempts in %s; want 3..8 (exponential backoff from 100ms)", len(at), window)
	}
	first, last := at[1].Sub(at[0]), at[len(at)-1].Sub(at[len(at)-2])
	t.Logf("%d attempts; first wait %s, last %s", len(at), first, last)
	if last < 2*first {
		t.Fatalf("waits do not grow: first %s, last %s", first, last)
	}
	if s.Ready() || rec.subscribed.Load() != 0 || rec.errs.Load() < 3 {
		t.Fatalf("against a stopped server: Ready %v, OnSubscribed %d, OnError %d", s.Ready(), rec.subscribed.Load(), rec.errs.Load())
	}
	recs := logs.take()
	if levels(recs, "WARN") != 1 || levels(recs, "DEBUG") < 2 {
		t.Fatalf("outage logged as %q; want one warning, the retries at debug", recs)
	}

	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr(addr); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	subscribed(t, s) // the next attempt is at most 3.2 s away
	if recs := logs.take(); levels(recs, "INFO") != 1 || levels(recs, "WARN") != 0 {
		t.Fatalf("recovery logged as %q; want one info line", recs)
	}

	time.Sleep(defaultBackoff.healthy + 200*time.Millisecond) // a healthy subscription
	srv.Close()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// With the count kept, the next wait would be 1.6 s or more.
	took := waitUntil(t, 10*time.Second, "resubscribed", func() bool { return rec.subscribed.Load() == 2 })
	if took > time.Second {
		t.Fatalf("resubscribing after a healthy subscription took %s; want the short first delay", took)
	}
	if recs := logs.take(); levels(recs, "WARN") != 1 || levels(recs, "INFO") != 1 {
		t.Fatalf("break and recovery logged as %q; want one warning and one info line", recs)
	}
}

func TestBackoffSchedule(t *testing.T) {
	b := defaultBackoff
	for n := 1; n <= 100; n++ {
		d := min(b.max, b.min<<min(n-1, 30))
		for range 20 {
			if got := b.delay(n); got < d/2 || got > d {
				t.Fatalf("delay(%d) = %s; want within [%s, %s]", n, got, d/2, d)
			}
		}
	}
}
