package idp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/livery/livery/cmd/demopartner/idp"
)

const (
	clientID    = "gateway"
	secret      = "s3cret"
	redirectURI = "https://console.partner-a.example/oidc/callback"
	afterLogout = "https://console.partner-a.example/bye"
)

type fixture struct {
	p      *idp.Provider
	srv    *httptest.Server
	ctx    context.Context
	oidcP  *oidc.Provider
	conf   oauth2.Config
	client *http.Client // cookie jar, does not follow redirects
}

func setup(t *testing.T) *fixture {
	t.Helper()
	p, srv, err := idp.NewTestServer(idp.Options{
		Users: []idp.User{{Subject: "u-1", Name: "alice", Email: "alice@example.com", Password: "pw-alice",
			Claims: map[string]any{"roles": []string{"admin"}, "xaccount_id": "x-1"}}},
		Clients: []idp.Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirectURI},
			PostLogoutRedirectURIs: []string{afterLogout}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	op, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return &fixture{p: p, srv: srv, ctx: ctx, oidcP: op, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		conf: oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURI,
			Endpoint: op.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}}}
}

// verify checks an ID token the way a relying party must (go-oidc + nonce).
func (f *fixture) verify(raw, nonce string) (*oidc.IDToken, error) {
	tok, err := f.oidcP.Verifier(&oidc.Config{ClientID: clientID}).Verify(f.ctx, raw)
	if err != nil {
		return nil, err
	}
	if tok.Nonce != nonce {
		return nil, errors.New("nonce mismatch")
	}
	return tok, nil
}

