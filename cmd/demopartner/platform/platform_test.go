package platform_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/cmd/demopartner/platform"
)

const callback = "http://console.partner-a.test/oidc/callback"

type fakeAPI struct {
	mu       sync.Mutex
	requests []map[string]any
	headers  []http.Header
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.requests = append(f.requests, body)
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/v2/partners/sub-customers":
		w.WriteHeader(http.StatusNotFound)
	case !strings.HasPrefix(r.Header.Get("Authorization"), "SDK-HMAC-SHA256 Access=AK-TEST,"):
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error_code":"CBC.0154","error_msg":"credential invalid"}`)
	case body["domain_name"] == "taken_name":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error_code":"CBC.99000038","error_msg":"account name <already> exists"}`)
	default:
		_ = json.NewEncoder(w).Encode(map[string]string{"domain_id": "dom-" + body["xaccount_id"].(string), "domain_name": "cloud_" + body["xaccount_id"].(string)})
	}
}

func start(t *testing.T) (*httptest.Server, *fakeAPI) {
	t.Helper()
	api := &fakeAPI{}
	apiSrv := httptest.NewServer(api)
	t.Cleanup(apiSrv.Close)
	srv := httptest.NewUnstartedServer(nil)
	h, err := platform.New(platform.Options{
		PublicURL: "http://" + srv.Listener.Addr().String(), PartnerAPIURL: apiSrv.URL,
		AccessKey: "AK-TEST", SecretKey: "SK-TEST", XAccountType: "demo_platform", ConsoleURL: "http://console.partner-a.test/",
		Clients: []idp.Client{{ID: "livery", Secret: "cs", RedirectURIs: []string{callback}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, api
}

func signup(t *testing.T, srv *httptest.Server, user, pass, acct string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+"/signup", url.Values{"username": {user}, "password": {pass}, "account_name": {acct}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSignupThenLogin(t *testing.T) {
	srv, api := start(t)
	status, body := signup(t, srv, "bob", "password-1", "")
	if status != http.StatusCreated || !strings.Contains(body, `id="domain-name">cloud_dp`) ||
		!strings.Contains(body, `href="http://console.partner-a.test/"`) || !strings.Contains(body, "Go to console") {
		t.Fatalf("status %d body %s", status, body)
	}
	api.mu.Lock()
	req := api.requests[0]
	api.mu.Unlock()
	xid, _ := req["xaccount_id"].(string)
	if req["xaccount_type"] != "demo_platform" || !strings.HasPrefix(xid, "dp") || req["domain_name"] != nil {
		t.Fatalf("API request %v", req)
	}
	if status, _ := signup(t, srv, "BOB", "password-2", ""); status != http.StatusBadRequest {
		t.Fatalf("duplicate username: %d", status)
	}

	// The new user signs in through the embedded IdP.
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	op, err := oidc.NewProvider(ctx, srv.URL+"/idp")
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "livery", ClientSecret: "cs", RedirectURL: callback, Endpoint: op.Endpoint(), Scopes: []string{"openid"}}
	v := oauth2.GenerateVerifier()
	authURL, _ := url.Parse(conf.AuthCodeURL("st", oidc.Nonce("nn"), oauth2.S256ChallengeOption(v)))
	if !strings.HasPrefix(authURL.String(), srv.URL+"/idp/authorize?") {
		t.Fatalf("authorization endpoint %s", authURL)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := authURL.Query()
	form.Set("username", "bob")
	form.Set("password", "password-1")
	resp, err := c.PostForm(srv.URL+"/idp/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("login: %d %s", resp.StatusCode, loc)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: "livery"}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	if idt.Subject != xid || claims["xaccount_id"] != xid || claims["name"] != "bob" || claims["domain_id"] != "dom-"+xid {
		t.Fatalf("claims %v", claims)
	}
}

func TestSignupAPIErrorShown(t *testing.T) {
	srv, _ := start(t)
	status, body := signup(t, srv, "carol", "password-1", "taken_name")
	if status != http.StatusBadRequest || !strings.Contains(body, `<code id="error-code">CBC.99000038</code>`) ||
		!strings.Contains(body, "account name &lt;already&gt; exists") || !strings.Contains(body, `value="taken_name"`) {
		t.Fatalf("status %d body %s", status, body)
	}
	// The username was released: a retry with another account name works.
	if status, body := signup(t, srv, "carol", "password-1", "free_name"); status != http.StatusCreated {
		t.Fatalf("retry: %d %s", status, body)
	}
	if status, body := signup(t, srv, `<script>x</script>`, "password-1", ""); status != http.StatusBadRequest || strings.Contains(body, "<script>x") {
		t.Fatalf("bad username: %d %s", status, body)
	}
}

func TestBadCredentialsShown(t *testing.T) {
	api := httptest.NewServer(&fakeAPI{})
	defer api.Close()
	h, err := platform.New(platform.Options{PublicURL: "http://127.0.0.1:1", PartnerAPIURL: api.URL, AccessKey: "OTHER",
		SecretKey: "x", XAccountType: "t", ConsoleURL: "http://c.test"})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader("username=erin&password=password-1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "CBC.0154") {
		t.Fatalf("status %d body %s", rec.Code, rec.Body.String())
	}
	if _, err := platform.New(platform.Options{}); err == nil || !strings.Contains(err.Error(), "SecretKey is required") {
		t.Fatalf("empty options: %v", err)
	}
}

// TestSignupOpensIdPSession: after sign-up, "Go to console" posts a
// one-time ticket to the IdP, which opens the session and sends the
// browser to the console; the console's sign-in is then a jump without a
// password prompt.
func TestSignupOpensIdPSession(t *testing.T) {
	srv, _ := start(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(srv.URL+"/signup", url.Values{"username": {"dave"}, "password": {"password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	m := regexp.MustCompile(`<form id="console-form" method="post" action="([^"]+)"><input type="hidden" name="ticket" value="([0-9a-f]{64})">`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || m == nil || m[1] != srv.URL+"/idp/signup-session" {
		t.Fatalf("sign-up page: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(resp.Header.Get("Location"), m[2]) || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatal("the ticket must not travel in a URL or a Referer")
	}
	resp, err = c.PostForm(m[1], url.Values{"ticket": {m[2]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "http://console.partner-a.test/" {
		t.Fatalf("redeem: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The console's sign-in: the IdP answers with a code at once.
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	op, err := oidc.NewProvider(ctx, srv.URL+"/idp")
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "livery", ClientSecret: "cs", RedirectURL: callback, Endpoint: op.Endpoint(), Scopes: []string{"openid"}}
	v := oauth2.GenerateVerifier()
	resp, err = c.Get(conf.AuthCodeURL("st", oidc.Nonce("nn"), oauth2.S256ChallengeOption(v)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorize after sign-up: %d %s (a login form means no session)", resp.StatusCode, loc)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: "livery"}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil || !strings.HasPrefix(idt.Subject, "dp") {
		t.Fatalf("id token: %v %v", idt, err)
	}
}
