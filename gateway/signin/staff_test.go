package signin_test

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
	"github.com/livery/livery/gateway/gatewaytest"
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
	e := gatewaytest.NewStaffEnv(t)
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
			c := gatewaytest.StaffBrowser()
			r := e.StaffSignIn(t, c, tc.subject)
			if r.Status != tc.wantStatus {
				t.Fatalf("sign-in: %d %s, want %d", r.Status, r.Body, tc.wantStatus)
			}
			sid := gatewaytest.CookieValue(c, e.APIURL, "livery_staff")
			if tc.wantCode != "" {
				if code := r.ErrorCode(t); code != tc.wantCode {
					t.Fatalf("error_code %q, want %q: %s", code, tc.wantCode, r.Body)
				}
				if msg := r.JSON(t)["error_msg"].(string); !strings.Contains(msg, "no Livery staff role") {
					t.Errorf("refusal message %q is not clear", msg)
				}
				if sid != "" {
					t.Fatalf("refused user got a staff session cookie %q", sid)
				}
				if w := e.Whoami(t, c); w.Status != http.StatusUnauthorized {
					t.Fatalf("whoami after refusal: %d %s", w.Status, w.Body)
				}
				return
			}
			if sid == "" {
				t.Fatal("no livery_staff cookie")
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("whoami Cache-Control %q", cc)
			}
			m := r.JSON(t)
			if m["user"] != tc.subject || m["name"] != tc.wantName || m["tenant"] != tc.wantTenant ||
				!slices.Equal(roleList(m), tc.wantRoles) {
				t.Fatalf("whoami %s, want user %q name %q roles %v tenant %q", r.Body, tc.subject, tc.wantName, tc.wantRoles, tc.wantTenant)
			}
			// The session is server-side, of kind staff, and keeps the ID token.
			sess, err := e.Sessions.Get(context.Background(), sid)
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
	e := gatewaytest.NewStaffEnv(t)
	for _, tc := range []struct {
		name, password string
		wantStatus     int
	}{
		{"wrong password", "nope", http.StatusUnauthorized},
		{"right password", "pw", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := gatewaytest.StaffBrowser()
			resp, page := gatewaytest.Get(t, c, e.APIURL+"/admin/login?rd=/admin/whoami")
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), e.IDP.Issuer()+"/authorize") {
				t.Fatalf("login did not reach the IdP form: %s %d", resp.Request.URL, resp.StatusCode)
			}
			q := resp.Request.URL.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != gatewaytest.StaffClientID ||
				q.Get("redirect_uri") != e.APIURL+"/admin/callback" || q.Get("nonce") == "" || q.Get("state") == "" {
				t.Fatalf("authorization request %s", resp.Request.URL)
			}
			form := url.Values{"username": {"pa-acme"}, "password": {tc.password}}
			for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
				form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
			}
			req := gatewaytest.NewRequest(t, "POST", e.IDP.Issuer()+"/authorize", strings.NewReader(form.Encode()),
				"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
			r := gatewaytest.Send(t, c, req)
			if r.Status != tc.wantStatus {
				t.Fatalf("form post: %d %s", r.Status, r.Body)
			}
			if tc.wantStatus != 200 {
				if w := e.Whoami(t, c); w.Status != http.StatusUnauthorized {
					t.Fatalf("whoami without sign-in: %d", w.Status)
				}
				return
			}
			m := r.JSON(t)
			if m["user"] != "pa-acme" || m["tenant"] != "acme" || !slices.Equal(roleList(m), []string{"partner_admin"}) {
				t.Fatalf("whoami %s", r.Body)
			}
		})
	}
}

