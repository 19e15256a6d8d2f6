package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/console"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// staffEnv is a gateway with staff sign-in, the admin API and customer
// sign-in, all decided by the real Casbin authorizer with the embedded
// policy, in front of a recording upstream. Two tenants: acme (console
// hosts 127.0.0.1 and console.acme.test) and globex (console.globex.test).
//
// One test IdP serves both the staff client ("livery-staff") and the
// customer client ("livery"). Staff claims: "groups" (mapped by roleMap)
// and "partner" (home tenant).
type staffEnv struct {
	idp                *idp.Provider
	rdb                redis.UniversalClient
	faults             *redisFaults
	sessions           *sessions.Store
	customers          *tenants.Customers
	authz              *authz.Casbin
	upstream           *recorder
	gw                 *Gateway
	consoleURL, apiURL string

	// Customers by label: acme X (the console customer "cust-1", managed
	// by cm-acme), acme Y (managed by someone-else), acme Z (no manager),
	// globex G (managed by cm-globex), globex H (no manager).
	cust map[string]*tenants.Customer
	// extra adjusts the gateway options before start (e.g. branding).
	extra []func(e *staffEnv, o *Options)
	reg   *tenants.Registry
}

const (
	staffClientID     = "livery-staff"
	staffClientSecret = "staff-s3cret"
)

var staffRoleMap = map[string]string{
	"cloud-ops":        "operator",
	"acme-admins":      "partner_admin",
	"account-managers": "customer_manager",
}

// staffUsers are the IdP accounts of the staff tests.
func staffUsers() []idp.User {
	return []idp.User{
		{Subject: "op-1", Name: "Olga Operator", Password: "pw", Claims: map[string]any{"groups": []string{"cloud-ops"}}},
		{Subject: "pa-acme", Name: "Pat Admin", Password: "pw",
			Claims: map[string]any{"groups": []string{"acme-admins", "wiki-editors"}, "partner": "acme"}},
		// The space/comma-separated string form of the roles claim.
		{Subject: "cm-acme", Name: "Carol", Password: "pw",
			Claims: map[string]any{"groups": "account-managers, wiki-editors", "partner": "acme"}},
		{Subject: "cm-globex", Name: "Gus", Password: "pw",
			Claims: map[string]any{"groups": []string{"account-managers"}, "partner": "globex"}},
		// Groups that map to nothing: not staff.
		{Subject: "nobody", Name: "Nina", Password: "pw",
			Claims: map[string]any{"groups": []string{"wiki-editors", "acme-admin", "Partner_Admin"}, "partner": "acme"}},
		// A customer manager whose display name is another manager's id.
		{Subject: "impostor", Name: "cm-acme", Password: "pw",
			Claims: map[string]any{"groups": []string{"account-managers"}, "partner": "acme"}},
		// Claim values that already are role names map to themselves.
		{Subject: "raw-pa", Password: "pw",
			Claims: map[string]any{"groups": []string{"partner_admin", "superuser"}, "partner": "acme"}},
		// The console customer of acme X.
		{Subject: "cust-1", Name: "Alice", Email: "alice@example.com", Password: "pw"},
	}
}

// redisFaults fails the named commands while armed.
type redisFaults struct {
	mu   sync.Mutex
	fail map[string]bool
}

func (f *redisFaults) set(cmd string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]bool{}
	}
	f.fail[cmd] = on
}

func (f *redisFaults) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f *redisFaults) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		f.mu.Lock()
		fail := f.fail[cmd.Name()]
		f.mu.Unlock()
		if fail {
			err := errors.New("injected redis failure")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}
func (f *redisFaults) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// recorder is an upstream that answers every request 200 with what it
// received, and remembers each request line.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD escaped-path"
	n    atomic.Int64
}

