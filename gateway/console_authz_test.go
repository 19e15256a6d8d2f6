package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawReq builds a request whose request-target is exactly rawPath (no
// client-side cleaning or re-encoding).
func rawReq(t testing.TB, method, base, rawPath string, body io.Reader, headers ...string) *http.Request {
	t.Helper()
	req := newReq(t, method, base+"/", body, headers...)
	if strings.HasPrefix(rawPath, "//") {
		req.URL.Path, req.URL.RawPath = rawPath, ""
	} else {
		req.URL.Path, req.URL.RawPath, req.URL.Opaque = "", "", rawPath
	}
	return req
}

// TestConsoleAuthorization: with the real Casbin authorizer deciding
// console requests, a signed-in customer uses their console freely but
// never reaches /admin through it, however the path is spelled; nothing
// refused reaches the upstream.
func TestConsoleAuthorization(t *testing.T) {
	e := newStaffEnv(t)
	c, _ := e.customerSignIn(t)
	step := stepBrowser(c.Jar)
	for _, tc := range []struct {
		method, path string
		wantStatus   int
		wantUpstream string // the path the upstream must see when allowed
	}{
		{"GET", "/", 200, "/"},
		{"GET", "/billing", 200, "/billing"},
		{"GET", "/resources?region=cn-north-4", 200, "/resources"},
		{"POST", "/upload", 200, "/upload"},
		{"PUT", "/api/things/1", 200, "/api/things/1"},
		{"PATCH", "/api/things/1", 200, "/api/things/1"},
		{"DELETE", "/api/things/1", 200, "/api/things/1"},
		{"GET", "/administrator", 200, "/administrator"},
		{"GET", "/static/App.JS", 200, "/static/App.JS"},
		{"GET", "/files/100%25", 200, "/files/100%25"},
		{"GET", "/files/what%3F.txt", 200, "/files/what%3F.txt"},

		{"GET", "/admin", 403, ""},
		{"GET", "/admin/", 403, ""},
		{"GET", "/admin/anything", 403, ""},
		{"HEAD", "/admin/anything", 403, ""},
		{"GET", "/admin/v1/tenants/acme/customers", 403, ""},
		{"POST", "/admin/v1/tenants/acme/customers", 403, ""},
		{"PUT", "/admin/v1/tenants/acme/customers/x/managers", 403, ""},
		{"DELETE", "/admin/anything", 403, ""},
		{"POST", "/admin/logout", 403, ""},
		// Spellings an upstream may resolve to /admin.
		{"GET", "/ADMIN/anything", 403, ""},
		{"GET", "/Admin", 403, ""},
		{"GET", "/%61dmin/anything", 403, ""},
		{"GET", "/%2561dmin/anything", 400, ""}, // encoded twice
		{"GET", "/admin%2Fanything", 400, ""},   // an encoded "/"
		{"GET", "/files/a%2Fb", 400, ""},
		{"GET", "/%41DMIN", 403, ""},
		{"GET", "//admin/anything", 403, ""},
		{"GET", "/./admin/anything", 403, ""},
		{"GET", "/x/../admin/anything", 403, ""},
		{"GET", "/%2e%2e/admin/anything", 403, ""},
		{"GET", "/x%zz", 400, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			for _, accept := range []string{"application/json", "text/html"} {
				before := e.upstream.n.Load()
				var body io.Reader
				if tc.method == "POST" || tc.method == "PUT" || tc.method == "PATCH" {
					body = strings.NewReader(`{"x":1}`)
				}
				r := send(t, step, rawReq(t, tc.method, e.consoleURL, tc.path, body, "Accept", accept, "Content-Type", "application/json"))
				if r.status != tc.wantStatus {
					t.Fatalf("Accept %s: %d %s, want %d", accept, r.status, r.body, tc.wantStatus)
				}
				reached := e.upstream.n.Load() - before
				if tc.wantStatus != 200 {
					if reached != 0 {
						t.Fatalf("refused request reached the upstream: %v", e.upstream.requests())
					}
					if tc.method == "HEAD" {
						continue
					}
					if accept == "application/json" {
						code := r.errorCode(t)
						if want := map[int]string{403: "forbidden", 400: "bad_path"}[tc.wantStatus]; code != want {
							t.Fatalf("error_code %q, want %q", code, want)
						}
					} else if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<h1>") {
						t.Fatalf("browser got no error page: %q %s", r.header.Get("Content-Type"), r.body)
					}
					for _, leak := range []string{"rule", "policy", "customer,", "deny"} {
						if strings.Contains(r.body, leak) {
							t.Errorf("error reveals the decision (%q): %s", leak, r.body)
						}
					}
					continue
				}
				if reached != 1 {
					t.Fatalf("allowed request reached the upstream %d times", reached)
				}
				if tc.method == "HEAD" {
					continue
				}
				var echo struct {
					Upstream bool   `json:"upstream"`
					Method   string `json:"method"`
					Raw      string `json:"raw"`
				}
				if err := json.Unmarshal([]byte(r.body), &echo); err != nil || !echo.Upstream || echo.Method != tc.method {
					t.Fatalf("upstream answer %s: %v", r.body, err)
				}
				if got, _, _ := strings.Cut(echo.Raw, "?"); got != tc.wantUpstream {
					t.Fatalf("upstream saw %q, want %q", got, tc.wantUpstream)
				}
			}
		})
	}
}

