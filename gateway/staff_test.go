package gateway

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway/sessions"
)

// roleList reads the "roles" array of a whoami answer.
func roleList(m map[string]any) []string {
	out := []string{}
	raw, _ := m["roles"].([]any)
	for _, r := range raw {
		s, _ := r.(string)
		out = append(out, s)
	}
	return out
}

// TestStaffBrowserSignIn runs the whole staff sign-in (code + PKCE at the
// test IdP) on the API listener and checks whoami: user id, display name,
// mapped roles (unknown groups dropped) and home tenant. A user without
// a staff role is refused and gets no session.
func TestStaffBrowserSignIn(t *testing.T) {
	e := newStaffEnv(t)
	for _, tc := range []struct {
		subject    string
		wantStatus int
		wantCode   string // error_code when refused
		wantName   string
		wantRoles  []string
		wantTenant string
	}{
		{subject: "op-1", wantStatus: 200, wantName: "Olga Operator", wantRoles: []string{"operator"}},
		{subject: "pa-acme", wantStatus: 200, wantName: "Pat Admin", wantRoles: []string{"partner_admin"}, wantTenant: "acme"},
		{subject: "cm-acme", wantStatus: 200, wantName: "Carol", wantRoles: []string{"customer_manager"}, wantTenant: "acme"},
		{subject: "cm-globex", wantStatus: 200, wantName: "Gus", wantRoles: []string{"customer_manager"}, wantTenant: "globex"},
		// No name claim: the display name falls back to the subject.
		{subject: "raw-pa", wantStatus: 200, wantName: "raw-pa", wantRoles: []string{"partner_admin"}, wantTenant: "acme"},
		// Groups that look like roles but map to nothing.
		{subject: "nobody", wantStatus: http.StatusForbidden, wantCode: "no_role"},
	} {
		t.Run(tc.subject, func(t *testing.T) {
			c := staffBrowser()
			r := e.staffSignIn(t, c, tc.subject)
			if r.status != tc.wantStatus {
				t.Fatalf("sign-in: %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			sid := cookieValue(c, e.apiURL, "livery_staff")
			if tc.wantCode != "" {
				if code := r.errorCode(t); code != tc.wantCode {
					t.Fatalf("error_code %q, want %q: %s", code, tc.wantCode, r.body)
				}
				if msg := r.json(t)["error_msg"].(string); !strings.Contains(msg, "no Livery staff role") {
					t.Errorf("refusal message %q is not clear", msg)
				}
				if sid != "" {
					t.Fatalf("refused user got a staff session cookie %q", sid)
				}
				if w := e.whoami(t, c); w.status != http.StatusUnauthorized {
					t.Fatalf("whoami after refusal: %d %s", w.status, w.body)
				}
				return
			}
			if sid == "" {
				t.Fatal("no livery_staff cookie")
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("whoami Cache-Control %q", cc)
			}
			m := r.json(t)
			if m["user"] != tc.subject || m["name"] != tc.wantName || m["tenant"] != tc.wantTenant ||
				!slices.Equal(roleList(m), tc.wantRoles) {
				t.Fatalf("whoami %s, want user %q name %q roles %v tenant %q", r.body, tc.subject, tc.wantName, tc.wantRoles, tc.wantTenant)
			}
			// The session is server-side, of kind staff, and keeps the ID token.
			sess, err := e.sessions.Get(context.Background(), sid)
			if err != nil || sess.Kind != "staff" || sess.Subject != tc.subject || sess.IDToken == "" {
				t.Fatalf("session %+v %v", sess, err)
			}
		})
	}
}

// hiddenInput matches the IdP login form's hidden fields.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestStaffSignInThroughLoginForm signs in through the IdP's password
// form (no auto-login): wrong password is refused by the IdP and no
// session exists; the right one lands on whoami.
func TestStaffSignInThroughLoginForm(t *testing.T) {
	e := newStaffEnv(t)
	for _, tc := range []struct {
		name, password string
		wantStatus     int
	}{
		{"wrong password", "nope", http.StatusUnauthorized},
		{"right password", "pw", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := staffBrowser()
			resp, page := get(t, c, e.apiURL+"/admin/login?rd=/admin/whoami")
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), e.idp.Issuer()+"/authorize") {
				t.Fatalf("login did not reach the IdP form: %s %d", resp.Request.URL, resp.StatusCode)
			}
			q := resp.Request.URL.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != staffClientID ||
				q.Get("redirect_uri") != e.apiURL+"/admin/callback" || q.Get("nonce") == "" || q.Get("state") == "" {
				t.Fatalf("authorization request %s", resp.Request.URL)
			}
			form := url.Values{"username": {"pa-acme"}, "password": {tc.password}}
			for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
				form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
			}
			req := newReq(t, "POST", e.idp.Issuer()+"/authorize", strings.NewReader(form.Encode()),
				"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
			r := send(t, c, req)
			if r.status != tc.wantStatus {
				t.Fatalf("form post: %d %s", r.status, r.body)
			}
			if tc.wantStatus != 200 {
				if w := e.whoami(t, c); w.status != http.StatusUnauthorized {
					t.Fatalf("whoami without sign-in: %d", w.status)
				}
				return
			}
			m := r.json(t)
			if m["user"] != "pa-acme" || m["tenant"] != "acme" || !slices.Equal(roleList(m), []string{"partner_admin"}) {
				t.Fatalf("whoami %s", r.body)
			}
		})
	}
}

