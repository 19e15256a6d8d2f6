package switchrole

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
)

const (
	tenantID = "acme"
	host     = "acme.test"
	customer = "cust-resale"
	staffURL = "https://partner.test"
)

var (
	partnerAdmin = authz.Subject{User: "pa-acme", Roles: []string{authz.RolePartnerAdmin}, Tenant: tenantID}
	custSubject  = authz.Subject{User: "cindy", Roles: []string{authz.RoleCustomer}, Tenant: tenantID, Customer: customer}
	quiet        = slog.New(slog.DiscardHandler)
	acme         = &tenants.Tenant{ID: tenantID, Name: tenants.Names{ZH: "艾克米", EN: "Acme"}, Hosts: []string{host}}
)

type tenantReg struct{}

func (tenantReg) ByHost(h string) (*tenants.Tenant, bool) { return acme, h == host }
func (tenantReg) ByID(id string) (*tenants.Tenant, bool)  { return acme, id == tenantID }

type custDir struct{}

func (custDir) ByDomainID(_ context.Context, tenant, id string) (*tenants.Customer, error) {
	if tenant != tenantID || id != customer {
		return nil, nil
	}
	return &tenants.Customer{DomainID: customer, DomainName: "Resale Co", Managers: []string{"cm-1"}}, nil
}

// faultyGrants fails RecordAction while fail is set.
type faultyGrants struct {
	*delegation.Service
	fail atomic.Bool
}

func (f *faultyGrants) RecordAction(ctx context.Context, a delegation.ActionRecord) error {
	if f.fail.Load() {
		return errors.New("store down")
	}
	return f.Service.RecordAction(ctx, a)
}

// clock is a settable clock shared by an environment's services.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// env is the shared backends: Redis, an object store, Casbin, a clock.
type env struct {
	addr  string
	store objstore.Store
	az    *authz.Casbin
	clock *clock
}

func newEnv(t *testing.T) *env {
	st, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.NewCasbin("", "", authz.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return &env{addr: testenv.Redis(t), store: st, az: az, clock: &clock{}}
}

// instance is one gateway instance: its own Redis client, session store,
// delegation service, switch and two Fiber apps (console and API).
type instance struct {
	rdb      *redis.Client
	commands atomic.Int64 // Redis commands sent by this instance
	del      *delegation.Service
	grants   *faultyGrants
	sessions *sessions.Store
	sw       *Service
	console  *fiber.App
	api      *fiber.App

	mu   sync.Mutex
	hits []string // requests that reached the upstream
}

func (e *env) instance(t *testing.T) *instance {
	in := &instance{rdb: redis.NewClient(&redis.Options{Addr: e.addr})}
	in.rdb.AddHook(counter{&in.commands})
	t.Cleanup(func() { in.rdb.Close() })
	dir := delegation.DirectoryFunc(func(_ context.Context, tenant, id string) (delegation.CustomerInfo, bool, error) {
		return delegation.CustomerInfo{Name: "Resale Co", AssociationType: delegation.AssociationResale}, tenant == tenantID && id == customer, nil
	})
	in.del = delegation.New(e.store, dir, delegation.Options{Now: e.clock.now, Logger: quiet, Notifier: Publisher{Redis: in.rdb, Logger: quiet}})
	in.grants = &faultyGrants{Service: in.del}
	in.sessions = sessions.New(in.rdb, sessions.Options{IdleTimeout: time.Hour, MaxLifetime: 12 * time.Hour, CacheEntries: 100, Logger: quiet})
	t.Cleanup(in.sessions.Close)
	in.sw = New(Options{Redis: in.rdb, Sessions: in.sessions, Grants: in.grants, Customers: custDir{}, Authorizer: e.az,
		Tenants: tenantReg{}, ConsoleURL: func(*tenants.Tenant) string { return "http://" + host }, StaffURL: staffURL,
		SessionTTL: time.Hour, Logger: quiet, Now: e.clock.now})
	t.Cleanup(in.sw.Close)

	eh := web.ErrorHandler(quiet, false)
	in.console = fiber.New(fiber.Config{ErrorHandler: eh})
	in.console.Use(web.TenantMiddleware(tenantReg{}))
	in.console.Get(EnterPath, in.sw.Enter)
	in.console.Post(LeavePath, in.sw.Leave)
	in.console.Use(func(c *fiber.Ctx) error { // sign-in's Authenticate, reduced to the delegated case
		sess, err := in.sessions.Get(c.UserContext(), c.Cookies(web.CookieSession))
		if err != nil {
			return web.Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in.")
		}
		c.Locals(web.LocalSession, sess)
		if sess.Kind != sessions.KindDelegated {
			return web.Errorf(http.StatusForbidden, "forbidden", "not delegated")
		}
		return in.sw.Check(c, sess, c.Path())
	})
	in.console.All("/*", func(c *fiber.Ctx) error {
		in.mu.Lock()
		in.hits = append(in.hits, c.Method()+" "+c.Path())
		in.mu.Unlock()
		return c.SendString("upstream")
	})

	in.api = fiber.New(fiber.Config{ErrorHandler: web.ErrorHandler(quiet, true)})
	in.api.Post("/admin/v1/tenants/:tenant/delegations/:grant/switch", func(c *fiber.Ctx) error {
		// staff authentication: a staff session (cookie) or a bearer principal
		if sid := c.Get("X-Test-Staff-Session"); sid != "" {
			sess, err := in.sessions.Get(c.UserContext(), sid)
			if err != nil {
				return web.Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in.")
			}
			c.Locals(web.LocalSession, sess)
			c.Locals(web.LocalPrincipal, authz.Subject{User: sess.Subject, Roles: sess.Roles, Tenant: sess.HomeTenant})
			c.Locals(web.LocalPrincipalName, sess.User)
		} else {
			c.Locals(web.LocalPrincipal, partnerAdmin)
		}
		return c.Next()
	}, in.sw.Start)
	return in
}

type counter struct{ n *atomic.Int64 }

func (c counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

func (in *instance) upstreamHits() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.hits...)
}

