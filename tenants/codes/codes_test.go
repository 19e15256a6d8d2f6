package codes

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
)

// backends opens each Redis flavour the package must work on.
var backends = []struct {
	name string
	open func(t *testing.T) *redisx.Conn
}{
	{"embedded", func(t *testing.T) *redisx.Conn { return open(t, redisx.Options{}) }},
	{"redis-server", func(t *testing.T) *redisx.Conn {
		return open(t, redisx.Options{URL: "redis://" + testenv.Redis(t) + "/0"})
	}},
}

func open(t *testing.T, o redisx.Options) *redisx.Conn {
	t.Helper()
	c, err := redisx.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// clock is a settable fake clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// cases is the shared table, run against every backend.
var cases = []struct {
	name string
	run  func(t *testing.T, c *redisx.Conn)
}{
	{"issue then check succeeds once", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		code, err := s.Issue(ctx, "t1", "0086-13812345678", "29", time.Minute)
		if err != nil || !sixDigits.MatchString(code) {
			t.Fatalf("issue: %q %v", code, err)
		}
		if err := s.Check(ctx, "t1", "0086-13812345678", "29", code); err != nil {
			t.Fatalf("check: %v", err)
		}
		if err := s.Check(ctx, "t1", "0086-13812345678", "29", code); !errors.Is(err, ErrExpired) {
			t.Fatalf("second check: want ErrExpired, got %v", err)
		}
	}},
	{"only a hash is stored", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		code, err := s.Issue(ctx, "t1", "13800000001", "29", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		key := Key("t1", "13800000001", "29")
		if key != "livery:code:t1:29:13800000001" {
			t.Fatalf("key %q", key)
		}
		m, err := c.HGetAll(ctx, key).Result()
		if err != nil || len(m) == 0 {
			t.Fatalf("hgetall: %v %v", m, err)
		}
		for f, v := range m {
			if strings.Contains(v, code) {
				t.Fatalf("field %s contains the code", f)
			}
		}
		ttl, err := c.PTTL(ctx, key).Result()
		if err != nil || ttl < MarkerRetention || ttl > MarkerRetention+time.Minute {
			t.Fatalf("marker ttl %v %v", ttl, err)
		}
	}},
	{"never issued", func(t *testing.T, c *redisx.Conn) {
		s := New(c, Options{})
		if err := s.Check(context.Background(), "t1", "13800000002", "29", "123456"); !errors.Is(err, ErrNotIssued) {
			t.Fatalf("want ErrNotIssued, got %v", err)
		}
	}},
	{"expired is distinct from never issued", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		clk := newClock()
		s := New(c, Options{Now: clk.Now})
		code, err := s.Issue(ctx, "t1", "13800000003", "29", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		if err := s.Check(ctx, "t1", "13800000003", "29", code); !errors.Is(err, ErrExpired) {
			t.Fatalf("want ErrExpired, got %v", err)
		}
		if err := s.Check(ctx, "t1", "13800000003", "29", wrongCode(code)); !errors.Is(err, ErrExpired) {
			t.Fatalf("wrong code after expiry: want ErrExpired, got %v", err)
		}
	}},
	{"marker expires in real time", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		code, err := s.Issue(ctx, "t1", "13800000004", "29", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// Shorten the marker to check real-time expiry on both backends.
		if err := c.PExpire(ctx, Key("t1", "13800000004", "29"), 200*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for {
			n, err := c.Exists(ctx, Key("t1", "13800000004", "29")).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("marker did not expire")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := s.Check(ctx, "t1", "13800000004", "29", code); !errors.Is(err, ErrNotIssued) {
			t.Fatalf("want ErrNotIssued, got %v", err)
		}
	}},
	{"three failures lock the code", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		code, err := s.Issue(ctx, "t1", "13800000005", "29", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			if err := s.Check(ctx, "t1", "13800000005", "29", wrongCode(code)); !errors.Is(err, ErrWrong) {
				t.Fatalf("attempt %d: want ErrWrong, got %v", i, err)
			}
		}
		for i := 0; i < 2; i++ {
			if err := s.Check(ctx, "t1", "13800000005", "29", code); !errors.Is(err, ErrTooManyFailures) {
				t.Fatalf("right code after lock: want ErrTooManyFailures, got %v", err)
			}
		}
		// A new code clears the lock.
		code2, err := s.Issue(ctx, "t1", "13800000005", "29", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Check(ctx, "t1", "13800000005", "29", code2); err != nil {
			t.Fatalf("new code: %v", err)
		}
	}},
	{"two failures then right code succeeds", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{MaxFailures: 3})
		code, _ := s.Issue(ctx, "t1", "13800000006", "29", time.Minute)
		for i := 0; i < 2; i++ {
			if err := s.Check(ctx, "t1", "13800000006", "29", "abc"); !errors.Is(err, ErrWrong) {
				t.Fatalf("want ErrWrong, got %v", err)
			}
		}
		if err := s.Check(ctx, "t1", "13800000006", "29", code); err != nil {
			t.Fatalf("right code: %v", err)
		}
	}},
	{"reissue replaces the previous code", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		var old, cur string
		for old == cur { // the two codes may collide with probability 1e-6
			old, _ = s.Issue(ctx, "t1", "13800000007", "29", time.Minute)
			cur, _ = s.Issue(ctx, "t1", "13800000007", "29", time.Minute)
		}
		if err := s.Check(ctx, "t1", "13800000007", "29", old); !errors.Is(err, ErrWrong) {
			t.Fatalf("old code: want ErrWrong, got %v", err)
		}
		if err := s.Check(ctx, "t1", "13800000007", "29", cur); err != nil {
			t.Fatalf("current code: %v", err)
		}
	}},
	{"tenants and scenes are isolated", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		code, _ := s.Issue(ctx, "alpha", "13800000008", "29", time.Minute)
		if err := s.Check(ctx, "beta", "13800000008", "29", code); !errors.Is(err, ErrNotIssued) {
			t.Fatalf("other tenant: want ErrNotIssued, got %v", err)
		}
		if err := s.Check(ctx, "alpha", "13800000008", "30", code); !errors.Is(err, ErrNotIssued) {
			t.Fatalf("other scene: want ErrNotIssued, got %v", err)
		}
		if err := s.Check(ctx, "alpha", "13800000008", "29", code); err != nil {
			t.Fatalf("own tenant: %v", err)
		}
	}},
	{"concurrent checks succeed at most once", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		code, _ := s.Issue(ctx, "t1", "13800000009", "29", time.Minute)
		var ok, expired atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 20 {
			wg.Go(func() {
				<-start
				switch err := s.Check(ctx, "t1", "13800000009", "29", code); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrExpired):
					expired.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok.Load() != 1 || expired.Load() != 19 {
			t.Fatalf("ok=%d expired=%d, want 1 and 19", ok.Load(), expired.Load())
		}
	}},
	{"invalid arguments", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		for _, a := range [][3]string{{"", "1", "29"}, {"t", "", "29"}, {"t", "1", ""}, {"a:b", "1", "29"}, {"t", "1", "2:9"}} {
			if _, err := s.Issue(ctx, a[0], a[1], a[2], time.Minute); !errors.Is(err, ErrInvalid) {
				t.Errorf("issue %q: want ErrInvalid, got %v", a, err)
			}
			if err := s.Check(ctx, a[0], a[1], a[2], "123456"); !errors.Is(err, ErrInvalid) {
				t.Errorf("check %q: want ErrInvalid, got %v", a, err)
			}
		}
		if _, err := s.Issue(ctx, "t", "1", "29", 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("ttl 0: want ErrInvalid, got %v", err)
		}
	}},
	{"redis failure is distinct from sentinels", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		s := New(c, Options{})
		code, _ := s.Issue(ctx, "t1", "13800000010", "29", time.Minute)
		// The client goes away (closing only the client: redisx.Conn.Close
		// is not idempotent and runs again in cleanup).
		c.UniversalClient.Close()
		for _, err := range []error{
			s.Check(ctx, "t1", "13800000010", "29", code),
			func() error { _, err := s.Issue(ctx, "t1", "13800000010", "29", time.Minute); return err }(),
		} {
			if err == nil {
				t.Fatal("want an error with Redis closed")
			}
			for _, sentinel := range []error{ErrWrong, ErrExpired, ErrTooManyFailures, ErrNotIssued, ErrInvalid} {
				if errors.Is(err, sentinel) {
					t.Fatalf("redis failure reported as %v", sentinel)
				}
			}
		}
	}},
}

func TestStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := b.open(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					if tc.name == "redis failure is distinct from sentinels" {
						tc.run(t, b.open(t)) // it closes its connection
						return
					}
					tc.run(t, c)
				})
			}
		})
	}
}

func TestTimeoutFromMinutes(t *testing.T) {
	for _, tc := range []struct {
		in   int
		want time.Duration
	}{
		{0, 10 * time.Minute}, {-3, 10 * time.Minute}, {1, time.Minute},
		{10, 10 * time.Minute}, {60, time.Hour}, {61, 5 * time.Minute}, {1000, 5 * time.Minute},
	} {
		if got := TimeoutFromMinutes(tc.in); got != tc.want {
			t.Errorf("TimeoutFromMinutes(%d) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