// TestStaffLogout: POST /admin/logout ends the session server-side (the
// old cookie value is dead), clears the cookie, and cannot be used to end
// a customer's console session.
func TestStaffLogout(t *testing.T) {
	e := newStaffEnv(t)
	c := staffBrowser()
	if r := e.staffSignIn(t, c, "op-1"); r.status != 200 {
		t.Fatalf("sign-in %d %s", r.status, r.body)
	}
	sid := cookieValue(c, e.apiURL, "livery_staff")
	if w := e.whoami(t, c); w.status != 200 {
		t.Fatalf("whoami %d", w.status)
	}
	r := send(t, c, newReq(t, "POST", e.apiURL+"/admin/logout", nil))
	if r.status != http.StatusNoContent {
		t.Fatalf("logout %d %s", r.status, r.body)
	}
	if sc := r.header.Get("Set-Cookie"); !strings.HasPrefix(sc, "livery_staff=;") || !strings.Contains(sc, "max-age=-1") &&
		!strings.Contains(sc, "max-age=0;") && !strings.Contains(strings.ToLower(sc), "expires=") {
		t.Errorf("logout Set-Cookie %q does not clear the cookie", sc)
	}
	if w := e.whoami(t, c); w.status != http.StatusUnauthorized || w.errorCode(t) != "unauthenticated" {
		t.Fatalf("whoami after logout: %d %s", w.status, w.body)
	}
	// The old cookie value, replayed, is refused: the session is gone.
	if _, err := e.sessions.Get(context.Background(), sid); err == nil {
		t.Fatal("staff session still exists after logout")
	}
	if r := e.api(t, "GET", "/admin/whoami", "", "", "Cookie", "livery_staff="+sid); r.status != http.StatusUnauthorized {
		t.Fatalf("replayed cookie: %d %s", r.status, r.body)
	}
	// Logout again without a session is harmless.
	if r := e.api(t, "POST", "/admin/logout", "", ""); r.status != http.StatusNoContent {
		t.Fatalf("second logout %d", r.status)
	}

	// A customer session id in the staff cookie neither authenticates nor
	// can be ended through the staff logout.
	cust, err := e.sessions.Create(context.Background(), sessions.Session{Tenant: "acme", Kind: "customer",
		Issuer: e.idp.Issuer(), Subject: "cust-1", User: "Alice", Roles: []string{"customer"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.api(t, "GET", "/admin/whoami", "", "", "Cookie", "livery_staff="+cust.ID); r.status != http.StatusUnauthorized {
		t.Fatalf("customer session as staff: %d %s", r.status, r.body)
	}
	if r := e.api(t, "POST", "/admin/logout", "", "", "Cookie", "livery_staff="+cust.ID); r.status != http.StatusNoContent {
		t.Fatalf("logout with customer session: %d", r.status)
	}
	if _, err := e.sessions.Get(context.Background(), cust.ID); err != nil {
		t.Fatalf("staff logout ended a customer session: %v", err)
	}
}

// TestStaffSignInAgainReplacesSession: a second sign-in in the same
// browser ends the first staff session.
func TestStaffSignInAgainReplacesSession(t *testing.T) {
	e := newStaffEnv(t)
	c := staffBrowser()
	if r := e.staffSignIn(t, c, "pa-acme"); r.status != 200 {
		t.Fatalf("sign-in %d", r.status)
	}
	first := cookieValue(c, e.apiURL, "livery_staff")
	if r := e.staffSignIn(t, c, "op-1"); r.status != 200 || r.json(t)["user"] != "op-1" {
		t.Fatalf("second sign-in %d %s", r.status, r.body)
	}
	if second := cookieValue(c, e.apiURL, "livery_staff"); second == first || second == "" {
		t.Fatalf("session id not renewed: %q", second)
	}
	if _, err := e.sessions.Get(context.Background(), first); err == nil {
		t.Fatal("the first staff session outlived a new sign-in in the same browser")
	}
}

// loginToCallback starts a staff sign-in with c (no redirect following)
// and returns the callback URL the IdP sends the browser to.
func (e *staffEnv) loginToCallback(t *testing.T, c *http.Client, subject string) *url.URL {
	t.Helper()
	e.idp.SetAutoLogin(subject)
	defer e.idp.SetAutoLogin("")
	r := send(t, c, newReq(t, "GET", e.apiURL+"/admin/login?rd=/admin/whoami", nil))
	if r.status != http.StatusFound {
		t.Fatalf("login %d %s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("login redirect Cache-Control %q", cc)
	}
	sc := r.header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "livery_staff_login=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("binding cookie %q", sc)
	}
	r = send(t, c, newReq(t, "GET", r.header.Get("Location"), nil))
	if r.status != http.StatusFound {
		t.Fatalf("authorize %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), e.apiURL+"/admin/callback?") || u.Query().Get("code") == "" {
		t.Fatalf("IdP redirect %q", r.header.Get("Location"))
	}
	return u
}

func withQuery(u *url.URL, set map[string]string) string {
	v := *u
	q := v.Query()
	for k, val := range set {
		if val == "" {
			q.Del(k)
		} else {
			q.Set(k, val)
		}
	}
	v.RawQuery = q.Encode()
	return v.String()
}

// TestStaffCallbackRefusals: every way a callback can be forged, replayed
// or fail is refused with a JSON error and no staff session.
func TestStaffCallbackRefusals(t *testing.T) {
	e := newStaffEnv(t)
	for _, tc := range []struct {
		name       string
		callback   func(t *testing.T, c *http.Client) string // the URL to call with c
		wantStatus int
		wantCode   string
	}{
		{name: "tampered state", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := e.loginToCallback(t, c, "op-1")
				return withQuery(u, map[string]string{"state": "x" + u.Query().Get("state")})
			}},
		{name: "missing state", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				return withQuery(e.loginToCallback(t, c, "op-1"), map[string]string{"state": ""})
			}},
		{name: "started in another browser", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				return e.loginToCallback(t, stepBrowser(nil), "op-1").String()
			}},
		{name: "replayed callback", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := e.loginToCallback(t, c, "op-1")
				if r := send(t, c, newReq(t, "GET", u.String(), nil)); r.status != http.StatusFound {
					t.Fatalf("first callback %d %s", r.status, r.body)
				}
				// Forget the session so the replay is judged on its own.
				c.Jar.SetCookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/"},
					[]*http.Cookie{{Name: "livery_staff", Value: "", Path: "/", MaxAge: -1}})
				return u.String()
			}},
		{name: "replayed code with a fresh state", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				other := stepBrowser(nil)
				used := e.loginToCallback(t, other, "op-1")
				if r := send(t, other, newReq(t, "GET", used.String(), nil)); r.status != http.StatusFound {
					t.Fatalf("first callback %d %s", r.status, r.body)
				}
				fresh := e.loginToCallback(t, c, "op-1")
				return withQuery(fresh, map[string]string{"code": used.Query().Get("code")})
			}},
		{name: "made-up code", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				return withQuery(e.loginToCallback(t, c, "op-1"), map[string]string{"code": "forged"})
			}},
		{name: "IdP error", wantStatus: 401, wantCode: "login_refused",
			callback: func(t *testing.T, c *http.Client) string {
				return withQuery(e.loginToCallback(t, c, "op-1"), map[string]string{"code": "", "error": "access_denied"})
			}},
		{name: "nonce mismatch", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := e.loginToCallback(t, c, "op-1")
				e.idp.NextTokenDefect(idp.DefectWrongNonce)
				return u.String()
			}},
		{name: "ID token with a bad signature", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := e.loginToCallback(t, c, "op-1")
				e.idp.NextTokenDefect(idp.DefectBadSignature)
				return u.String()
			}},
		{name: "ID token alg none", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := e.loginToCallback(t, c, "op-1")
				e.idp.NextTokenDefect(idp.DefectAlgNone)
				return u.String()
			}},
		{name: "login state store down", wantStatus: 503, wantCode: "unavailable",
			callback: func(t *testing.T, c *http.Client) string {
				u := e.loginToCallback(t, c, "op-1")
				e.faults.set("getdel", true)
				t.Cleanup(func() { e.faults.set("getdel", false) })
				return u.String()
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer e.idp.NextTokenDefect(idp.DefectNone)
			c := stepBrowser(nil)
			target := tc.callback(t, c)
			r := send(t, c, newReq(t, "GET", target, nil, "Accept", "text/html"))
			e.faults.set("getdel", false)
			if r.status != tc.wantStatus {
				t.Fatalf("callback %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			if code := r.errorCode(t); code != tc.wantCode {
				t.Fatalf("error_code %q, want %q", code, tc.wantCode)
			}
			if strings.Contains(r.body, "oidc") || strings.Contains(r.body, "jose") || strings.Contains(r.body, "injected") {
				t.Errorf("error body leaks the cause: %s", r.body)
			}
			if sc := r.header.Values("Set-Cookie"); slices.ContainsFunc(sc, func(s string) bool {
				return strings.HasPrefix(s, "livery_staff=") && !strings.HasPrefix(s, "livery_staff=;")
			}) {
				t.Fatalf("refused callback set a staff session: %v", sc)
			}
			if w := e.whoami(t, c); w.status != http.StatusUnauthorized {
				t.Fatalf("whoami after refused callback: %d %s", w.status, w.body)
			}
		})
	}
}

