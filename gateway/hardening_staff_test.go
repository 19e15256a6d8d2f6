package gateway_test

import (
	"bytes"
	"context"
	"image/color"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/web"
)

// TestStaffCookieCSRF: state-changing admin calls made with the staff
// cookie must come from the API listener's own origin; bearer calls are
// exempt; refused requests change nothing.
func TestStaffCookieCSRF(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa := e.Token(t, "pa-acme")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, brandDoc(`{}`, "https://a.example"), "Content-Type", "application/json"); r.Status != 200 {
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
		"json draft":       {"PUT", "/admin/v1/tenants/acme/branding/draft", "application/json", brandDoc(`{}`, "https://evil.example")},
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

// TestAdminUnknownTenant: admin calls naming a tenant that is not
// configured answer 404 unknown_tenant and write nothing.
func TestAdminUnknownTenant(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	op := e.Token(t, "op-1")
	png := gatewaytest.PNGImage(t, color.RGBA{G: 200, A: 255})
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "logo.png")
	fw.Write(png)
	mw.Close()
	for _, c := range []struct{ method, path, ctype, body string }{
		{"PUT", "/admin/v1/tenants/nonexistent/branding/draft", "application/json", brandDoc(`{}`, "https://a.example")},
		{"GET", "/admin/v1/tenants/nonexistent/branding/draft", "", ""},
		{"POST", "/admin/v1/tenants/nonexistent/branding/images", mw.FormDataContentType(), mp.String()},
		{"POST", "/admin/v1/tenants/nonexistent/branding/submit", "", ""},
		{"GET", "/admin/v1/tenants/nonexistent/customers", "", ""},
		{"PUT", "/admin/v1/tenants/nonexistent/customers/x/managers", "application/json", `{"managers":["a"]}`},
		{"GET", "/admin/v1/reviews/nonexistent", "", ""},
		{"POST", "/admin/v1/reviews/nonexistent/approve", "application/json", `{"submission_id":"s"}`},
	} {
		var hdrs []string
		if c.ctype != "" {
			hdrs = []string{"Content-Type", c.ctype}
		}
		r := e.API(t, c.method, c.path, op, c.body, hdrs...)
		if r.Status != http.StatusNotFound || r.ErrorCode(t) != "unknown_tenant" {
			t.Errorf("%s %s: %d %s; want 404 unknown_tenant", c.method, c.path, r.Status, r.Body)
		}
	}
	objs, err := e.Store.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		t.Errorf("object written for an unknown tenant: %s", o.Key)
	}
	// A partner admin gets 403 for any tenant not theirs, known or not.
	pa := e.Token(t, "pa-acme")
	if r := e.API(t, "PUT", "/admin/v1/tenants/nonexistent/branding/draft", pa, brandDoc(`{}`, "https://a.example"), "Content-Type", "application/json"); r.Status != http.StatusForbidden {
		t.Fatalf("partner admin, unknown tenant: %d %s", r.Status, r.Body)
	}
}

// TestFourEyesThroughTheAPI: the operator who edited a partner's draft
// cannot approve the partner's submission of it.
func TestFourEyesThroughTheAPI(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, brandDoc(`{}`, "https://a.example"), "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("partner draft: %d %s", r.Status, r.Body)
	}
	etag := e.API(t, "GET", "/admin/v1/tenants/acme/branding/draft", op, "").Header.Get("ETag")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", op, brandDoc(`{}`, "https://op.example"), "Content-Type", "application/json", "If-Match", etag); r.Status != 200 {
		t.Fatalf("operator edit: %d %s", r.Status, r.Body)
	}
	r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	id, _ := r.JSON(t)["id"].(string)
	r = e.API(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+id+`"}`, "Content-Type", "application/json")
	if r.Status != http.StatusForbidden || r.ErrorCode(t) != "self_approval" {
		t.Fatalf("approval by the editing operator: %d %s; want 403 self_approval", r.Status, r.Body)
	}
}