// TestStaffLogout: POST /admin/logout ends the session server-side (the
// old cookie value is dead), clears the cookie, and cannot be used to end
// a customer's console session.
func TestStaffLogout(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	c := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, c, "op-1"); r.Status != 200 {
		t.Fatalf("sign-in %d %s", r.Status, r.Body)
	}
	sid := gatewaytest.CookieValue(c, e.APIURL, "livery_staff")
	if w := e.Whoami(t, c); w.Status != 200 {
		t.Fatalf("whoami %d", w.Status)
	}
	r := gatewaytest.Send(t, c, gatewaytest.NewRequest(t, "POST", e.APIURL+"/admin/logout", nil))
	if r.Status != http.StatusNoContent {
		t.Fatalf("logout %d %s", r.Status, r.Body)
	}
	if sc := r.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "livery_staff=;") || !strings.Contains(sc, "max-age=-1") &&
		!strings.Contains(sc, "max-age=0;") && !strings.Contains(strings.ToLower(sc), "expires=") {
		t.Errorf("logout Set-Cookie %q does not clear the cookie", sc)
	}
	if w := e.Whoami(t, c); w.Status != http.StatusUnauthorized || w.ErrorCode(t) != "unauthenticated" {
		t.Fatalf("whoami after logout: %d %s", w.Status, w.Body)
	}
	// The old cookie value, replayed, is refused: the session is gone.
	if _, err := e.Sessions.Get(context.Background(), sid); err == nil {
		t.Fatal("staff session still exists after logout")
	}
	if r := e.API(t, "GET", "/admin/whoami", "", "", "Cookie", "livery_staff="+sid); r.Status != http.StatusUnauthorized {
		t.Fatalf("replayed cookie: %d %s", r.Status, r.Body)
	}
	// Logout again without a session is harmless.
	if r := e.API(t, "POST", "/admin/logout", "", ""); r.Status != http.StatusNoContent {
		t.Fatalf("second logout %d", r.Status)
	}

	// A customer session id in the staff cookie neither authenticates nor
	// can be ended through the staff logout.
	cust, err := e.Sessions.Create(context.Background(), sessions.Session{Tenant: "acme", Kind: "customer",
		Issuer: e.IDP.Issuer(), Subject: "cust-1", User: "Alice", Roles: []string{"customer"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.API(t, "GET", "/admin/whoami", "", "", "Cookie", "livery_staff="+cust.ID); r.Status != http.StatusUnauthorized {
		t.Fatalf("customer session as staff: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/logout", "", "", "Cookie", "livery_staff="+cust.ID); r.Status != http.StatusNoContent {
		t.Fatalf("logout with customer session: %d", r.Status)
	}
	if _, err := e.Sessions.Get(context.Background(), cust.ID); err != nil {
		t.Fatalf("staff logout ended a customer session: %v", err)
	}
}

// TestStaffSignInAgainReplacesSession: a second sign-in in the same
// browser ends the first staff session.
func TestStaffSignInAgainReplacesSession(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	c := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, c, "pa-acme"); r.Status != 200 {
		t.Fatalf("sign-in %d", r.Status)
	}
	first := gatewaytest.CookieValue(c, e.APIURL, "livery_staff")
	if r := e.StaffSignIn(t, c, "op-1"); r.Status != 200 || r.JSON(t)["user"] != "op-1" {
		t.Fatalf("second sign-in %d %s", r.Status, r.Body)
	}
	if second := gatewaytest.CookieValue(c, e.APIURL, "livery_staff"); second == first || second == "" {
		t.Fatalf("session id not renewed: %q", second)
	}
	if _, err := e.Sessions.Get(context.Background(), first); err == nil {
		t.Fatal("the first staff session outlived a new sign-in in the same browser")
	}
}

// loginToCallback starts a staff sign-in with c (no redirect following)
// and returns the callback URL the IdP sends the browser to.
func loginToCallback(e *gatewaytest.StaffEnv, t *testing.T, c *http.Client, subject string) *url.URL {
	t.Helper()
	e.IDP.SetAutoLogin(subject)
	defer e.IDP.SetAutoLogin("")
	r := gatewaytest.Send(t, c, gatewaytest.NewRequest(t, "GET", e.APIURL+"/admin/login?rd=/admin/whoami", nil))
	if r.Status != http.StatusFound {
		t.Fatalf("login %d %s", r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("login redirect Cache-Control %q", cc)
	}
	sc := r.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "livery_staff_login=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("binding cookie %q", sc)
	}
	r = gatewaytest.Send(t, c, gatewaytest.NewRequest(t, "GET", r.Header.Get("Location"), nil))
	if r.Status != http.StatusFound {
		t.Fatalf("authorize %d %s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), e.APIURL+"/admin/callback?") || u.Query().Get("code") == "" {
		t.Fatalf("IdP redirect %q", r.Header.Get("Location"))
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
	e := gatewaytest.NewStaffEnv(t)
	for _, tc := range []struct {
		name       string
		callback   func(t *testing.T, c *http.Client) string // the URL to call with c
		wantStatus int
		wantCode   string
	}{
		{name: "tampered state", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := loginToCallback(e, t, c, "op-1")
				return withQuery(u, map[string]string{"state": "x" + u.Query().Get("state")})
			}},
		{name: "missing state", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				return withQuery(loginToCallback(e, t, c, "op-1"), map[string]string{"state": ""})
			}},
		{name: "started in another browser", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				return loginToCallback(e, t, gatewaytest.StepBrowser(nil), "op-1").String()
			}},
		{name: "replayed callback", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := loginToCallback(e, t, c, "op-1")
				if r := gatewaytest.Send(t, c, gatewaytest.NewRequest(t, "GET", u.String(), nil)); r.Status != http.StatusFound {
					t.Fatalf("first callback %d %s", r.Status, r.Body)
				}
				// Forget the session so the replay is judged on its own.
				c.Jar.SetCookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/"},
					[]*http.Cookie{{Name: "livery_staff", Value: "", Path: "/", MaxAge: -1}})
				return u.String()
			}},
		{name: "replayed code with a fresh state", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				other := gatewaytest.StepBrowser(nil)
				used := loginToCallback(e, t, other, "op-1")
				if r := gatewaytest.Send(t, other, gatewaytest.NewRequest(t, "GET", used.String(), nil)); r.Status != http.StatusFound {
					t.Fatalf("first callback %d %s", r.Status, r.Body)
				}
				fresh := loginToCallback(e, t, c, "op-1")
				return withQuery(fresh, map[string]string{"code": used.Query().Get("code")})
			}},
		{name: "made-up code", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				return withQuery(loginToCallback(e, t, c, "op-1"), map[string]string{"code": "forged"})
			}},
		{name: "IdP error", wantStatus: 401, wantCode: "login_refused",
			callback: func(t *testing.T, c *http.Client) string {
				return withQuery(loginToCallback(e, t, c, "op-1"), map[string]string{"code": "", "error": "access_denied"})
			}},
		{name: "nonce mismatch", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := loginToCallback(e, t, c, "op-1")
				e.IDP.NextTokenDefect(idp.DefectWrongNonce)
				return u.String()
			}},
		{name: "ID token with a bad signature", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := loginToCallback(e, t, c, "op-1")
				e.IDP.NextTokenDefect(idp.DefectBadSignature)
				return u.String()
			}},
		{name: "ID token alg none", wantStatus: 400, wantCode: "login_failed",
			callback: func(t *testing.T, c *http.Client) string {
				u := loginToCallback(e, t, c, "op-1")
				e.IDP.NextTokenDefect(idp.DefectAlgNone)
				return u.String()
			}},
		{name: "login state store down", wantStatus: 503, wantCode: "unavailable",
			callback: func(t *testing.T, c *http.Client) string {
				u := loginToCallback(e, t, c, "op-1")
				e.Faults.Set("getdel", true)
				t.Cleanup(func() { e.Faults.Set("getdel", false) })
				return u.String()
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer e.IDP.NextTokenDefect(idp.DefectNone)
			c := gatewaytest.StepBrowser(nil)
			target := tc.callback(t, c)
			r := gatewaytest.Send(t, c, gatewaytest.NewRequest(t, "GET", target, nil, "Accept", "text/html"))
			e.Faults.Set("getdel", false)
			if r.Status != tc.wantStatus {
				t.Fatalf("callback %d %s, want %d", r.Status, r.Body, tc.wantStatus)
			}
			if code := r.ErrorCode(t); code != tc.wantCode {
				t.Fatalf("error_code %q, want %q", code, tc.wantCode)
			}
			if strings.Contains(r.Body, "oidc") || strings.Contains(r.Body, "jose") || strings.Contains(r.Body, "injected") {
				t.Errorf("error body leaks the cause: %s", r.Body)
			}
			if sc := r.Header.Values("Set-Cookie"); slices.ContainsFunc(sc, func(s string) bool {
				return strings.HasPrefix(s, "livery_staff=") && !strings.HasPrefix(s, "livery_staff=;")
			}) {
				t.Fatalf("refused callback set a staff session: %v", sc)
			}
			if w := e.Whoami(t, c); w.Status != http.StatusUnauthorized {
				t.Fatalf("whoami after refused callback: %d %s", w.Status, w.Body)
			}
		})
	}
}

