package signin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// rawReq builds a request whose request-target is exactly rawPath (no
// client-side cleaning or re-encoding).
func rawReq(t testing.TB, method, base, rawPath string, body io.Reader, headers ...string) *http.Request {
	t.Helper()
	req := gatewaytest.NewRequest(t, method, base+"/", body, headers...)
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
	e := gatewaytest.NewStaffEnv(t)
	c, _ := e.CustomerSignIn(t)
	step := gatewaytest.StepBrowser(c.Jar)
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
				before := e.Upstream.Count.Load()
				var body io.Reader
				if tc.method == "POST" || tc.method == "PUT" || tc.method == "PATCH" {
					body = strings.NewReader(`{"x":1}`)
				}
				r := gatewaytest.Send(t, step, rawReq(t, tc.method, e.ConsoleURL, tc.path, body, "Accept", accept, "Content-Type", "application/json"))
				if r.Status != tc.wantStatus {
					t.Fatalf("Accept %s: %d %s, want %d", accept, r.Status, r.Body, tc.wantStatus)
				}
				reached := e.Upstream.Count.Load() - before
				if tc.wantStatus != 200 {
					if reached != 0 {
						t.Fatalf("refused request reached the upstream: %v", e.Upstream.Requests())
					}
					if tc.method == "HEAD" {
						continue
					}
					if accept == "application/json" {
						code := r.ErrorCode(t)
						if want := map[int]string{403: "forbidden", 400: "bad_path"}[tc.wantStatus]; code != want {
							t.Fatalf("error_code %q, want %q", code, want)
						}
					} else if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Body, "<h1>") {
						t.Fatalf("browser got no error page: %q %s", r.Header.Get("Content-Type"), r.Body)
					}
					for _, leak := range []string{"rule", "policy", "customer,", "deny"} {
						if strings.Contains(r.Body, leak) {
							t.Errorf("error reveals the decision (%q): %s", leak, r.Body)
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
				if err := json.Unmarshal([]byte(r.Body), &echo); err != nil || !echo.Upstream || echo.Method != tc.method {
					t.Fatalf("upstream answer %s: %v", r.Body, err)
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
	e := gatewaytest.NewStaffEnv(t)
	_, acmeSID := e.CustomerSignIn(t)
	staff := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, staff, "op-1"); r.Status != 200 {
		t.Fatalf("staff sign-in %d %s", r.Status, r.Body)
	}
	staffSID := gatewaytest.CookieValue(staff, e.APIURL, "livery_staff")
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
			before := e.Upstream.Count.Load()
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
			resp, b := gatewaytest.Do(t, gatewaytest.NewRequest(t, tc.method, e.ConsoleURL+path, body, headers...))
			r := gatewaytest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
			if r.Status != tc.wantStatus {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.wantStatus)
			}
			reached := e.Upstream.Count.Load() - before
			if tc.wantStatus == 200 {
				if reached != 1 || !strings.Contains(r.Body, `"upstream":true`) {
					t.Fatalf("not proxied: %s", r.Body)
				}
				return
			}
			if reached != 0 {
				t.Fatalf("refused request reached the upstream: %v", e.Upstream.Requests())
			}
			if code := r.ErrorCode(t); code != tc.wantCode {
				t.Fatalf("error_code %q, want %q", code, tc.wantCode)
			}
		})
	}
	// The refusals ended nothing: the session still works at home.
	resp, b := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", e.ConsoleURL+"/", nil, "Host", "console.acme.test", "Accept", "application/json",
		"Cookie", "livery_session="+acmeSID))
	if resp.StatusCode != 200 {
		t.Fatalf("home session after refusals: %d %s", resp.StatusCode, b)
	}
}
