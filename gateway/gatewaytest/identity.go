package gatewaytest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// IdentityEnv is a partner IdP, a customer registry with one mapped
// customer ("user-1" → acme_corp), Redis, and a factory for gateway
// instances sharing them.
type IdentityEnv struct {
	IDP       *idp.Provider
	IDPServer *httptest.Server
	rdbAddr   string // real redis-server when set
	rdb       redis.UniversalClient
	customers *tenants.Customers
	Upstream  *httptest.Server
	Cust      *tenants.Customer

	redirects, logouts []string
	backchannel        string
}

// NewIdentityEnv builds an IdentityEnv; realRedis puts its Redis on a redis-
// server (testenv.Redis) instead of the embedded one, so that several
// instances share it over the network.
func NewIdentityEnv(t testing.TB, realRedis bool) *IdentityEnv {
	t.Helper()
	return newIdentityEnv(t, realRedis, nil)
}

// NewIdentityEnvOn builds an IdentityEnv whose instances all use rdb (e.g.
// a Redis Cluster client).
func NewIdentityEnvOn(t testing.TB, rdb redis.UniversalClient) *IdentityEnv {
	t.Helper()
	return newIdentityEnv(t, false, rdb)
}

func newIdentityEnv(t testing.TB, realRedis bool, rdb redis.UniversalClient) *IdentityEnv {
	t.Helper()
	e := &IdentityEnv{}
	var err error
	e.IDP, e.IDPServer, err = idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: "user-1", Name: "Alice 张", Email: "alice@example.com", Password: "pw"},
		{Subject: "stranger", Name: "Mallory", Password: "pw"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.IDPServer.Close)
	switch {
	case rdb != nil:
		e.rdb = rdb
	case realRedis:
		e.rdbAddr = testenv.Redis(t)
		e.rdb = redis.NewClient(&redis.Options{Addr: e.rdbAddr})
	default:
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
	e.customers = tenants.NewCustomers(tenants.CustomerOptions{PhoneLimit: 5, Store: store, Provisioner: tenants.Builtin{},
		Codes: noCodes{}, Index: redisindex.Index{RDB: e.rdb}, Logger: slog.New(slog.DiscardHandler)})
	e.Cust, err = e.customers.Create(context.Background(), "demo",
		tenants.Registration{XAccountID: "user-1", XAccountType: "demo-platform", DomainName: "acme_corp", AssociationType: "2"}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	e.Upstream = StartDemoUpstream(t)
	return e
}

type noCodes struct{}

func (noCodes) Check(context.Context, string, string, string, string) error { return nil }

// IdentityGateway is one gateway instance of an IdentityEnv with its session
// store and Redis client.
type IdentityGateway struct {
	*Gateway
	Sessions *sessions.Store
	rdb      redis.UniversalClient
}

// Start starts one gateway instance with customer sign-in for tenant
// "demo" (hosts 127.0.0.1, console.demo.test) and registers its callback
// at the IdP. hook, if set, is installed on this instance's Redis client;
// opts adjust the gateway's options after the sign-in ones.
func (e *IdentityEnv) Start(t testing.TB, hook redis.Hook, opts ...Option) *IdentityGateway {
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
	st := sessions.New(rdb, sessions.Options{IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour, CacheEntries: 1000, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(st.Close)
	asr, err := assertion.New(nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	g := StartGateway(t, e.Upstream.URL, func(o *gateway.Options) {
		o.Tenants = WithSignIn(t, o.Tenants.(*tenants.Registry), &tenants.SignIn{Issuer: e.IDP.Issuer(), ClientID: "livery", ClientSecret: "s3cret"}, "demo")
		o.Identity = &signin.IdentityOptions{Sessions: st, Redis: rdb, Customers: e.customers, CookieSecure: false}
		o.Assertions = asr
		for _, fn := range opts {
			fn(o)
		}
	})
	// All instances share one client registration; back-channel logout
	// goes to the first instance.
	e.redirects = append(e.redirects, g.ConsoleURL+"/_livery/callback")
	e.logouts = append(e.logouts, g.ConsoleURL+"/_livery/logged-out")
	if e.backchannel == "" {
		e.backchannel = g.ConsoleURL + "/_livery/backchannel-logout"
	}
	if err := e.IDP.AddClient(idp.Client{ID: "livery", Secret: "s3cret", RedirectURIs: e.redirects,
		PostLogoutRedirectURIs: e.logouts, BackchannelLogoutURI: e.backchannel}); err != nil {
		t.Fatal(err)
	}
	return &IdentityGateway{Gateway: g, Sessions: st, rdb: rdb}
}

// Browser is an HTTP client with a cookie jar that follows redirects.
func Browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// Get sends a GET asking for HTML with c (following redirects if c does) and
// returns the final response with its body read.
func Get(t testing.TB, c *http.Client, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	req := NewRequest(t, "GET", url, nil, append([]string{"Accept", "text/html"}, headers...)...)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// SignIn runs the whole sign-in as subject and returns the final page.
func (g *IdentityGateway) SignIn(t testing.TB, e *IdentityEnv, c *http.Client, subject, path string) (*http.Response, string) {
	t.Helper()
	e.IDP.SetAutoLogin(subject)
	return Get(t, c, g.ConsoleURL+path)
}

// CookieValue is the value of the cookie name that c's jar holds for u (""
// if none).
func CookieValue(c *http.Client, u, name string) string {
	req, _ := http.NewRequest("GET", u, nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// CommandCounter counts every command a Redis client sends.
type CommandCounter struct{ Count atomic.Int64 }

// DialHook, ProcessHook and ProcessPipelineHook make CommandCounter a
// redis.Hook.
func (c *CommandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *CommandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.Count.Add(1); return next(ctx, cmd) }
}
func (c *CommandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.Count.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// WithSignIn returns reg with the tenants ids signing customers in at s.
func WithSignIn(t testing.TB, reg *tenants.Registry, s *tenants.SignIn, ids ...string) *tenants.Registry {
	t.Helper()
	var ts []tenants.Tenant
	for _, tn := range reg.All() {
		c := *tn
		if slices.Contains(ids, c.ID) {
			c.SignIn = s
		}
		ts = append(ts, c)
	}
	out, err := tenants.NewRegistry(ts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WithCloudSignIn turns on the cloud-account sign-in (identity.cloud_sign_in)
// of an IdentityEnv gateway, mapping cloud accounts with the env's registry.
func (e *IdentityEnv) WithCloudSignIn(c signin.OIDCClient) Option {
	return func(o *gateway.Options) {
		o.Identity.Cloud = &c
		o.Identity.Accounts = e.customers
	}
}

// WithIdentity adjusts the customer sign-in options of an IdentityEnv
// gateway (for tests of the door that may not name the gateway root).
func WithIdentity(fn func(*signin.IdentityOptions)) Option {
	return func(o *gateway.Options) { fn(o.Identity) }
}
