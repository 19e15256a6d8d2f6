package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// identityEnv is a partner IdP, a customer registry with one mapped
// customer ("user-1" → acme_corp), Redis, and a factory for gateway
// instances sharing them.
type identityEnv struct {
	idp       *idp.Provider
	idpSrv    *httptest.Server
	rdbAddr   string // real redis-server when set
	rdb       redis.UniversalClient
	customers *tenants.Customers
	upstream  *httptest.Server
	cust      *tenants.Customer

	redirects, logouts []string
	backchannel        string
}

func newIdentityEnv(t testing.TB, realRedis bool) *identityEnv {
	t.Helper()
	e := &identityEnv{}
	var err error
	e.idp, e.idpSrv, err = idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: "user-1", Name: "Alice 张", Email: "alice@example.com", Password: "pw"},
		{Subject: "stranger", Name: "Mallory", Password: "pw"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.idpSrv.Close)
	if realRedis {
		e.rdbAddr = testenv.Redis(t)
		e.rdb = redis.NewClient(&redis.Options{Addr: e.rdbAddr})
	} else {
		conn, err := redisx.Open(context.Background(), redisx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		e.rdb = conn
	}
	store, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.customers = tenants.NewCustomers(tenants.CustomerOptions{Store: store, Provisioner: tenants.Builtin{},
		Codes: noCodes{}, Index: redisindex.Index{RDB: e.rdb}, Logger: slog.New(slog.DiscardHandler)})
	e.cust, err = e.customers.Create(context.Background(), "demo",
		tenants.Registration{XAccountID: "user-1", XAccountType: "demo-platform", DomainName: "acme_corp", AssociationType: "2"}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	e.upstream = startDemoUpstream(t)
	return e
}

type noCodes struct{}

func (noCodes) Check(context.Context, string, string, string, string) error { return nil }

type idGateway struct {
	*testGateway
	sessions *sessions.Store
	rdb      redis.UniversalClient
}

// gateway starts one gateway instance with customer sign-in for tenant
// "demo" (hosts 127.0.0.1, console.demo.test) and registers its callback
// at the IdP. counter, if set, is installed on this instance's Redis client.
func (e *identityEnv) gateway(t testing.TB, hook redis.Hook) *idGateway {
	t.Helper()
	rdb := e.rdb
	if e.rdbAddr != "" {
		c := redis.NewClient(&redis.Options{Addr: e.rdbAddr})
		t.Cleanup(func() { c.Close() })
		rdb = c
	}
	if hook != nil {
		rdb.AddHook(hook)
	}
	st := sessions.New(rdb, sessions.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(st.Close)
	asr, err := assertion.New(nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, e.upstream.URL, func(o *Options) {
		o.Identity = &signin.IdentityOptions{Sessions: st, Redis: rdb, Customers: e.customers, CookieSecure: false,
			Clients: map[string]signin.OIDCClient{"demo": {Issuer: e.idp.Issuer(), ClientID: "livery", ClientSecret: "s3cret"}}}
		o.Assertions = asr
	})
	// All instances share one client registration; back-channel logout
	// goes to the first instance.
	e.redirects = append(e.redirects, g.consoleURL+"/_livery/callback")
	e.logouts = append(e.logouts, g.consoleURL+"/_livery/logged-out")
	if e.backchannel == "" {
		e.backchannel = g.consoleURL + "/_livery/backchannel-logout"
	}
	if err := e.idp.AddClient(idp.Client{ID: "livery", Secret: "s3cret", RedirectURIs: e.redirects,
		PostLogoutRedirectURIs: e.logouts, BackchannelLogoutURI: e.backchannel}); err != nil {
		t.Fatal(err)
	}
	return &idGateway{testGateway: g, sessions: st, rdb: rdb}
}

// browser is an HTTP client with a cookie jar that follows redirects.
func browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func get(t testing.TB, c *http.Client, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	req := newReq(t, "GET", url, nil, append([]string{"Accept", "text/html"}, headers...)...)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn runs the whole sign-in as subject and returns the final page.
func (g *idGateway) signIn(t testing.TB, e *identityEnv, c *http.Client, subject, path string) (*http.Response, string) {
	t.Helper()
	e.idp.SetAutoLogin(subject)
	return get(t, c, g.consoleURL+path)
}

func cookieValue(c *http.Client, u, name string) string {
	req, _ := http.NewRequest("GET", u, nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// commandCounter counts every command a Redis client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}
