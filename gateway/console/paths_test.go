package console_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/web"
)

// rawResp is a response read off a raw connection.
type rawResp struct {
	statusLine string
	status     int
	header     http.Header
	body       string
}

func (r rawResp) errorCode(t testing.TB) string {
	t.Helper()
	var e web.ErrorBody
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e.Code
}

// rawExchange writes request (head and body exactly as given) on a new
// connection to addr and reads one response. The request must ask for
// Connection: close or carry its own framing.
func rawExchange(t testing.TB, addr, request string) rawResp {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a hung exchange fails instead of blocking the suite
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	return readRawResp(t, bufio.NewReader(conn))
}

func readRawResp(t testing.TB, br *bufio.Reader) rawResp {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("no status line: %v", err)
	}
	rest := io.MultiReader(strings.NewReader(line), br)
	resp, err := http.ReadResponse(bufio.NewReader(rest), nil)
	if err != nil {
		t.Fatalf("response after %q: %v", line, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResp{statusLine: strings.TrimRight(line, "\r\n"), status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// rawGet is method target on the acme console as a JSON client, with the
// session cookie when sid is set.
func rawConsole(t testing.TB, e *gatewaytest.StaffEnv, method, target, sid string) rawResp {
	t.Helper()
	req := method + " " + target + " HTTP/1.1\r\nHost: console.acme.test\r\nAccept: application/json\r\nConnection: close\r\n"
	if sid != "" {
		req += "Cookie: livery_session=" + sid + "\r\n"
	}
	if method == "POST" || method == "PUT" {
		req += "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"x\":1}"
	} else {
		req += "\r\n"
	}
	return rawExchange(t, e.ConsoleURL, req)
}

// upstreamSaw returns the request target the recorder answered with.
func upstreamSaw(t testing.TB, r rawResp) string {
	t.Helper()
	var echo struct {
		Upstream bool   `json:"upstream"`
		Raw      string `json:"raw"`
	}
	if err := json.Unmarshal([]byte(r.body), &echo); err != nil || !echo.Upstream {
		t.Fatalf("not the upstream's answer: %s", r.body)
	}
	return echo.Raw
}

// TestLiveryPathsNeverProxied: Livery's own paths are an exact route
// table. A /_livery/ path with dot-segments, encoded or not, is resolved
// once before sign-in and authorization (and then decided like any other
// path), one with an encoded separator is refused, and an unknown one (or
// a method no Livery route takes) is a Livery 404: none reaches the
// upstream without a session and a Casbin decision.
func TestLiveryPathsNeverProxied(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	_, sid := e.CustomerSignIn(t)
	for _, tc := range []struct {
		method, target string
		anon, signed   int    // status without and with a session
		code           string // error code (of the anonymous answer when it differs)
		upstream       string // what the upstream saw, for 200 answers from it
	}{
		{"GET", "/_livery/../billing", 401, 200, "unauthenticated", "/billing"},
		{"GET", "/_livery/%2e%2e/billing", 401, 200, "unauthenticated", "/billing"},
		{"GET", "/_livery/%2E%2e/billing", 401, 200, "unauthenticated", "/billing"},
		{"GET", "/_livery/.%2E/billing", 401, 200, "unauthenticated", "/billing"},
		{"GET", "/_livery/./../billing?x=1", 401, 200, "unauthenticated", "/billing?x=1"},
		{"GET", "/_livery//../billing", 401, 200, "unauthenticated", "/billing"},
		{"GET", "/_LIVERY/../billing", 401, 200, "unauthenticated", "/billing"},
		{"GET", "/_livery/x/../../admin/secrets", 401, 403, "unauthenticated", ""},
		{"POST", "/_livery/x/../../admin/secrets", 401, 403, "unauthenticated", ""},
		{"GET", "/_livery/%2e%2e/admin/secrets", 401, 403, "unauthenticated", ""},
		{"GET", "/_livery/..%2fbilling", 400, 400, "bad_path", ""},
		{"GET", "/_livery/x%2f..%2f..%2fadmin", 400, 400, "bad_path", ""},
		{"GET", "/_livery/..%5cadmin", 400, 400, "bad_path", ""},
		{"GET", "/_livery/..;/admin", 400, 400, "bad_path", ""},
		{"GET", "/_livery/unknown", 404, 404, "not_found", ""},
		{"GET", "/_livery/", 404, 404, "not_found", ""},
		{"GET", "/_livery", 404, 404, "not_found", ""},
		{"GET", "/_LIVERY/unknown", 404, 404, "not_found", ""},
		{"GET", "/_livery/assets/x.png", 404, 404, "not_found", ""},
		{"GET", "/_livery/login/x", 404, 404, "not_found", ""},
		{"GET", "/_livery/x/../y", 404, 404, "not_found", ""},
		{"POST", "/_livery/login", 404, 404, "not_found", ""},
		{"PUT", "/_livery/logout", 404, 404, "not_found", ""},
		{"DELETE", "/_livery/callback", 404, 404, "not_found", ""},
		{"GET", "/_livery/backchannel-logout", 404, 404, "not_found", ""},
		// Resolved into Livery's table: served by Livery, not proxied.
		{"GET", "/x/../_livery/logged-out", 200, 200, "", ""},
		{"GET", "/_livery/%2e/logged-out", 200, 200, "", ""},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			for _, signed := range []bool{false, true} {
				want, session := tc.anon, ""
				if signed {
					want, session = tc.signed, sid
				}
				before := e.Upstream.Count.Load()
				r := rawConsole(t, e, tc.method, tc.target, session)
				reached := e.Upstream.Count.Load() - before
				if r.status != want {
					t.Fatalf("signed=%v: %s %s, want %d (upstream saw %v)", signed, r.statusLine, r.body, want, e.Upstream.Requests())
				}
				if tc.upstream != "" && want == 200 {
					if reached != 1 {
						t.Fatalf("signed=%v: upstream reached %d times", signed, reached)
					}
					if got := upstreamSaw(t, r); got != tc.upstream {
						t.Fatalf("signed=%v: upstream saw %q, want %q", signed, got, tc.upstream)
					}
					continue
				}
				if reached != 0 {
					t.Fatalf("signed=%v: reached the upstream: %v", signed, e.Upstream.Requests())
				}
				if want == 200 {
					if !strings.Contains(r.body, "signed out") {
						t.Fatalf("not Livery's page: %s", r.body)
					}
					continue
				}
				code := tc.code
				if signed && want == 403 {
					code = "forbidden"
				}
				if got := r.errorCode(t); got != code {
					t.Fatalf("signed=%v: error_code %q, want %q", signed, got, code)
				}
			}
		})
	}
}

// TestConsolePathSpellings: for a signed-in customer, whom the real
// Casbin policy denies /admin, every spelling some server resolves to
// /admin is either resolved by Livery (and denied) or refused 400
// bad_path; none reaches the upstream. Allowed paths reach it exactly in
// their canonical form.
func TestConsolePathSpellings(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	_, sid := e.CustomerSignIn(t)
	refused := []string{
		// Path parameters (Tomcat, Jetty) and the classic "..;" traversal.
		"/admin;x", "/admin;", "/admin;jsessionid=1/x", "/admin%3b", "/admin%3Bx", "/x/..;/admin", "/;/admin", "/.;/admin",
		// Backslashes (IIS), raw or encoded.
		"/admin\\x", "/admin\\", "/admin%5cx", "/admin%5C",
		// Encoded slashes.
		"/admin%2fx", "/admin%2F", "/%2fadmin", "/x/..%2fadmin",
		// Trailing dots and spaces (IIS, Windows), whitespace and controls.
		"/admin.", "/admin..", "/admin%2e", "/admin./x", "/admin%20", "/%20admin", "/admin%20/x", "/admin%09", "/admin%0a",
		"/admin%0d", "/admin%00", "/admin%00.html", "/admin%7f", "/admin%C2%A0", "/ad%E2%80%8Bmin", "/admin%C2%85",
		// Malformed, double, overlong or look-alike encodings.
		"/%zzadmin", "/admin%", "/%u0061dmin", "/%2561dmin", "/%252e%252e/admin", "/%25%36%31dmin", "/%C0%AE%C0%AE/admin",
		"/x/%C0%AE%C0%AE/admin", "/%C0%AFadmin", "/\xc0\xafadmin", "/x/%EF%BC%8F../admin", "/%EF%BC%8Fadmin",
	}
	denied := []string{
		"/admin", "/admin/", "/admin/x", "/ADMIN", "/%61dmin", "/%41DMIN/x", "/x/../admin", "/./admin", "//admin",
		"//admin//x", "/%2e%2e/admin", "/x/%2e%2e/admin/y", "/a/b/../../admin", "/admin/x/..", "/%2E/admin",
	}
	allowed := map[string]string{
		"/billing":              "/billing",
		"/b%69lling":            "/billing",
		"/x/../billing":         "/billing",
		"/a//b":                 "/a/b",
		"/admin/.%2e/billing":   "/billing",
		"/files/my%20doc.pdf":   "/files/my%20doc.pdf",
		"/files/%e6%96%87":      "/files/%E6%96%87",
		"/files/\xe6\x96\x87":   "/files/%E6%96%87",
		"/files/100%25":         "/files/100%25",
		"/files/what%3f.txt":    "/files/what%3F.txt",
		"/a|b":                  "/a%7Cb",
		"/administrator.html":   "/administrator.html",
		"/files/a.b/c?q=%2F;x#": "/files/a.b/c?q=%2F;x",
	}
	for _, method := range []string{"GET", "POST"} {
		for _, p := range refused {
			t.Run(method+" refused "+p, func(t *testing.T) {
				before := e.Upstream.Count.Load()
				r := rawConsole(t, e, method, p, sid)
				if r.status != 400 || r.errorCode(t) != "bad_path" {
					t.Fatalf("%s %s, want 400 bad_path", r.statusLine, r.body)
				}
				if n := e.Upstream.Count.Load() - before; n != 0 {
					t.Fatalf("reached the upstream: %v", e.Upstream.Requests())
				}
			})
		}
		for _, p := range denied {
			t.Run(method+" denied "+p, func(t *testing.T) {
				before := e.Upstream.Count.Load()
				r := rawConsole(t, e, method, p, sid)
				if r.status != 403 || r.errorCode(t) != "forbidden" {
					t.Fatalf("%s %s, want 403 forbidden", r.statusLine, r.body)
				}
				if n := e.Upstream.Count.Load() - before; n != 0 {
					t.Fatalf("reached the upstream: %v", e.Upstream.Requests())
				}
			})
		}
		for p, want := range allowed {
			t.Run(method+" allowed "+p, func(t *testing.T) {
				r := rawConsole(t, e, method, p, sid)
				if r.status != 200 {
					t.Fatalf("%s %s", r.statusLine, r.body)
				}
				if got := upstreamSaw(t, r); got != want {
					t.Fatalf("upstream saw %q, want %q", got, want)
				}
			})
		}
	}
}