// TestStaffBearerTokens: the staff provider's ID tokens are accepted as
// bearer tokens; every defective or foreign token is a 401 JSON error
// that reveals nothing about why.
func TestStaffBearerTokens(t *testing.T) {
	e := newStaffEnv(t)
	other, otherSrv, err := idp.NewTestServer(idp.Options{Users: staffUsers()})
	if err != nil {
		t.Fatal(err)
	}
	defer otherSrv.Close()
	if err := other.AddClient(idp.Client{ID: staffClientID, Secret: staffClientSecret}); err != nil {
		t.Fatal(err)
	}
	mint := func(p *idp.Provider, client, subject string, d idp.Defect) func(t *testing.T) string {
		return func(t *testing.T) string {
			tok, err := p.MintIDToken(client, subject, "", d)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	for _, tc := range []struct {
		name       string
		token      func(t *testing.T) string
		scheme     string // default "Bearer"
		wantStatus int
		wantCode   string
		wantUser   string
		wantRoles  []string
		wantTenant string
	}{
		{name: "valid operator", token: mint(e.idp, staffClientID, "op-1", idp.DefectNone), wantStatus: 200,
			wantUser: "op-1", wantRoles: []string{"operator"}},
		{name: "valid partner admin", token: mint(e.idp, staffClientID, "pa-acme", idp.DefectNone), wantStatus: 200,
			wantUser: "pa-acme", wantRoles: []string{"partner_admin"}, wantTenant: "acme"},
		{name: "scheme is case-insensitive", scheme: "bearer", token: mint(e.idp, staffClientID, "cm-acme", idp.DefectNone),
			wantStatus: 200, wantUser: "cm-acme", wantRoles: []string{"customer_manager"}, wantTenant: "acme"},
		{name: "valid token, no staff role", token: mint(e.idp, staffClientID, "nobody", idp.DefectNone),
			wantStatus: 403, wantCode: "no_role"},
		{name: "wrong audience", token: mint(e.idp, staffClientID, "op-1", idp.DefectWrongAudience), wantStatus: 401, wantCode: "invalid_token"},
		{name: "customer client's token", token: mint(e.idp, "livery", "op-1", idp.DefectNone), wantStatus: 401, wantCode: "invalid_token"},
		{name: "expired", token: mint(e.idp, staffClientID, "op-1", idp.DefectExpired), wantStatus: 401, wantCode: "invalid_token"},
		{name: "tampered signature", token: mint(e.idp, staffClientID, "op-1", idp.DefectBadSignature), wantStatus: 401, wantCode: "invalid_token"},
		{name: "alg none", token: mint(e.idp, staffClientID, "op-1", idp.DefectAlgNone), wantStatus: 401, wantCode: "invalid_token"},
		{name: "unknown kid", token: mint(e.idp, staffClientID, "op-1", idp.DefectUnknownKID), wantStatus: 401, wantCode: "invalid_token"},
		{name: "wrong iss claim", token: mint(e.idp, staffClientID, "op-1", idp.DefectWrongIssuer), wantStatus: 401, wantCode: "invalid_token"},
		{name: "another issuer", token: mint(other, staffClientID, "op-1", idp.DefectNone), wantStatus: 401, wantCode: "invalid_token"},
		{name: "tampered claims", wantStatus: 401, wantCode: "invalid_token", token: func(t *testing.T) string {
			// Re-encode the payload with a different role; keep the signature.
			parts := strings.Split(mint(e.idp, staffClientID, "cm-acme", idp.DefectNone)(t), ".")
			payload := strings.Replace(decodeSeg(t, parts[1]), "account-managers", "cloud-ops", 1)
			return parts[0] + "." + encodeSeg(payload) + "." + parts[2]
		}},
		{name: "not a JWT", token: func(*testing.T) string { return "not.a.jwt" }, wantStatus: 401, wantCode: "invalid_token"},
		{name: "empty token", token: func(*testing.T) string { return "" }, wantStatus: 401, wantCode: "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token(t)
			scheme := tc.scheme
			if scheme == "" {
				scheme = "Bearer"
			}
			for _, path := range []string{"/admin/whoami", "/admin/v1/tenants/acme/customers"} {
				r := e.api(t, "GET", path, "", "", "Authorization", scheme+" "+tok, "Accept", "application/json")
				if path != "/admin/whoami" && tc.wantStatus == 200 {
					continue // the admin API matrix is TestAdminCustomersMatrix
				}
				if r.status != tc.wantStatus {
					t.Fatalf("%s: %d %s, want %d", path, r.status, r.body, tc.wantStatus)
				}
				if tc.wantStatus != 200 {
					if code := r.errorCode(t); code != tc.wantCode {
						t.Fatalf("%s: error_code %q, want %q", path, code, tc.wantCode)
					}
					if tc.wantStatus == 401 && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
						t.Errorf("%s: WWW-Authenticate %q", path, r.header.Get("WWW-Authenticate"))
					}
					low := strings.ToLower(r.body)
					for _, leak := range []string{"op-1", "cm-acme", "nobody", "oidc", "jose", "kid", "signature", "audience",
						"issuer", strings.ToLower(e.idp.Issuer()), strings.ToLower(other.Issuer()), "customers"} {
						if strings.Contains(low, leak) {
							t.Errorf("%s: error body reveals %q: %s", path, leak, r.body)
						}
					}
					if tok != "" && strings.Contains(r.body, tok) {
						t.Errorf("%s: error echoes the token", path)
					}
					continue
				}
				m := r.json(t)
				if m["user"] != tc.wantUser || m["tenant"] != tc.wantTenant || !slices.Equal(roleList(m), tc.wantRoles) {
					t.Fatalf("whoami %s", r.body)
				}
			}
		})
	}
	// No credentials at all: 401 with a pointer to sign in.
	r := e.api(t, "GET", "/admin/whoami", "", "")
	if r.status != 401 || r.errorCode(t) != "unauthenticated" || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous whoami %d %v %s", r.status, r.header, r.body)
	}
}