// TestStaffBearerTokens: the staff provider's ID tokens are accepted as
// bearer tokens; every defective or foreign token is a 401 JSON error
// that reveals nothing about why.
func TestStaffBearerTokens(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	other, otherSrv, err := idp.NewTestServer(idp.Options{Users: gatewaytest.StaffUsers()})
	if err != nil {
		t.Fatal(err)
	}
	defer otherSrv.Close()
	if err := other.AddClient(idp.Client{ID: gatewaytest.StaffClientID, Secret: gatewaytest.StaffClientSecret}); err != nil {
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
		{name: "valid operator", token: mint(e.IDP, gatewaytest.StaffClientID, "op-1", idp.DefectNone), wantStatus: 200,
			wantUser: "op-1", wantRoles: []string{"operator"}},
		{name: "valid partner admin", token: mint(e.IDP, gatewaytest.StaffClientID, "pa-acme", idp.DefectNone), wantStatus: 200,
			wantUser: "pa-acme", wantRoles: []string{"partner_admin"}, wantTenant: "acme"},
		{name: "scheme is case-insensitive", scheme: "bearer", token: mint(e.IDP, gatewaytest.StaffClientID, "cm-acme", idp.DefectNone),
			wantStatus: 200, wantUser: "cm-acme", wantRoles: []string{"customer_manager"}, wantTenant: "acme"},
		{name: "valid token, no staff role", token: mint(e.IDP, gatewaytest.StaffClientID, "nobody", idp.DefectNone),
			wantStatus: 403, wantCode: "no_role"},
		{name: "wrong audience", token: mint(e.IDP, gatewaytest.StaffClientID, "op-1", idp.DefectWrongAudience), wantStatus: 401, wantCode: "invalid_token"},
		{name: "customer client's token", token: mint(e.IDP, "livery", "op-1", idp.DefectNone), wantStatus: 401, wantCode: "invalid_token"},
		{name: "expired", token: mint(e.IDP, gatewaytest.StaffClientID, "op-1", idp.DefectExpired), wantStatus: 401, wantCode: "invalid_token"},
		{name: "tampered signature", token: mint(e.IDP, gatewaytest.StaffClientID, "op-1", idp.DefectBadSignature), wantStatus: 401, wantCode: "invalid_token"},
		{name: "alg none", token: mint(e.IDP, gatewaytest.StaffClientID, "op-1", idp.DefectAlgNone), wantStatus: 401, wantCode: "invalid_token"},
		{name: "unknown kid", token: mint(e.IDP, gatewaytest.StaffClientID, "op-1", idp.DefectUnknownKID), wantStatus: 401, wantCode: "invalid_token"},
		{name: "wrong iss claim", token: mint(e.IDP, gatewaytest.StaffClientID, "op-1", idp.DefectWrongIssuer), wantStatus: 401, wantCode: "invalid_token"},
		{name: "another issuer", token: mint(other, gatewaytest.StaffClientID, "op-1", idp.DefectNone), wantStatus: 401, wantCode: "invalid_token"},
		{name: "tampered claims", wantStatus: 401, wantCode: "invalid_token", token: func(t *testing.T) string {
			// Re-encode the payload with a different role; keep the signature.
			parts := strings.Split(mint(e.IDP, gatewaytest.StaffClientID, "cm-acme", idp.DefectNone)(t), ".")
			payload := strings.Replace(gatewaytest.DecodeSeg(t, parts[1]), "account-managers", "cloud-ops", 1)
			return parts[0] + "." + gatewaytest.EncodeSeg(payload) + "." + parts[2]
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
				r := e.API(t, "GET", path, "", "", "Authorization", scheme+" "+tok, "Accept", "application/json")
				if path != "/admin/whoami" && tc.wantStatus == 200 {
					continue // the admin API matrix is TestAdminCustomersMatrix
				}
				if r.Status != tc.wantStatus {
					t.Fatalf("%s: %d %s, want %d", path, r.Status, r.Body, tc.wantStatus)
				}
				if tc.wantStatus != 200 {
					if code := r.ErrorCode(t); code != tc.wantCode {
						t.Fatalf("%s: error_code %q, want %q", path, code, tc.wantCode)
					}
					if tc.wantStatus == 401 && !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
						t.Errorf("%s: WWW-Authenticate %q", path, r.Header.Get("WWW-Authenticate"))
					}
					low := strings.ToLower(r.Body)
					for _, leak := range []string{"op-1", "cm-acme", "nobody", "oidc", "jose", "kid", "signature", "audience",
						"issuer", strings.ToLower(e.IDP.Issuer()), strings.ToLower(other.Issuer()), "customers"} {
						if strings.Contains(low, leak) {
							t.Errorf("%s: error body reveals %q: %s", path, leak, r.Body)
						}
					}
					if tok != "" && strings.Contains(r.Body, tok) {
						t.Errorf("%s: error echoes the token", path)
					}
					continue
				}
				m := r.JSON(t)
				if m["user"] != tc.wantUser || m["tenant"] != tc.wantTenant || !slices.Equal(roleList(m), tc.wantRoles) {
					t.Fatalf("whoami %s", r.Body)
				}
			}
		})
	}
	// No credentials at all: 401 with a pointer to sign in.
	r := e.API(t, "GET", "/admin/whoami", "", "")
	if r.Status != 401 || r.ErrorCode(t) != "unauthenticated" || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous whoami %d %v %s", r.Status, r.Header, r.Body)
	}
}
