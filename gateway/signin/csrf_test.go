package signin_test

import (
	"bytes"
	"image/color"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestStaffCookieCSRF: state-changing admin calls made with the staff
// cookie must come from the API listener's own origin; bearer calls are
// exempt; refused requests change nothing.
func TestStaffCookieCSRF(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa := e.Token(t, "pa-acme")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, gatewaytest.BrandDoc(`{}`, "https://a.example"), "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	browser := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, browser, "pa-acme"); r.Status != 200 {
		t.Fatalf("staff sign-in: %d %s", r.Status, r.Body)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "logo.png")
	fw.Write(gatewaytest.PNGImage(t, color.RGBA{R: 200, A: 255}))
	mw.Close()

	type call struct{ method, path, ctype, body string }
	calls := map[string]call{
		"form submit":      {"POST", "/admin/v1/tenants/acme/branding/submit", "application/x-www-form-urlencoded", "x=1"},
		"form withdraw":    {"POST", "/admin/v1/tenants/acme/branding/withdraw", "application/x-www-form-urlencoded", "x=1"},
		"multipart upload": {"POST", "/admin/v1/tenants/acme/branding/images", mw.FormDataContentType(), mp.String()},
		"json draft":       {"PUT", "/admin/v1/tenants/acme/branding/draft", "application/json", gatewaytest.BrandDoc(`{}`, "https://evil.example")},
		"text/plain json":  {"PUT", "/admin/v1/tenants/acme/customers/" + e.Cust["X"].DomainID + "/managers", "text/plain", `{"managers":["evil"]}`},
		"staff logout":     {"POST", "/admin/logout", "", ""},
	}
	hostile := map[string][]string{
		"foreign Origin":           {"Origin", "http://evil.example"},
		"foreign Origin, same IP":  {"Origin", "http://127.0.0.1:1"},
		"null Origin":              {"Origin", "null"},
		"Sec-Fetch-Site cross":     {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site": {"Sec-Fetch-Site", "same-site", "Origin", "http://other.acme.test"},
	}
	for cname, cl := range calls {
		for hname, hdrs := range hostile {
			t.Run(cname+"/"+hname, func(t *testing.T) {
				headers := append([]string{"Accept", "application/json"}, hdrs...)
				if cl.ctype != "" {
					headers = append(headers, "Content-Type", cl.ctype)
				}
				r := gatewaytest.Send(t, browser, gatewaytest.NewRequest(t, cl.method, e.APIURL+cl.path, strings.NewReader(cl.body), headers...))
				if r.Status != http.StatusForbidden || r.ErrorCode(t) != "cross_origin" {
					t.Fatalf("%s %s with %v: %d %s; want 403 cross_origin", cl.method, cl.path, hdrs, r.Status, r.Body)
				}
			})
		}
	}
	// Nothing changed: no submission, the draft as it was, no image, the
	// session alive.
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/submissions", pa, ""); !strings.Contains(r.Body, `"submissions":[]`) {
		t.Fatalf("a cross-origin submit went through: %s", r.Body)
	}
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/draft", pa, ""); strings.Contains(r.Body, "evil.example") {
		t.Fatalf("a cross-origin draft write went through: %s", r.Body)
	}
	if r := e.Whoami(t, browser); r.Status != 200 {
		t.Fatalf("a cross-origin logout ended the session: %d", r.Status)
	}

	// Same-origin browser calls and bearer calls from anywhere work.
	for _, hdrs := range [][]string{{"Origin", e.APIURL}, {"Sec-Fetch-Site", "same-origin", "Origin", e.APIURL}, {}} {
		r := gatewaytest.Send(t, browser, gatewaytest.NewRequest(t, "GET", e.APIURL+"/admin/v1/tenants/acme/branding/draft", nil, append([]string{"Accept", "application/json"}, hdrs...)...))
		if r.Status != 200 {
			t.Fatalf("same-origin read %v: %d", hdrs, r.Status)
		}
	}
	r := gatewaytest.Send(t, browser, gatewaytest.NewRequest(t, "POST", e.APIURL+"/admin/v1/tenants/acme/branding/submit", nil, "Sec-Fetch-Site", "same-origin", "Origin", e.APIURL))
	if r.Status != http.StatusCreated {
		t.Fatalf("same-origin submit: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/withdraw", pa, "", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"); r.Status != 200 {
		t.Fatalf("bearer withdraw with a foreign Origin: %d %s", r.Status, r.Body)
	}
}

// TestConsoleLogoutCSRF: Livery's own POST endpoints on the console refuse
// cross-origin requests made with the customer's cookie.
func TestConsoleLogoutCSRF(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	browser, _ := e.CustomerSignIn(t)
	for _, hdrs := range [][]string{{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
		r := gatewaytest.Send(t, gatewaytest.StepBrowser(browser.Jar), gatewaytest.NewRequest(t, "POST", e.ConsoleURL+"/_livery/logout", nil, hdrs...))
		if r.Status != http.StatusForbidden {
			t.Fatalf("cross-origin console logout %v: %d %s", hdrs, r.Status, r.Body)
		}
	}
	if resp, _ := gatewaytest.Get(t, gatewaytest.StepBrowser(browser.Jar), e.ConsoleURL+"/resources"); resp.StatusCode != 200 {
		t.Fatalf("session ended by a cross-origin logout: %d", resp.StatusCode)
	}
	r := gatewaytest.Send(t, gatewaytest.StepBrowser(browser.Jar), gatewaytest.NewRequest(t, "POST", e.ConsoleURL+"/_livery/logout", nil, "Origin", e.ConsoleURL, "Sec-Fetch-Site", "same-origin"))
	if r.Status != http.StatusFound {
		t.Fatalf("same-origin logout: %d %s", r.Status, r.Body)
	}
}
