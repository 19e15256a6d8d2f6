package gatewaytest

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
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/console"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/apistats"
	"github.com/livery/livery/tenants/keyusage"
	"github.com/livery/livery/tenants/records"
	"github.com/livery/livery/tenants/redisindex"
)

// StaffEnv is a gateway with staff sign-in, the admin API and customer
// sign-in, all decided by the real Casbin authorizer with the embedded
// policy, in front of a recording upstream. Two tenants: acme (console
// hosts 127.0.0.1 and console.acme.test) and globex (console.globex.test).
//
// One test IdP serves both the staff client ("livery-staff") and the
// customer client ("livery"). Staff claims: "groups" (mapped by roleMap)
// and "partner" (home tenant).
type StaffEnv struct {
	IDP       *idp.Provider
	RDB       redis.UniversalClient
	Faults    *RedisFaults
	Sessions  *sessions.Store
	Customers *tenants.Customers
	Store     objstore.Store
	// Staff is the staff directory staff sign-in records into; Keys the
	// access keys of the admin API (last-used times in RDB); Audit the
	// partner domain's audit log.
	Staff *tenants.StaffDirectory
	Keys  *tenants.AccessKeys
	Audit *audit.Log
	// Delegations is delegated operations on Store (the admin API's and
	// the web UI's grants).
	Delegations *delegation.Service
	// Records are the tenant records on Store (the admin API's /tenants
	// and the web UI's partner pages; empty at start), Stats the partner
	// API request counts on RDB (the summary).
	Records            *records.Store
	Stats              *apistats.Stats
	authz              *authz.Casbin
	Upstream           *Recorder
	gw                 *gateway.Gateway
	ConsoleURL, APIURL string
	OpsURL             string // health, readiness, metrics

	// Customers by label: acme X (the console customer "cust-1", managed
	// by cm-acme), acme Y (managed by someone-else), acme Z (no manager),
	// globex G (managed by cm-globex), globex H (no manager).
	Cust map[string]*tenants.Customer
	// extra adjusts the gateway options before start (e.g. branding).
	extra []func(e *StaffEnv, o *gateway.Options)
	reg   *tenants.Registry
}

const (
	StaffClientID     = "livery-staff"
	StaffClientSecret = "staff-s3cret"
)

var staffRoleMap = map[string]string{
	"cloud-ops":        "operator",
	"acme-admins":      "partner_admin",
	"account-managers": "customer_manager",
}

// StaffUsers are the IdP accounts of the staff tests.
func StaffUsers() []idp.User {
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

// RedisFaults fails the named commands while armed.
type RedisFaults struct {
	mu   sync.Mutex
	fail map[string]bool
}

// Set arms (on) or disarms the failure of the Redis command cmd (e.g. "get").
func (f *RedisFaults) Set(cmd string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]bool{}
	}
	f.fail[cmd] = on
}

// DialHook, ProcessHook and ProcessPipelineHook make RedisFaults a
// redis.Hook; only single commands fail.
func (f *RedisFaults) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f *RedisFaults) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
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
func (f *RedisFaults) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Recorder is an upstream that answers every request 200 with what it
// received, and remembers each request line.
type Recorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	seen  []string // "METHOD escaped-path"
	Count atomic.Int64
}