// login runs /authorize with the login form and returns the callback URL.
func (f *fixture) login(t *testing.T, authURL, user, pass string) *url.URL {
	t.Helper()
	resp, err := f.client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK { // login form
		u, _ := url.Parse(authURL)
		form := u.Query()
		form.Set("username", user)
		form.Set("password", pass)
		resp, err = f.client.PostForm(f.srv.URL+"/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestCodeFlowWithPKCE(t *testing.T) {
	f := setup(t)
	verifier := oauth2.GenerateVerifier()
	authURL := f.conf.AuthCodeURL("st-1", oidc.Nonce("n-1"), oauth2.S256ChallengeOption(verifier))

	// Wrong password shows the form again.
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("username", "alice")
	form.Set("password", "nope")
	resp, err := f.client.PostForm(f.srv.URL+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad password: status %d", resp.StatusCode)
	}

	cb := f.login(t, authURL, "alice", "pw-alice")
	if cb.Query().Get("state") != "st-1" || cb.Query().Get("iss") != f.srv.URL {
		t.Fatalf("callback %s", cb)
	}
	code := cb.Query().Get("code")
	tok, err := f.conf.Exchange(f.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := f.verify(raw, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != "u-1" || all["name"] != "alice" || all["email"] != "alice@example.com" ||
		all["xaccount_id"] != "x-1" || fmt.Sprint(all["roles"]) != "[admin]" || all["auth_time"] == nil || all["sid"] == nil {
		t.Fatalf("claims %v", all)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	if got := f.p.SessionsOf("u-1"); len(got) != 1 || got[0] != all["sid"] {
		t.Fatalf("SessionsOf = %v, sid %v", got, all["sid"])
	}
	ui, err := f.oidcP.UserInfo(f.ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != "u-1" || ui.Email != "alice@example.com" {
		t.Fatalf("userinfo %+v %v", ui, err)
	}

	// Replayed code is refused.
	if _, err := f.conf.Exchange(f.ctx, code, oauth2.VerifierOption(verifier)); !isOAuthErr(err, "invalid_grant") {
		t.Fatalf("replay: %v", err)
	}

	// SSO: the IdP cookie logs the user in without the form.
	cb = f.login(t, f.conf.AuthCodeURL("st-2", oauth2.S256ChallengeOption(verifier)), "", "")
	if cb.Query().Get("code") == "" {
		t.Fatalf("sso callback %s", cb)
	}
}

func isOAuthErr(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func TestWrongVerifierAndClientAuth(t *testing.T) {
	f := setup(t)
	f.p.SetAutoLogin("u-1")
	v := oauth2.GenerateVerifier()
	code := f.login(t, f.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), "", "").Query().Get("code")
	if _, err := f.conf.Exchange(f.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthErr(err, "invalid_grant") {
		t.Fatalf("wrong verifier: %v", err)
	}
	bad := f.conf
	bad.ClientSecret = "wrong"
	code = f.login(t, f.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), "", "").Query().Get("code")
	if _, err := bad.Exchange(f.ctx, code, oauth2.VerifierOption(v)); !isOAuthErr(err, "invalid_client") {
		t.Fatalf("wrong secret: %v", err)
	}
	post := f.conf
	post.Endpoint.AuthStyle = oauth2.AuthStyleInParams // client_secret_post
	code = f.login(t, f.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), "", "").Query().Get("code")
	if _, err := post.Exchange(f.ctx, code, oauth2.VerifierOption(v)); err != nil {
		t.Fatalf("client_secret_post: %v", err)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	f := setup(t)
	f.p.SetAutoLogin("u-1")
	v := oauth2.GenerateVerifier()
	ch := oauth2.S256ChallengeOption(v)
	other := f.conf
	other.RedirectURL = "https://evil.example/cb"
	for name, tc := range map[string]struct {
		url     string
		status  int
		errCode string
	}{
		"unregistered redirect": {other.AuthCodeURL("s", ch), 400, ""},
		"unknown client":        {strings.Replace(f.conf.AuthCodeURL("s", ch), "client_id=gateway", "client_id=nobody", 1), 400, ""},
		"no pkce":               {f.conf.AuthCodeURL("s"), 302, "invalid_request"},
		"plain pkce":            {f.conf.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")), 302, "invalid_request"},
		"token response type":   {strings.Replace(f.conf.AuthCodeURL("s", ch), "response_type=code", "response_type=token", 1), 302, "unsupported_response_type"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := f.client.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if tc.errCode == "" && resp.Header.Get("Location") != "" {
				t.Fatalf("redirected to %s", loc)
			}
			if tc.errCode != "" && (loc.Query().Get("error") != tc.errCode || loc.Query().Get("state") != "s" ||
				!strings.HasPrefix(loc.String(), redirectURI)) {
				t.Fatalf("location %s", loc)
			}
		})
	}
}

func TestEndSession(t *testing.T) {
	f := setup(t)
	hint, err := f.p.MintIDToken(clientID, "u-1", "", idp.DefectNone)
	if err != nil {
		t.Fatal(err)
	}
	get := func(q url.Values) *http.Response {
		resp, err := f.client.Get(f.srv.URL + "/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}}); r.StatusCode != 400 || r.Header.Get("Location") != "" {
		t.Fatalf("unregistered post-logout URI: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(url.Values{"post_logout_redirect_uri": {afterLogout}}); r.StatusCode != 400 {
		t.Fatalf("no client identified: %d", r.StatusCode)
	}
	r := get(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {afterLogout}, "state": {"xyz"}})
	if r.StatusCode != 302 || r.Header.Get("Location") != afterLogout+"?state=xyz" {
		t.Fatalf("logout redirect: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {afterLogout}}); r.StatusCode != 302 {
		t.Fatalf("client_id only: %d", r.StatusCode)
	}
}

func TestKeyRotation(t *testing.T) {
	f := setup(t)
	if _, err := f.p.MintIDToken(clientID, "u-1", "n", idp.DefectNone); err != nil {
		t.Fatal(err)
	}
	old, _ := f.p.MintIDToken(clientID, "u-1", "n", idp.DefectNone)
	if _, err := f.verify(old, "n"); err != nil { // go-oidc caches the first JWKS
		t.Fatal(err)
	}
	kid := f.p.RotateKey()
	fresh, _ := f.p.MintIDToken(clientID, "u-1", "n", idp.DefectNone)
	jws, err := jose.ParseSignedCompact(fresh, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || jws.Signatures[0].Header.KeyID != kid {
		t.Fatalf("new token kid: %v", err)
	}
	for _, tok := range []string{fresh, old} {
		if _, err := f.verify(tok, "n"); err != nil {
			t.Fatal(err)
		}
	}
	var set jose.JSONWebKeySet
	resp, _ := http.Get(f.srv.URL + "/jwks")
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 2 || len(set.Key(kid)) != 1 {
		t.Fatalf("jwks has %d keys", len(set.Keys))
	}
}

func TestDefects(t *testing.T) {
	f := setup(t)
	for d := idp.DefectNone; d <= idp.DefectWrongNonce; d++ {
		t.Run(fmt.Sprint("defect-", int(d)), func(t *testing.T) {
			raw, err := f.p.MintIDToken(clientID, "u-1", "nonce-1", d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.verify(raw, "nonce-1")
			if (err == nil) != (d == idp.DefectNone) {
				t.Fatalf("defect %d: verify err = %v", d, err)
			}
		})
	}
	// NextTokenDefect applies to one exchange only.
	f.p.SetAutoLogin("u-1")
	v := oauth2.GenerateVerifier()
	for i, want := range []bool{false, true} {
		if i == 0 {
			f.p.NextTokenDefect(idp.DefectWrongAudience)
		}
		cb := f.login(t, f.conf.AuthCodeURL("s", oidc.Nonce("n"), oauth2.S256ChallengeOption(v)), "", "")
		tok, err := f.conf.Exchange(f.ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.verify(tok.Extra("id_token").(string), "n"); (err == nil) != want {
			t.Fatalf("exchange %d: verify err = %v", i, err)
		}
	}
}

func TestBackchannelLogout(t *testing.T) {
	f := setup(t)
	var mu sync.Mutex
	var got string
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = r.PostFormValue("logout_token")
	}))
	defer rp.Close()
	if err := f.p.AddClient(idp.Client{ID: "rp", Secret: "x", BackchannelLogoutURI: rp.URL + "/bcl"}); err != nil {
		t.Fatal(err)
	}
	if err := f.p.SendBackchannelLogout(context.Background(), "rp", "u-1", "sid-9"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	raw := got
	mu.Unlock()

	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := jws.Signatures[0].Protected.ExtraHeaders["typ"]; typ != "logout+jwt" {
		t.Fatalf("typ %v", typ)
	}
	var set jose.JSONWebKeySet
	resp, _ := http.Get(f.srv.URL + "/jwks")
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatal("kid not in JWKS")
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	events, _ := c["events"].(map[string]any)
	if _, ok := events["http://schemas.openid.net/event/backchannel-logout"]; !ok || c["sub"] != "u-1" ||
		c["sid"] != "sid-9" || c["aud"] != "rp" || c["iss"] != f.srv.URL || c["jti"] == nil || c["iat"] == nil {
		t.Fatalf("claims %v", c)
	}
	if _, ok := c["nonce"]; ok {
		t.Fatal("logout token has a nonce")
	}
	if err := f.p.SendBackchannelLogout(context.Background(), clientID, "u-1", ""); err == nil {
		t.Fatal("client without back-channel URI accepted")
	}
	if _, err := f.p.LogoutToken("rp", "", ""); err == nil {
		t.Fatal("logout token without sub and sid accepted")
	}
}
