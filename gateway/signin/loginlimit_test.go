package signin_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants/ratelimit"
)

// TestLoginStartsAreBounded: anonymous sign-in starts are limited per
// client address (429 with Retry-After past the budget), each leaves one
// small login state in Redis, and another address has its own budget.
func TestLoginStartsAreBounded(t *testing.T) {
	lim := ratelimit.Limit{Rate: 5, Burst: 5, Period: time.Minute}
	e := gatewaytest.NewStaffEnv(t, func(e *gatewaytest.StaffEnv, o *gatewaytest.Options) {
		l := ratelimit.New(e.RDB)
		o.Identity.LoginLimiter, o.Identity.LoginRate = l, lim
		o.Admin.Staff.LoginLimiter, o.Admin.Staff.LoginRate = l, lim
	})
	ctx := context.Background()
	from := func(local string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	loginKeys := func() []string {
		keys, err := e.RDB.Keys(ctx, "livery:login:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	long := "/" + strings.Repeat("a", 1800)
	for _, door := range []struct{ name, url string }{
		{"console", e.ConsoleURL + "/_livery/login?rd=" + long},
		{"staff", e.APIURL + "/admin/login?rd=" + long},
	} {
		t.Run(door.name, func(t *testing.T) {
			before := len(loginKeys())
			c := from("127.0.0.1")
			var ok, limited int
			for range 40 {
				r := gatewaytest.Send(t, c, gatewaytest.NewRequest(t, "GET", door.url, nil, "Accept", "text/html"))
				switch r.Status {
				case http.StatusFound:
					ok++
				case http.StatusTooManyRequests:
					limited++
					if r.Header.Get("Retry-After") == "" {
						t.Fatal("429 without Retry-After")
					}
				default:
					t.Fatalf("login start: %d %s", r.Status, r.Body)
				}
			}
			if ok != 5 || limited != 35 {
				t.Fatalf("%d started, %d limited; want 5 and 35", ok, limited)
			}
			keys := loginKeys()
			if n := len(keys) - before; n != 5 {
				t.Fatalf("%d login states in Redis; want 5", n)
			}
			for _, k := range keys {
				v, _ := e.RDB.Get(ctx, k).Result()
				if len(v) > 400 {
					t.Fatalf("login state of %d bytes (the over-long return path was kept): %.80s…", len(v), v)
				}
				if ttl := e.RDB.TTL(ctx, k).Val(); ttl <= 0 || ttl > signin.LoginStateTTL {
					t.Fatalf("login state TTL %s", ttl)
				}
			}
			// Another address has its own budget.
			if r := gatewaytest.Send(t, from("127.0.0.2"), gatewaytest.NewRequest(t, "GET", door.url, nil)); r.Status != http.StatusFound {
				t.Fatalf("login start from another address: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestClientAddrKey: spellings of one address share one key; IPv6 hosts
// of one /64 share one key.
func TestClientAddrKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	} {
		if got := web.AddrKey(netip.MustParseAddr(c.in)); got != c.want {
			t.Errorf("addrKey(%s) = %s; want %s", c.in, got, c.want)
		}
	}
}