func startRecorder(t testing.TB) *Recorder {
	r := &Recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.EscapedPath())
		r.mu.Unlock()
		r.Count.Add(1)
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
			"tenant": req.Header.Get(assertion.HeaderTenant), "account": req.Header.Get(assertion.HeaderAccountID),
			"actor": req.Header.Get(assertion.HeaderActor), "grant": req.Header.Get(assertion.HeaderGrant),
			"assertion": req.Header.Get(assertion.HeaderAssertion)})
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// Requests returns the request lines the Recorder has seen, in order.
func (r *Recorder) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// NewStaffEnv starts a StaffEnv; each extra adjusts the gateway Options
// before the gateway is built (the env's listeners, IdP and Redis are ready
// by then).
func NewStaffEnv(t testing.TB, extra ...func(e *StaffEnv, o *gateway.Options)) *StaffEnv {
	t.Helper()
	ctx := context.Background()
	e := &StaffEnv{Faults: &RedisFaults{}, Cust: map[string]*tenants.Customer{}}
	p, idpSrv, err := idp.NewTestServer(idp.Options{Users: StaffUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idpSrv.Close)
	e.IDP = p

	conn, err := redisx.Open(ctx, redisx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e.RDB = conn
	e.RDB.AddHook(e.Faults)
	e.Sessions = sessions.New(e.RDB, sessions.Options{IdleTimeout: 30 * time.Minute, MaxLifetime: 12 * time.Hour, CacheEntries: 1000, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(e.Sessions.Close)

	store, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.Store = store
	e.Customers = tenants.NewCustomers(tenants.CustomerOptions{PhoneLimit: 5, Store: store, Provisioner: tenants.Builtin{},
		Codes: noCodes{}, Index: redisindex.Index{RDB: e.RDB}, Logger: slog.New(slog.DiscardHandler)})
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
		cust, err := e.Customers.Create(ctx, c.tenant, tenants.Registration{XAccountID: c.xid, XAccountType: c.xtype,
			DomainName: c.name, AssociationType: "2"}, tenants.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if c.managers != nil {
			if cust, err = e.Customers.SetManagers(ctx, c.tenant, cust.DomainID, c.managers); err != nil {
				t.Fatal(err)
			}
		}
		e.Cust[c.label] = cust
	}

	quiet := slog.New(slog.DiscardHandler)
	e.Audit = audit.NewLog(store, tenants.AuditStream)
	e.Staff = tenants.NewStaffDirectory(store, quiet)
	creds, err := tenants.NewCredentials(store, make([]byte, 32), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.Keys = tenants.NewAccessKeys(tenants.AccessKeysOptions{Credentials: creds, Usage: keyusage.Usage{RDB: e.RDB},
		Audit: e.Audit, Logger: quiet})

	e.authz, err = authz.NewCasbin("", "", authz.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := records.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.Records = records.New(store, sealer, records.Options{Logger: quiet})
	e.Stats = apistats.New(e.RDB, apistats.Options{Logger: quiet})
	e.startDelegations(t)
	e.Upstream = startRecorder(t)
	e.extra = extra
	e.start(t)

	if err := e.IDP.AddClient(idp.Client{ID: StaffClientID, Secret: StaffClientSecret,
		RedirectURIs: []string{e.APIURL + "/admin/callback"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.IDP.AddClient(idp.Client{ID: "livery", Secret: "s3cret",
		RedirectURIs: []string{e.ConsoleURL + "/_livery/callback"}, PostLogoutRedirectURIs: []string{e.ConsoleURL + "/_livery/logged-out"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// start listens first (the staff PublicURL must name the API listener's
// port), then builds and serves the gateway.
func (e *StaffEnv) start(t testing.TB) {
	t.Helper()
	up, _ := url.Parse(e.Upstream.srv.URL)
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
	ol, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.ConsoleURL, e.APIURL = "http://"+cl.Addr().String(), "http://"+al.Addr().String()
	e.OpsURL = "http://" + ol.Addr().String()
	reg = WithSignIn(t, reg, &tenants.SignIn{Issuer: e.IDP.Issuer(), ClientID: "livery", ClientSecret: "s3cret"}, "acme", "globex")
	e.reg = reg
	o := gateway.Options{
		Logger:  slog.New(slog.DiscardHandler),
		Tenants: reg,
		Console: gateway.ListenerOptions{ReadTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10, BodyLimit: 64 << 10},
		API:     gateway.ListenerOptions{ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10, BodyLimit: 1 << 20},
		Proxy: console.ProxyOptions{ConnectTimeout: 2 * time.Second, ResponseHeaderTimeout: 5 * time.Second,
			IdleConnTimeout: time.Minute, MaxConnsPerHost: 256},
		Identity: &signin.IdentityOptions{Sessions: e.Sessions, Redis: e.RDB, Customers: e.Customers, Authorizer: e.authz},
		Admin: &gateway.AdminOptions{
			Staff: signin.StaffOptions{Client: signin.OIDCClient{Issuer: e.IDP.Issuer(), ClientID: StaffClientID, ClientSecret: StaffClientSecret},
				PublicURL: e.APIURL, RolesClaim: "groups", TenantClaim: "partner", RoleMap: staffRoleMap,
				Sessions: e.Sessions, Redis: e.RDB, Directory: e.Staff, Logger: slog.New(slog.DiscardHandler)},
			Authorizer: e.authz,
			Customers:  e.Customers,
			Managers:   &tenants.Assignments{Customers: e.Customers, Staff: e.Staff, Audit: e.Audit, Logger: slog.New(slog.DiscardHandler)},
			Directory:  e.Staff,
			Keys:       e.Keys,
			// delegated operations: the partner's side
			Delegations: e.Delegations,
			Records:     e.Records,
			APIStats:    e.Stats,
		},
	}
	for _, fn := range e.extra {
		fn(e, &o)
	}
	e.gw = gateway.New(o)

	done := make(chan struct{})
	go func() { _ = e.gw.Serve(cl, al, ol); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.gw.Shutdown(ctx)
		<-done
	})
}

// Token mints a valid staff ID token for subject.
func (e *StaffEnv) Token(t testing.TB, subject string) string {
	t.Helper()
	tok, err := e.IDP.MintIDToken(StaffClientID, subject, "", idp.DefectNone)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is an answer of the API listener.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body as a JSON object, failing the test when it is not one.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("not JSON (%d): %v: %q", r.Status, err, r.Body)
	}
	return m
}

// ErrorCode returns error_code of a JSON error body, failing the test
// when the body is not Livery's JSON error shape.
func (r Response) ErrorCode(t testing.TB) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q: %s", ct, r.Body)
	}
	m := r.JSON(t)
	code, _ := m["error_code"].(string)
	if code == "" || m["error_msg"] == "" || m["request_id"] == "" {
		t.Fatalf("not an error body: %s", r.Body)
	}
	return code
}

// API sends a request to the API listener. auth is a bearer token ("" for
// none); headers are name, value pairs.
func (e *StaffEnv) API(t testing.TB, method, path, auth, body string, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	if auth != "" {
		headers = append(headers, "Authorization", "Bearer "+auth)
	}
	resp, b := Do(t, NewRequest(t, method, e.APIURL+path, rd, headers...))
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// StaffBrowser is a cookie-jar client that follows redirects.
func StaffBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// StepBrowser is a cookie-jar client that does not follow redirects.
func StepBrowser(jar http.CookieJar) *http.Client {
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// StaffSignIn runs the browser sign-in on the API listener as subject
// (the IdP logs the subject in without its form) and returns the final
// answer after following every redirect; it starts at
// /admin/login?rd=/admin/whoami.
func (e *StaffEnv) StaffSignIn(t testing.TB, c *http.Client, subject string) Response {
	t.Helper()
	e.IDP.SetAutoLogin(subject)
	defer e.IDP.SetAutoLogin("")
	resp, body := Get(t, c, e.APIURL+"/admin/login?rd=/admin/whoami")
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// Whoami asks /admin/whoami with c's cookies.
func (e *StaffEnv) Whoami(t testing.TB, c *http.Client) Response {
	t.Helper()
	resp, body := Get(t, c, e.APIURL+"/admin/whoami", "Accept", "application/json")
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// Send does one request with c (no redirect following when c says so).
func Send(t testing.TB, c *http.Client, req *http.Request) Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// CustomerSignIn signs cust-1 in on acme's console (host 127.0.0.1) and
// returns the browser and the session id.
func (e *StaffEnv) CustomerSignIn(t testing.TB) (*http.Client, string) {
	t.Helper()
	c := StaffBrowser()
	e.IDP.SetAutoLogin("cust-1")
	defer e.IDP.SetAutoLogin("")
	resp, body := Get(t, c, e.ConsoleURL+"/resources")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/resources" || !strings.Contains(body, `"upstream":true`) {
		t.Fatalf("customer sign-in landed on %s: %d %s", resp.Request.URL, resp.StatusCode, body)
	}
	sid := CookieValue(c, e.ConsoleURL, "livery_session")
	if sid == "" {
		t.Fatal("no livery_session cookie after sign-in")
	}
	return c, sid
}

// DecodeSeg decodes one base64url segment of a JWT.
func DecodeSeg(t testing.TB, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// EncodeSeg encodes s as a base64url JWT segment.
func EncodeSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Gateway is the env's gateway (its listeners' Fiber apps, e.g. to walk
// the API listener's routes).
func (e *StaffEnv) Gateway() *gateway.Gateway { return e.gw }