// grant makes an active grant for customer with scopes.
func (e *env) grant(t *testing.T, in *instance, scopes ...delegation.Scope) delegation.Grant {
	ctx := context.Background()
	if _, err := in.del.AcceptAgreement(ctx, tenantID, delegation.AgreementVersion, partnerAdmin); err != nil {
		t.Logf("agreement: %v", err)
	}
	g, err := in.del.Request(ctx, tenantID, delegation.RequestInput{Customer: customer, Scopes: scopes, Duration: 2 * time.Hour, Reason: "maintenance"}, partnerAdmin)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	g, err = in.del.Approve(ctx, tenantID, g.ID, custSubject)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	return g
}

// staffSession signs partner staff in (a staff session).
func (in *instance) staffSession(t *testing.T, who authz.Subject) *sessions.Session {
	s, err := in.sessions.Create(context.Background(), sessions.Session{Tenant: who.Tenant, Kind: "staff", Issuer: "test",
		Subject: who.User, User: "Pat Admin", Roles: who.Roles, HomeTenant: who.Tenant})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type answer struct {
	status int
	body   string
	header http.Header
}

func do(t *testing.T, app *fiber.App, method, target, cookie string, headers ...string) answer {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = host
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: web.CookieSession, Value: cookie})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := app.Test(req, 10000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header}
}

// start mints a switch-in link through the API; it returns the token.
func (in *instance) start(t *testing.T, g delegation.Grant, staffSID string) (answer, string) {
	t.Helper()
	a := do(t, in.api, "POST", "/admin/v1/tenants/"+tenantID+"/delegations/"+g.ID+"/switch", "", "X-Test-Staff-Session", staffSID)
	if a.status != http.StatusCreated {
		return a, ""
	}
	i := strings.Index(a.body, "token=")
	tok := a.body[i+len("token=") : strings.Index(a.body[i:], `"`)+i]
	tok, _ = url.QueryUnescape(tok)
	return a, tok
}

// enter redeems a token; it returns the answer and the session cookie.
func (in *instance) enter(t *testing.T, tok string) (answer, string) {
	t.Helper()
	a := do(t, in.console, "GET", EnterPath+"?token="+url.QueryEscape(tok), "", "Accept", "text/html")
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == web.CookieSession && c.Value != "" {
			return a, c.Value
		}
	}
	return a, ""
}

// switchIn is start + enter; it fails the test unless both work.
func (in *instance) switchIn(t *testing.T, g delegation.Grant, staffSID string) string {
	t.Helper()
	a, tok := in.start(t, g, staffSID)
	if tok == "" {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	a, cookie := in.enter(t, tok)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" || cookie == "" {
		t.Fatalf("enter: %d %s %v", a.status, a.body, a.header)
	}
	return cookie
}

var trustAll = func() []*net.IPNet {
	_, all4, _ := net.ParseCIDR("0.0.0.0/0")
	_, all6, _ := net.ParseCIDR("::/0")
	return []*net.IPNet{all4, all6}
}()