// TestConsoleSessionBoundToTenant: a console session works only on its
// own tenant's hosts; on another tenant's host (or a staff session used
// as a console session) it is refused before the upstream.
func TestConsoleSessionBoundToTenant(t *testing.T) {
	e := newStaffEnv(t)
	_, acmeSID := e.customerSignIn(t)
	staff := staffBrowser()
	if r := e.staffSignIn(t, staff, "op-1"); r.status != 200 {
		t.Fatalf("staff sign-in %d %s", r.status, r.body)
	}
	staffSID := cookieValue(staff, e.apiURL, "livery_staff")
	for _, tc := range []struct {
		name, method, host, cookie string
		wantStatus                 int
		wantCode                   string
	}{
		{"own session, own host", "GET", "console.acme.test", "livery_session=" + acmeSID, 200, ""},
		{"own session, own host, POST", "POST", "console.acme.test", "livery_session=" + acmeSID, 200, ""},
		{"acme session on globex host", "GET", "console.globex.test", "livery_session=" + acmeSID, 403, "foreign_session"},
		{"acme session on globex host, POST", "POST", "console.globex.test", "livery_session=" + acmeSID, 403, "foreign_session"},
		{"acme session on globex host, admin path", "GET", "console.globex.test", "livery_session=" + acmeSID, 403, "foreign_session"},
		{"staff session as a console session", "GET", "console.acme.test", "livery_session=" + staffSID, 403, "foreign_session"},
		{"staff cookie on the console", "GET", "console.acme.test", "livery_staff=" + staffSID, 401, "unauthenticated"},
		{"no session", "GET", "console.globex.test", "", 401, "unauthenticated"},
		{"unknown session", "GET", "console.acme.test", "livery_session=forged", 401, "unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.upstream.n.Load()
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader(`{"x":1}`)
			}
			headers := []string{"Host", tc.host, "Accept", "application/json", "Content-Type", "application/json"}
			if tc.cookie != "" {
				headers = append(headers, "Cookie", tc.cookie)
			}
			path := "/resources"
			if strings.Contains(tc.name, "admin path") {
				path = "/admin/x"
			}
			resp, b := do(t, newReq(t, tc.method, e.consoleURL+path, body, headers...))
			r := apiResp{status: resp.StatusCode, header: resp.Header, body: b}
			if r.status != tc.wantStatus {
				t.Fatalf("%d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			reached := e.upstream.n.Load() - before
			if tc.wantStatus == 200 {
				if reached != 1 || !strings.Contains(r.body, `"upstream":true`) {
					t.Fatalf("not proxied: %s", r.body)
				}
				return
			}
			if reached != 0 {
				t.Fatalf("refused request reached the upstream: %v", e.upstream.requests())
			}
			if code := r.errorCode(t); code != tc.wantCode {
				t.Fatalf("error_code %q, want %q", code, tc.wantCode)
			}
		})
	}
	// The refusals ended nothing: the session still works at home.
	resp, b := do(t, newReq(t, "GET", e.consoleURL+"/", nil, "Host", "console.acme.test", "Accept", "application/json",
		"Cookie", "livery_session="+acmeSID))
	if resp.StatusCode != 200 {
		t.Fatalf("home session after refusals: %d %s", resp.StatusCode, b)
	}
}
