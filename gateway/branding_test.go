package gateway

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func brandDoc(logo, link string) string {
	return fmt.Sprintf(`{"brand":{"logo_zh":%[1]s,"logo_en":%[1]s,"link_zh":"%[2]s/zh","link_en":"%[2]s/en","nav_color":"#123456"},
"promotions":[{"name_zh":"优惠","name_en":"Deals","link":"https://deals.acme.example/"}],
"menus":{"show_info":true,"show_resources":false,"show_user":true,"show_custom":true,"custom":[{"name_zh":"帮助","name_en":"Help","link":"https://help.acme.example/"}]},
"ops":{"show_announcements":true,"show_activities":false,"show_recommended":true,"announcements":[]}}`, logo, link)
}

var styleNonce = regexp.MustCompile(`<style id="livery-critical" nonce="([^"]+)"`)

// TestBrandingWorkflowEndToEnd drives the whole maker–checker flow through
// the admin API with staff tokens and watches the console change.
func TestBrandingWorkflowEndToEnd(t *testing.T) {
	e := newBrandEnv(t)
	pa, op, cm := e.token(t, "pa-acme"), e.token(t, "op-1"), e.token(t, "cm-acme")
	customer, _ := e.customerSignIn(t)

	// Nothing approved yet: the console is served unbranded.
	if _, body, _ := e.page(t, customer, "/page"); strings.Contains(body, "livery-chrome") || !strings.Contains(body, "console page") {
		t.Fatalf("unbranded page expected: %s", body)
	}

	// Logo upload: sniffed, content-addressed, served immutable.
	logoPNG := pngImage(t, color.RGBA{200, 30, 30, 255})
	up := e.upload(t, "acme", pa, logoPNG)
	if up.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", up.status, up.body)
	}
	var uploaded struct {
		Asset json.RawMessage `json:"asset"`
		URL   string          `json:"url"`
	}
	json.Unmarshal([]byte(up.body), &uploaded)
	resp, img := get(t, http.DefaultClient, e.consoleURL+uploaded.URL)
	if resp.StatusCode != 200 || img != string(logoPNG) || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("asset: %d %v", resp.StatusCode, resp.Header)
	}
	if r := e.upload(t, "acme", pa, []byte("<html>not an image</html>")); r.status != http.StatusUnprocessableEntity || r.errorCode(t) != "invalid_image" {
		t.Fatalf("non-image upload: %d %s", r.status, r.body)
	}

	// Draft: create-only without If-Match, then compare-and-swap.
	doc := brandDoc(string(uploaded.Asset), "https://www.acme.example")
	json := "application/json"
	r := e.api(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", json)
	etag := r.header.Get("ETag")
	if r.status != 200 || etag == "" {
		t.Fatalf("create draft: %d %s", r.status, r.body)
	}
	if r := e.api(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", json); r.status != http.StatusPreconditionFailed {
		t.Fatalf("second create-only PUT: %d %s", r.status, r.body)
	}
	if r := e.api(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", json, "If-Match", `"stale"`); r.status != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d %s", r.status, r.body)
	}
	// Bad input: every problem named, nothing stored.
	bad := strings.Replace(strings.Replace(doc, "#123456", "red", 1), "https://deals.acme.example/", "javascript:alert(1)", 1)
	r = e.api(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, bad, "Content-Type", json, "If-Match", etag)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "brand.nav_color") || !strings.Contains(r.body, "promotions[0].link") {
		t.Fatalf("invalid draft: %d %s", r.status, r.body)
	}
	for _, b := range []struct{ body, ct string }{{doc, "text/plain"}, {`{"brand":{}, "extra":1}`, json}, {`[1]`, json}, {`{`, json}} {
		if r := e.api(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, b.body, "Content-Type", b.ct, "If-Match", etag); r.status/100 != 4 {
			t.Fatalf("bad body %q accepted: %d", b.body, r.status)
		}
	}
	if r := e.api(t, "GET", "/admin/v1/tenants/acme/branding/draft", pa, ""); r.header.Get("ETag") != etag || !strings.Contains(r.body, "#123456") {
		t.Fatalf("draft changed by refused writes: %s %s", r.header.Get("ETag"), r.body)
	}

	// Tenant isolation and roles.
	for _, c := range []struct {
		method, path, token string
	}{
		{"GET", "/admin/v1/tenants/globex/branding/draft", pa},
		{"PUT", "/admin/v1/tenants/globex/branding/draft", pa},
		{"POST", "/admin/v1/tenants/globex/branding/submit", pa},
		{"PUT", "/admin/v1/tenants/acme/branding/draft", cm},
		{"GET", "/admin/v1/reviews", pa},
		{"POST", "/admin/v1/reviews/acme/approve", pa},
		{"POST", "/admin/v1/tenants/acme/branding/rollback", pa},
	} {
		if r := e.api(t, c.method, c.path, c.token, doc, "Content-Type", json); r.status != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, r.status)
		}
	}

	// Submit: one pending submission per tenant.
	r = e.api(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
	if r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	var sub struct {
		ID  string    `json:"id"`
		Due time.Time `json:"due"`
	}
	jsonUnmarshal(t, r.body, &sub)
	if r := e.api(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.status != http.StatusConflict {
		t.Fatalf("second submit: %d %s", r.status, r.body)
	}
	// The operator's queue and the side-by-side review.
	if r := e.api(t, "GET", "/admin/v1/reviews", op, ""); r.status != 200 || !strings.Contains(r.body, sub.ID) {
		t.Fatalf("queue: %d %s", r.status, r.body)
	}
	if r := e.api(t, "GET", "/admin/v1/reviews/acme", op, ""); r.status != 200 || !strings.Contains(r.body, "brand.nav_color") {
		t.Fatalf("review: %d %s", r.status, r.body)
	}

	// Decisions: a rejection needs a reason; the approval goes live.
	if r := e.api(t, "POST", "/admin/v1/reviews/acme/reject", op, `{"submission_id":"`+sub.ID+`","reason":"  "}`, "Content-Type", json); r.status != http.StatusBadRequest {
		t.Fatalf("reject without reason: %d %s", r.status, r.body)
	}
	if r := e.api(t, "POST", "/admin/v1/reviews/acme/approve", op, `{}`, "Content-Type", json); r.status != http.StatusBadRequest {
		t.Fatalf("approve without id: %d %s", r.status, r.body)
	}
	if r := e.api(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`, "Content-Type", json); r.status != 200 || !strings.Contains(r.body, `"number":1`) {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}

	// The customer's console is branded within a second.
	var body string
	for deadline := time.Now().Add(time.Second); ; {
		_, body, _ = e.page(t, customer, "/page")
		if strings.Contains(body, `id="livery-chrome"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("approved branding not live within 1s: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sha := uploaded.URL[strings.LastIndex(uploaded.URL, "/")+1:]
	for _, want := range []string{sha, "https://www.acme.example/en", "Deals", "Help", "console page", "Alice"} {
		if !strings.Contains(body, want) {
			t.Errorf("branded page lacks %q", want)
		}
	}
	if strings.Contains(body, "livery-preview-ribbon") {
		t.Error("a customer sees the preview ribbon")
	}
	_, zh, _ := e.page(t, customer, "/page", "Accept-Language", "zh-CN,zh;q=0.9")
	if !strings.Contains(zh, "https://www.acme.example/zh") || !strings.Contains(zh, "优惠") {
		t.Errorf("zh page lacks zh link/labels: %s", zh)
	}
	// The stylesheet it references is served.
	css := regexp.MustCompile(`href="(/_livery/branding/[^"]+\.css)"`).FindStringSubmatch(body)
	if css == nil {
		t.Fatalf("no stylesheet link: %s", body)
	}
	if resp, sheet := get(t, customer, e.consoleURL+css[1]); resp.StatusCode != 200 || !strings.Contains(sheet, "#123456") {
		t.Fatalf("stylesheet: %d %s", resp.StatusCode, sheet)
	}
	// Under a nonce-based CSP the inline style carries the console's nonce.
	_, body, hdr := e.page(t, customer, "/page?csp="+url.QueryEscape("default-src 'self'; style-src 'self' 'nonce-n0nceABC'"))
	if m := styleNonce.FindStringSubmatch(body); m == nil || m[1] != "n0nceABC" ||
		hdr.Get("Content-Security-Policy") != "default-src 'self'; style-src 'self' 'nonce-n0nceABC'" {
		t.Fatalf("nonce CSP: %v %q", hdr.Get("Content-Security-Policy"), body)
	}

	// History, audit and rollback.
	r = e.api(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, strings.Replace(doc, "#123456", "#654321", 1), "Content-Type", json, "If-Match", etag)
	if r.status != 200 {
		t.Fatalf("edit draft: %d %s", r.status, r.body)
	}
	jsonUnmarshal(t, e.api(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "").body, &sub)
	e.api(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`, "Content-Type", json)
	if r := e.api(t, "POST", "/admin/v1/tenants/acme/branding/rollback", op, `{"version":1,"reason":"colour complaint"}`, "Content-Type", json); r.status != 200 {
		t.Fatalf("rollback: %d %s", r.status, r.body)
	}
	if r := e.api(t, "GET", "/admin/v1/tenants/acme/branding/versions", pa, ""); r.status != 200 || !strings.Contains(r.body, `"number":2`) {
		t.Fatalf("versions: %d %s", r.status, r.body)
	}
	r = e.api(t, "GET", "/admin/v1/tenants/acme/branding/audit", pa, "")
	for _, ev := range []string{"submit", "approve", "rollback", "colour complaint", "op-1"} {
		if !strings.Contains(r.body, ev) {
			t.Errorf("audit lacks %q: %s", ev, r.body)
		}
	}
}

func jsonUnmarshal(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

// TestBrandingPreview: the preview shows the proposed branding to the
// staff member who opened it, with a ribbon, read-only, bound to their
// session; customers never see it; links are single-use and per tenant.
func TestBrandingPreview(t *testing.T) {
	e := newBrandEnv(t)
	pa, op := e.token(t, "pa-acme"), e.token(t, "op-1")
	doc := brandDoc(`{}`, "https://preview.acme.example")
	doc = strings.Replace(doc, `"logo_zh":{},"logo_en":{}`, `"logo_zh":{"sha256":"","ext":"","width":0,"height":0},"logo_en":{"sha256":"","ext":"","width":0,"height":0}`, 1)
	if r := e.api(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", "application/json"); r.status != 200 {
		t.Fatalf("draft: %d %s", r.status, r.body)
	}
	if r := e.api(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	customer, _ := e.customerSignIn(t)

	// The operator signs in with a browser and follows the preview link.
	staff := staffBrowser()
	if r := e.staffSignIn(t, staff, "op-1"); r.status != 200 {
		t.Fatalf("staff sign-in: %d %s", r.status, r.body)
	}
	resp, _ := get(t, staff, e.apiURL+"/admin/v1/tenants/acme/branding/preview?source=pending")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), e.consoleURL+"/") {
		t.Fatalf("preview link landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	_, body, _ := e.page(t, staff, "/page")
	if !strings.Contains(body, "livery-preview-ribbon") || !strings.Contains(body, "https://preview.acme.example/en") {
		t.Fatalf("operator's preview lacks proposed branding: %s", body)
	}
	if _, body, _ := e.page(t, customer, "/page"); strings.Contains(body, "preview.acme.example") || strings.Contains(body, "livery-preview-ribbon") {
		t.Fatalf("customer sees the preview: %s", body)
	}
	// Read-only.
	req := newReq(t, "POST", e.consoleURL+"/page", strings.NewReader("x=1"), "Accept", "application/json")
	if resp, err := staff.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST in preview: %v %v", resp.StatusCode, err)
	}

	// Links are single use and bound to their tenant.
	r := e.api(t, "POST", "/admin/v1/tenants/acme/branding/preview", op, "")
	var link struct{ URL string }
	jsonUnmarshal(t, r.body, &link)
	fresh := staffBrowser()
	if resp, _ := get(t, fresh, link.URL); resp.StatusCode != 200 {
		t.Fatalf("bearer preview link: %d", resp.StatusCode)
	}
	if resp, _ := get(t, staffBrowser(), link.URL); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("reused preview link: %d", resp.StatusCode)
	}
	r = e.api(t, "POST", "/admin/v1/tenants/acme/branding/preview", op, "")
	jsonUnmarshal(t, r.body, &link)
	other := newReq(t, "GET", link.URL, nil, "Host", "console.globex.test", "Accept", "text/html")
	if resp, err := http.DefaultClient.Do(other); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("acme preview link on globex's host: %v %v", resp.StatusCode, err)
	}
	// A partner admin cannot preview another tenant.
	if r := e.api(t, "POST", "/admin/v1/tenants/globex/branding/preview", pa, ""); r.status != http.StatusForbidden {
		t.Fatalf("cross-tenant preview: %d", r.status)
	}

	// Signing out of the staff session ends the preview.
	lo := newReq(t, "POST", e.apiURL+"/admin/logout", nil)
	if resp, err := staff.Do(lo); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if _, body, _ := e.page(t, staff, "/page"); strings.Contains(body, "livery-preview-ribbon") {
		t.Fatalf("preview survived staff sign-out: %s", body)
	}
}