// TestPreviewNeverInCustomerSession: a preview link opened in a browser
// holding a customer session shows the live branding and sets no marker;
// a marker met alongside a customer session is ended. Both are audited.
func TestPreviewNeverInCustomerSession(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	doc := brandDoc(`{}`, "https://preview.acme.example")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	link := func() string {
		r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/preview", op, "")
		var l struct{ URL string }
		jsonUnmarshal(t, r.Body, &l)
		if l.URL == "" {
			t.Fatalf("no preview link: %d %s", r.Status, r.Body)
		}
		return l.URL
	}
	shows := func(c *http.Client) bool {
		_, body, _ := e.Page(t, c, "/page")
		return strings.Contains(body, "livery-preview-ribbon") || strings.Contains(body, "preview.acme.example")
	}
	refusals := func() int {
		r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit", op, "")
		return strings.Count(r.Body, `"branding.preview.refused"`)
	}

	// 1. A customer opens a preview link.
	customer, _ := e.CustomerSignIn(t)
	resp, _ := gatewaytest.Get(t, customer, link())
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" {
		t.Fatalf("customer's preview link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if v := gatewaytest.CookieValue(customer, e.ConsoleURL, "livery_preview"); v != "" {
		t.Fatalf("customer got a preview marker %q", v)
	}
	if shows(customer) {
		t.Fatal("customer sees the unreviewed branding")
	}
	if n := refusals(); n != 1 {
		t.Fatalf("%d preview refusals audited; want 1", n)
	}

	// 2. A staff browser in preview signs in as a customer.
	b := gatewaytest.StaffBrowser()
	if resp, _ := gatewaytest.Get(t, b, link()); resp.StatusCode != 200 || !shows(b) {
		t.Fatalf("staff preview did not start (%d)", resp.StatusCode)
	}
	marker := gatewaytest.CookieValue(b, e.ConsoleURL, "livery_preview")
	e.IDP.SetAutoLogin("cust-1")
	gatewaytest.Get(t, b, e.ConsoleURL+"/_livery/login?rd=/resources")
	e.IDP.SetAutoLogin("")
	if gatewaytest.CookieValue(b, e.ConsoleURL, "livery_session") == "" {
		t.Fatal("customer sign-in did not complete")
	}
	if shows(b) {
		t.Fatal("the preview marker is honoured inside a customer session")
	}
	if n, err := e.RDB.Exists(context.Background(), preview.KeyPrefix+"marker:"+web.HashToken(marker)).Result(); err != nil || n != 0 {
		t.Fatalf("marker record still in Redis (%d, %v)", n, err)
	}
	if n := refusals(); n != 2 {
		t.Fatalf("%d preview refusals audited; want 2", n)
	}
}

// TestPreviewLinkOnlyFromItsMinter: a preview link works only from the
// client address that requested it; a forwarded link is refused and
// audited.
func TestPreviewLinkOnlyFromItsMinter(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, brandDoc(`{}`, "https://preview.acme.example"), "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	mint := func() string {
		r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/preview?source=draft", op, "") // from 127.0.0.1
		var l struct{ URL string }
		jsonUnmarshal(t, r.Body, &l)
		return l.URL
	}
	elsewhere := gatewaytest.StaffBrowser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	elsewhere.Transport = &http.Transport{DialContext: d.DialContext}
	if resp, _ := gatewaytest.Get(t, elsewhere, mint()); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forwarded preview link: %d; want 403", resp.StatusCode)
	}
	if v := gatewaytest.CookieValue(elsewhere, e.ConsoleURL, "livery_preview"); v != "" {
		t.Fatal("a forwarded link set a preview marker")
	}
	r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit", op, "")
	if !strings.Contains(r.Body, "another address") {
		t.Fatalf("forwarded link not audited: %s", r.Body)
	}
	if resp, _ := gatewaytest.Get(t, gatewaytest.StaffBrowser(), mint()); resp.StatusCode != 200 {
		t.Fatalf("preview link from its minter's address: %d", resp.StatusCode)
	}
}

// TestAdminOversizedBodyCode: a body over the API listener's limit on the
// admin API gets the admin code for it (413 too_large), not a code made
// from the status text.
func TestAdminOversizedBodyCode(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	big := `{"brand":"` + strings.Repeat("x", 2<<20) + `"}`
	r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", e.Token(t, "pa-acme"), big, "Content-Type", "application/json")
	if r.Status != http.StatusRequestEntityTooLarge || r.ErrorCode(t) != "too_large" {
		t.Fatalf("oversized admin body: %d %s; want 413 too_large", r.Status, r.Body)
	}
}