func startRecorder(t testing.TB) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.EscapedPath())
		r.mu.Unlock()
		r.n.Add(1)
		if strings.HasPrefix(req.URL.Path, "/page") { // an HTML console page
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if csp := req.URL.Query().Get("csp"); csp != "" {
				w.Header().Set("Content-Security-Policy", csp)
			}
			_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>console</title></head><body><h1>console page</h1></body></html>")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"upstream": true, "method": req.Method,
			"path": req.URL.Path, "raw": req.RequestURI, "body": string(body),
			"tenant": req.Header.Get(assertion.HeaderTenant), "account": req.Header.Get(assertion.HeaderAccountID)})
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func newStaffEnv(t testing.TB, extra ...func(e *staffEnv, o *Options)) *staffEnv {
	t.Helper()
	ctx := context.Background()
	e := &staffEnv{faults: &redisFaults{}, cust: map[string]*tenants.Customer{}}
	p, idpSrv, err := idp.NewTestServer(idp.Options{Users: staffUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idpSrv.Close)
	e.idp = p

	conn, err := redisx.Open(ctx, redisx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e.rdb = conn
	e.rdb.AddHook(e.faults)
	e.sessions = sessions.New(e.rdb, sessions.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(e.sessions.Close)

	store, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.customers = tenants.NewCustomers(tenants.CustomerOptions{Store: store, Provisioner: tenants.Builtin{},
		Codes: noCodes{}, Index: redisindex.Index{RDB: e.rdb}, Logger: slog.New(slog.DiscardHandler)})
	for _, c := range []struct {
		label, tenant, xtype, xid, name string
		managers                        []string
	}{
		{"X", "acme", "acme-platform", "cust-1", "acme_x_corp", []string{"cm-acme"}},
		{"Y", "acme", "acme-platform", "acct-y", "acme_y_corp", []string{"someone-else"}},
		{"Z", "acme", "acme-platform", "acct-z", "acme_z_corp", nil},
		{"G", "globex", "globex-platform", "acct-g", "globex_g_corp", []string{"cm-globex"}},
		{"H", "globex", "globex-platform", "acct-h", "globex_h_corp", nil},
	} {
		cust, err := e.customers.Create(ctx, c.tenant, tenants.Registration{XAccountID: c.xid, XAccountType: c.xtype,
			DomainName: c.name, AssociationType: "2"}, tenants.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if c.managers != nil {
			if cust, err = e.customers.SetManagers(ctx, c.tenant, cust.DomainID, c.managers); err != nil {
				t.Fatal(err)
			}
		}
		e.cust[c.label] = cust
	}

	e.authz, err = authz.NewCasbin("", "", authz.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.upstream = startRecorder(t)
	e.extra = extra
	e.start(t)

	if err := e.idp.AddClient(idp.Client{ID: staffClientID, Secret: staffClientSecret,
		RedirectURIs: []string{e.apiURL + "/admin/callback"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.idp.AddClient(idp.Client{ID: "livery", Secret: "s3cret",
		RedirectURIs: []string{e.consoleURL + "/_livery/callback"}, PostLogoutRedirectURIs: []string{e.consoleURL + "/_livery/logged-out"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// start listens first (the staff PublicURL must name the API listener's
// port), then builds and serves the gateway.
func (e *staffEnv) start(t testing.TB) {
	t.Helper()
	up, _ := url.Parse(e.upstream.srv.URL)
	reg, err := tenants.NewRegistry([]tenants.Tenant{
		{ID: "acme", Name: tenants.Names{ZH: "阿克米", EN: "Acme"}, Hosts: []string{"127.0.0.1", "console.acme.test"}, Upstream: up, XAccountType: "acme-platform"},
		{ID: "globex", Name: tenants.Names{ZH: "环球", EN: "Globex"}, Hosts: []string{"console.globex.test"}, Upstream: up, XAccountType: "globex-platform"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	al, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.consoleURL, e.apiURL = "http://"+cl.Addr().String(), "http://"+al.Addr().String()
	customer := signin.OIDCClient{Issuer: e.idp.Issuer(), ClientID: "livery", ClientSecret: "s3cret"}
	o := Options{
		Logger:  slog.New(slog.DiscardHandler),
		Tenants: reg,
		Console: ListenerOptions{ReadTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10, BodyLimit: 64 << 10},
		API:     ListenerOptions{ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10, BodyLimit: 1 << 20},
		Proxy: console.ProxyOptions{ConnectTimeout: 2 * time.Second, ResponseHeaderTimeout: 5 * time.Second,
			IdleConnTimeout: time.Minute, MaxConnsPerHost: 256},
		Identity: &signin.IdentityOptions{Sessions: e.sessions, Redis: e.rdb, Customers: e.customers,
			Clients: map[string]signin.OIDCClient{"acme": customer, "globex": customer}, Authorizer: e.authz},
		Admin: &AdminOptions{
			Staff: signin.StaffOptions{Client: signin.OIDCClient{Issuer: e.idp.Issuer(), ClientID: staffClientID, ClientSecret: staffClientSecret},
				PublicURL: e.apiURL, RolesClaim: "groups", TenantClaim: "partner", RoleMap: staffRoleMap,
				Sessions: e.sessions, Redis: e.rdb},
			Authorizer: e.authz,
			Customers:  e.customers,
		},
	}
	for _, fn := range e.extra {
		fn(e, &o)
	}
	e.gw = New(o)

	done := make(chan struct{})
	go func() { _ = e.gw.Serve(cl, al); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.gw.Shutdown(ctx)
		<-done
	})
}

// token mints a valid staff ID token for subject.
func (e *staffEnv) token(t testing.TB, subject string) string {
	t.Helper()
	tok, err := e.idp.MintIDToken(staffClientID, subject, "", idp.DefectNone)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// apiResp is an answer of the API listener.
type apiResp struct {
	status int
	header http.Header
	body   string
}

func (r apiResp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not JSON (%d): %v: %q", r.status, err, r.body)
	}
	return m
}

// errorCode returns error_code of a JSON error body, failing the test
// when the body is not Livery's JSON error shape.
func (r apiResp) errorCode(t testing.TB) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q: %s", ct, r.body)
	}
	m := r.json(t)
	code, _ := m["error_code"].(string)
	if code == "" || m["error_msg"] == "" || m["request_id"] == "" {
		t.Fatalf("not an error body: %s", r.body)
	}
	return code
}

// api sends a request to the API listener. auth is a bearer token ("" for
// none); headers are name, value pairs.
func (e *staffEnv) api(t testing.TB, method, path, auth, body string, headers ...string) apiResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	if auth != "" {
		headers = append(headers, "Authorization", "Bearer "+auth)
	}
	resp, b := do(t, newReq(t, method, e.apiURL+path, rd, headers...))
	return apiResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// staffBrowser is a cookie-jar client that follows redirects.
func staffBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// stepBrowser is a cookie-jar client that does not follow redirects.
func stepBrowser(jar http.CookieJar) *http.Client {
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// staffSignIn runs the browser sign-in on the API listener as subject
// (the IdP logs the subject in without its form) and returns the final
// answer after following every redirect; it starts at
// /admin/login?rd=/admin/whoami.
func (e *staffEnv) staffSignIn(t testing.TB, c *http.Client, subject string) apiResp {
	t.Helper()
	e.idp.SetAutoLogin(subject)
	defer e.idp.SetAutoLogin("")
	resp, body := get(t, c, e.apiURL+"/admin/login?rd=/admin/whoami")
	return apiResp{status: resp.StatusCode, header: resp.Header, body: body}
}

// whoami asks /admin/whoami with c's cookies.
func (e *staffEnv) whoami(t testing.TB, c *http.Client) apiResp {
	t.Helper()
	resp, body := get(t, c, e.apiURL+"/admin/whoami", "Accept", "application/json")
	return apiResp{status: resp.StatusCode, header: resp.Header, body: body}
}

// send does one request with c (no redirect following when c says so).
func send(t testing.TB, c *http.Client, req *http.Request) apiResp {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// customerSignIn signs cust-1 in on acme's console (host 127.0.0.1) and
// returns the browser and the session id.
func (e *staffEnv) customerSignIn(t testing.TB) (*http.Client, string) {
	t.Helper()
	c := staffBrowser()
	e.idp.SetAutoLogin("cust-1")
	defer e.idp.SetAutoLogin("")
	resp, body := get(t, c, e.consoleURL+"/resources")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/resources" || !strings.Contains(body, `"upstream":true`) {
		t.Fatalf("customer sign-in landed on %s: %d %s", resp.Request.URL, resp.StatusCode, body)
	}
	sid := cookieValue(c, e.consoleURL, "livery_session")
	if sid == "" {
		t.Fatal("no livery_session cookie after sign-in")
	}
	return c, sid
}

func decodeSeg(t testing.TB, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func encodeSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
