package signin_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/web"
)

// TestLogoutReachesEveryInstance: a session opened through instance A is
// used on instance B; logout on A, and back-channel logout sent to A, are
// honoured by B within 1 s.
func TestLogoutReachesEveryInstance(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, true)
	a, b := e.Start(t, nil), e.Start(t, nil)
	for _, how := range []string{"logout", "back-channel"} {
		t.Run(how, func(t *testing.T) {
			c := gatewaytest.Browser(t)
			if resp, body := a.SignIn(t, e, c, "user-1", "/"); resp.StatusCode != 200 {
				t.Fatalf("sign in: %d %s", resp.StatusCode, body)
			}
			e.IDP.SetAutoLogin("")
			sid := gatewaytest.CookieValue(c, a.ConsoleURL, "livery_session")
			onB := func() int {
				req := gatewaytest.NewRequest(t, "GET", b.ConsoleURL+"/billing", nil, "Cookie", "livery_session="+sid, "Accept", "application/json")
				resp, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			}
			if code := onB(); code != 200 {
				t.Fatalf("session not usable on B: %d", code)
			}
			switch how {
			case "logout":
				gatewaytest.Get(t, c, a.ConsoleURL+"/_livery/logout")
			case "back-channel":
				subs := e.IDP.SessionsOf("user-1")
				if err := e.IDP.SendBackchannelLogout(context.Background(), "livery", "user-1", subs[len(subs)-1]); err != nil {
					t.Fatalf("back-channel logout: %v", err)
				}
			}
			start := time.Now()
			for onB() != http.StatusUnauthorized {
				if time.Since(start) > time.Second {
					t.Fatalf("instance B still accepts the session %s after %s", sid, how)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("%s honoured by the other instance after %s", how, time.Since(start))
		})
	}
	t.Run("bad logout tokens refused", func(t *testing.T) {
		for name, tok := range map[string]func() string{
			"id token instead of logout token": func() string {
				s, _ := e.IDP.MintIDToken("livery", "user-1", "n", idp.DefectNone)
				return s
			},
			"garbage": func() string { return "a.b.c" },
			"other audience": func() string {
				s, _ := e.IDP.LogoutToken("someone-else", "user-1", "sid")
				return s
			},
		} {
			req := gatewaytest.NewRequest(t, "POST", a.ConsoleURL+"/_livery/backchannel-logout", strings.NewReader("logout_token="+tok()),
				"Content-Type", "application/x-www-form-urlencoded")
			resp, body := gatewaytest.Do(t, req)
			if resp.StatusCode != 400 || !strings.Contains(body, "invalid_request") {
				t.Errorf("%s: %d %s", name, resp.StatusCode, body)
			}
		}
	})
}

// TestSteadyStateProxyMakesNoRedisCommands: a signed-in customer's
// proxied requests cost no Redis command once the session is cached.
func TestSteadyStateProxyMakesNoRedisCommands(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, true)
	cc := &gatewaytest.CommandCounter{}
	g := e.Start(t, cc)
	c := gatewaytest.Browser(t)
	if resp, _ := g.SignIn(t, e, c, "user-1", "/"); resp.StatusCode != 200 {
		t.Fatal("sign in failed")
	}
	gatewaytest.Get(t, c, g.ConsoleURL+"/billing") // warm
	before := cc.Count.Load()
	for i := 0; i < 200; i++ {
		if resp, _ := gatewaytest.Get(t, c, g.ConsoleURL+"/resources"); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if n := cc.Count.Load() - before; n != 0 {
		t.Fatalf("%d Redis commands for 200 proxied requests", n)
	}
}

// TestIdPDownIsolated: a tenant whose IdP is unreachable gets a clear page;
// the gateway and the other tenants keep working, and sign-in recovers
// when the IdP returns.
func TestIdPDownIsolated(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, false)
	issuer := e.IDP.Issuer()
	e.IDPServer.Close()
	g := e.Start(t, nil)
	resp, body := gatewaytest.Get(t, gatewaytest.Browser(t), g.ConsoleURL+"/")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "sign-in service of Demo is unavailable") ||
		!strings.Contains(body, resp.Header.Get("X-Request-Id")) || strings.Contains(body, issuer) {
		t.Fatalf("idp down: %d %s", resp.StatusCode, body)
	}
	if resp, _ := gatewaytest.Get(t, gatewaytest.Browser(t), g.ConsoleURL+"/", "Host", "console.other.test"); resp.StatusCode != 200 {
		t.Fatalf("other tenant affected: %d", resp.StatusCode)
	}
}

func TestSafeReturnPath(t *testing.T) {
	for in, want := range map[string]string{
		"/billing?x=1#f":         "/billing?x=1#f",
		"/":                      "/",
		"":                       "/",
		"//evil.example":         "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"javascript:alert(1)":    "/",
		"/%2F%2Fevil.example":    "/",
		"/%2fevil.example":       "/",
		"/%5Cevil.example":       "/",
		"/%252F%252Fevil":        "/",
		"/a\r\nSet-Cookie: x=1":  "/",
		"evil.example":           "/",
		"/ok/path%20with/spaces": "/ok/path%20with/spaces",
	} {
		if got := web.SafeReturnPath(in); got != want {
			t.Errorf("SafeReturnPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkAuthenticatedProxy compares a signed-in customer's proxied
// request (cached session, authorization, identity headers, cached
// assertion) with an anonymous one (a tenant without sign-in) on the same
// gateway:
//
//	./scripts/test.sh -run '^$' -bench AuthenticatedProxy -benchmem ./gateway
func BenchmarkAuthenticatedProxy(b *testing.B) {
	e := gatewaytest.NewIdentityEnv(b, false)
	g := e.Start(b, nil)
	c := gatewaytest.Browser(b)
	if resp, _ := g.SignIn(b, e, c, "user-1", "/"); resp.StatusCode != 200 {
		b.Fatal("sign in failed")
	}
	sid := gatewaytest.CookieValue(c, g.ConsoleURL, "livery_session")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, tc := range []struct{ name, host, cookie string }{
		{"anonymous", "console.other.test", ""},
		{"signed-in", "127.0.0.1", "livery_session=" + sid},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", g.ConsoleURL+"/healthz", nil)
					req.Host = tc.host
					if tc.cookie != "" {
						req.Header.Set("Cookie", tc.cookie)
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
		})
	}
}
