package signin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/signin"
)

func TestCustomerSignInEndToEnd(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, false)
	g := e.Start(t, nil)
	c := gatewaytest.Browser(t)

	// Unauthenticated: the console sends the browser to sign in, and back
	// to the page it asked for.
	resp, body := g.SignIn(t, e, c, "user-1", "/headers?format=json")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/headers" || resp.Request.URL.RawQuery != "format=json" {
		t.Fatalf("landed on %s: %d %s", resp.Request.URL, resp.StatusCode, body)
	}
	var echo gatewaytest.HeaderEcho
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := map[string]string{assertion.HeaderTenant: "demo", assertion.HeaderAccountID: e.Cust.DomainID, assertion.HeaderAccountName: "acme_corp",
		assertion.HeaderUser: url.PathEscape("Alice 张"), assertion.HeaderRoles: "customer"}
	for k, v := range want {
		if got := echo.Headers[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %v, want %q", k, got, v)
		}
	}
	// The assertion verifies against the published JWKS.
	_, jwksBody := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.APIURL+"/.well-known/jwks.json", nil))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwksBody), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s %v", jwksBody, err)
	}
	tok, err := jwt.ParseSigned(echo.Headers[assertion.HeaderAssertion][0], []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var claims assertion.Claims
	if err := tok.Claims(set.Keys[0].Key, &claims); err != nil {
		t.Fatalf("assertion signature: %v", err)
	}
	if err := claims.Claims.Validate(jwt.Expected{Issuer: assertion.Issuer, AnyAudience: jwt.Audience{e.Upstream.URL}, Time: time.Now()}); err != nil {
		t.Fatalf("assertion claims: %v", err)
	}
	if claims.Subject != e.Cust.DomainID || claims.Tenant != "demo" || claims.Expiry.Time().Sub(time.Now()) > time.Minute {
		t.Fatalf("assertion %+v", claims)
	}
	// Forged identity headers from the browser never reach the upstream.
	_, body = gatewaytest.Get(t, c, g.ConsoleURL+"/headers?format=json", "X-Livery-Account-Id", "someone-else", "X-Livery-Roles", "operator")
	json.Unmarshal([]byte(body), &echo)
	if got := echo.Headers[assertion.HeaderAccountID]; len(got) != 1 || got[0] != e.Cust.DomainID {
		t.Fatalf("forged account id: %v", got)
	}
	if got := echo.Headers[assertion.HeaderRoles]; len(got) != 1 || got[0] != "customer" {
		t.Fatalf("forged roles: %v", got)
	}
	// Session cookie attributes.
	sid := gatewaytest.CookieValue(c, g.ConsoleURL, "livery_session")
	if !validSessionCookie(sid) {
		t.Fatalf("session cookie %q", sid)
	}

	// Logout: local session ends, the IdP's end-session returns to Livery.
	resp, body = gatewaytest.Get(t, c, g.ConsoleURL+"/_livery/logout")
	if resp.Request.URL.Path != "/_livery/logged-out" || !strings.Contains(body, "signed out") {
		t.Fatalf("logout ended at %s: %s", resp.Request.URL, body)
	}
	if _, err := g.Sessions.Get(context.Background(), sid); err == nil {
		t.Fatal("session alive after logout")
	}
	e.IDP.SetAutoLogin("")
	nc := &http.Client{Jar: c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = gatewaytest.Get(t, nc, g.ConsoleURL+"/billing")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/_livery/login?rd=") {
		t.Fatalf("after logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func validSessionCookie(v string) bool { return len(v) == 43 }

func TestSignInRefusals(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, false)
	g := e.Start(t, nil)
	noFollow := func(c *http.Client) *http.Client {
		return &http.Client{Jar: c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	// callbackURL starts a sign-in in browser c and returns the IdP's
	// redirect back to Livery (code and state) without following it.
	callbackURL := func(t *testing.T, c *http.Client, subject string) string {
		e.IDP.SetAutoLogin(subject)
		resp, _ := gatewaytest.Get(t, noFollow(c), g.ConsoleURL+"/_livery/login?rd=/billing")
		resp, _ = gatewaytest.Get(t, noFollow(c), resp.Header.Get("Location"))
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, g.ConsoleURL+"/_livery/callback?") {
			t.Fatalf("IdP redirected to %q", loc)
		}
		return loc
	}
	expectPage := func(t *testing.T, resp *http.Response, body string, status int, text string) {
		t.Helper()
		if resp.StatusCode != status || !strings.Contains(body, text) || !strings.Contains(body, resp.Header.Get("X-Request-Id")) {
			t.Fatalf("want %d %q, got %d: %s", status, text, resp.StatusCode, body)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "livery_session" && ck.Value != "" {
				t.Fatal("a refused sign-in set a session")
			}
		}
	}
	t.Run("not associated", func(t *testing.T) {
		resp, body := g.SignIn(t, e, gatewaytest.Browser(t), "stranger", "/")
		expectPage(t, resp, body, 403, "not associated with Demo")
	})
	t.Run("missing state", func(t *testing.T) {
		resp, body := gatewaytest.Get(t, gatewaytest.Browser(t), g.ConsoleURL+"/_livery/callback?code=x")
		expectPage(t, resp, body, 400, "missing state")
	})
	t.Run("replayed callback", func(t *testing.T) {
		c := gatewaytest.Browser(t)
		u := callbackURL(t, c, "user-1")
		if resp, _ := gatewaytest.Get(t, c, u); resp.StatusCode != 200 {
			t.Fatalf("first use: %d", resp.StatusCode)
		}
		resp, body := gatewaytest.Get(t, gatewaytest.Browser(t), u)
		expectPage(t, resp, body, 400, "unknown or used state")
	})
	t.Run("state from another browser", func(t *testing.T) {
		u := callbackURL(t, gatewaytest.Browser(t), "user-1")
		resp, body := gatewaytest.Get(t, gatewaytest.Browser(t), u)
		expectPage(t, resp, body, 400, "another browser")
	})
	t.Run("idp error", func(t *testing.T) {
		resp, body := gatewaytest.Get(t, gatewaytest.Browser(t), g.ConsoleURL+"/_livery/callback?error=access_denied<script>&state=x")
		expectPage(t, resp, body, 401, "access_deniedscript")
	})
	for _, d := range []struct {
		name string
		d    idp.Defect
		why  string
	}{
		{"expired", idp.DefectExpired, "ID token rejected"}, {"wrong audience", idp.DefectWrongAudience, "ID token rejected"},
		{"wrong issuer", idp.DefectWrongIssuer, "ID token rejected"}, {"alg none", idp.DefectAlgNone, "ID token rejected"},
		{"tampered signature", idp.DefectBadSignature, "ID token rejected"}, {"unknown kid", idp.DefectUnknownKID, "ID token rejected"},
		{"wrong nonce", idp.DefectWrongNonce, "nonce mismatch"},
	} {
		t.Run(d.name, func(t *testing.T) {
			c := gatewaytest.Browser(t)
			u := callbackURL(t, c, "user-1")
			e.IDP.NextTokenDefect(d.d)
			resp, body := gatewaytest.Get(t, c, u)
			expectPage(t, resp, body, 400, d.why)
		})
	}
	t.Run("forged and oversized cookies", func(t *testing.T) {
		for _, v := range []string{"forged", strings.Repeat("A", 43), strings.Repeat("x", 6000)} {
			resp, _ := gatewaytest.Get(t, noFollow(gatewaytest.Browser(t)), g.ConsoleURL+"/", "Cookie", "livery_session="+v)
			if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("cookie %.10q: %d", v, resp.StatusCode)
			}
		}
	})
	t.Run("session used on another tenant's host", func(t *testing.T) {
		other := &http.Client{}
		foreign, err := g.Sessions.Create(context.Background(), sessionFor("other"))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := gatewaytest.Get(t, other, g.ConsoleURL+"/", "Cookie", "livery_session="+foreign.ID)
		if resp.StatusCode != 403 || !strings.Contains(body, "belongs to another console") {
			t.Fatalf("foreign session: %d %s", resp.StatusCode, body)
		}
	})
}

func sessionFor(tenant string) sessions.Session {
	return sessions.Session{Tenant: tenant, Kind: "customer", Issuer: "https://idp.other", Subject: "u", Roles: []string{"customer"}}
}

// TestPublicPathsSignedOut: the cloud's logo path is fetched without a
// session (GET and HEAD of that exact canonical path, no query, no
// identity sent); everything else still needs one.
func TestPublicPathsSignedOut(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, false)
	g := e.Start(t, nil, gatewaytest.WithIdentity(func(o *signin.IdentityOptions) { o.PublicPaths = []string{"/headers"} }))
	anon := gatewaytest.StepBrowser(nil)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/headers", 200},
		{"HEAD", "/headers", 200},
		{"GET", "/x/../headers", 200}, // the same canonical path
		{"GET", "/headers?format=json", 302},
		{"POST", "/headers", 401},
		{"GET", "/headers/../whoami", 302},
		{"GET", "/headers/", 302},
		{"GET", "/HEADERS", 302},
	} {
		req := gatewaytest.NewRequest(t, c.method, g.ConsoleURL+c.path, nil, "Accept", "text/html")
		r := gatewaytest.Send(t, anon, req)
		if r.Status != c.status {
			t.Errorf("%s %s signed out: %d, want %d", c.method, c.path, r.Status, c.status)
		}
		if c.status == 200 && c.method == "GET" && strings.Contains(r.Body, assertion.HeaderAccountID) {
			t.Errorf("%s: identity sent upstream without a session: %.300s", c.path, r.Body)
		}
	}
}
