package gateway_test

import (
	"encoding/json"
	"image/color"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
)

var styleNonce = regexp.MustCompile(`<style id="livery-critical" nonce="([^"]+)"`)

// TestBrandingWorkflowEndToEnd drives the whole maker–checker flow through
// the admin API with staff tokens and watches the console change.
func TestBrandingWorkflowEndToEnd(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op, cm := e.Token(t, "pa-acme"), e.Token(t, "op-1"), e.Token(t, "cm-acme")
	customer, _ := e.CustomerSignIn(t)

	// Nothing approved yet: the console is served unbranded.
	if _, body, _ := e.Page(t, customer, "/page"); strings.Contains(body, "livery-chrome") || !strings.Contains(body, "console page") {
		t.Fatalf("unbranded page expected: %s", body)
	}

	// Logo upload: sniffed, content-addressed, served immutable.
	logoPNG := gatewaytest.PNGImage(t, color.RGBA{200, 30, 30, 255})
	up := e.Upload(t, "acme", pa, logoPNG)
	if up.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	var uploaded struct {
		Asset json.RawMessage `json:"asset"`
		URL   string          `json:"url"`
	}
	json.Unmarshal([]byte(up.Body), &uploaded)
	resp, img := gatewaytest.Get(t, http.DefaultClient, e.ConsoleURL+uploaded.URL)
	if resp.StatusCode != 200 || img != string(logoPNG) || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("asset: %d %v", resp.StatusCode, resp.Header)
	}
	if r := e.Upload(t, "acme", pa, []byte("<html>not an image</html>")); r.Status != http.StatusUnprocessableEntity || r.ErrorCode(t) != "invalid_image" {
		t.Fatalf("non-image upload: %d %s", r.Status, r.Body)
	}

	// Draft: create-only without If-Match, then compare-and-swap.
	doc := gatewaytest.BrandDoc(string(uploaded.Asset), "https://www.acme.example")
	json := "application/json"
	r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", json)
	etag := r.Header.Get("ETag")
	if r.Status != 200 || etag == "" {
		t.Fatalf("create draft: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", json); r.Status != http.StatusPreconditionFailed {
		t.Fatalf("second create-only PUT: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", json, "If-Match", `"stale"`); r.Status != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
	}
	// Bad input: every problem named, nothing stored.
	bad := strings.Replace(strings.Replace(doc, "#123456", "red", 1), "https://deals.acme.example/", "javascript:alert(1)", 1)
	r = e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, bad, "Content-Type", json, "If-Match", etag)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "brand.nav_color") || !strings.Contains(r.Body, "promotions[0].link") {
		t.Fatalf("invalid draft: %d %s", r.Status, r.Body)
	}
	for _, b := range []struct{ body, ct string }{{doc, "text/plain"}, {`{"brand":{}, "extra":1}`, json}, {`[1]`, json}, {`{`, json}} {
		if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, b.body, "Content-Type", b.ct, "If-Match", etag); r.Status/100 != 4 {
			t.Fatalf("bad body %q accepted: %d", b.body, r.Status)
		}
	}
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/draft", pa, ""); r.Header.Get("ETag") != etag || !strings.Contains(r.Body, "#123456") {
		t.Fatalf("draft changed by refused writes: %s %s", r.Header.Get("ETag"), r.Body)
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
		if r := e.API(t, c.method, c.path, c.token, doc, "Content-Type", json); r.Status != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, r.Status)
		}
	}

	// Submit: one pending submission per tenant.
	r = e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	var sub struct {
		ID  string    `json:"id"`
		Due time.Time `json:"due"`
	}
	gatewaytest.DecodeJSON(t, r.Body, &sub)
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.Status != http.StatusConflict {
		t.Fatalf("second submit: %d %s", r.Status, r.Body)
	}
	// The operator's queue and the side-by-side review.
	if r := e.API(t, "GET", "/admin/v1/reviews", op, ""); r.Status != 200 || !strings.Contains(r.Body, sub.ID) {
		t.Fatalf("queue: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "GET", "/admin/v1/reviews/acme", op, ""); r.Status != 200 || !strings.Contains(r.Body, "brand.nav_color") {
		t.Fatalf("review: %d %s", r.Status, r.Body)
	}

	// Decisions: a rejection needs a reason; the approval goes live.
	if r := e.API(t, "POST", "/admin/v1/reviews/acme/reject", op, `{"submission_id":"`+sub.ID+`","reason":"  "}`, "Content-Type", json); r.Status != http.StatusBadRequest {
		t.Fatalf("reject without reason: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/reviews/acme/approve", op, `{}`, "Content-Type", json); r.Status != http.StatusBadRequest {
		t.Fatalf("approve without id: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`, "Content-Type", json); r.Status != 200 || !strings.Contains(r.Body, `"number":1`) {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}

	// The customer's console is branded within a second.
	var body string
	for deadline := time.Now().Add(time.Second); ; {
		_, body, _ = e.Page(t, customer, "/page")
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
	_, zh, _ := e.Page(t, customer, "/page", "Accept-Language", "zh-CN,zh;q=0.9")
	if !strings.Contains(zh, "https://www.acme.example/zh") || !strings.Contains(zh, "优惠") {
		t.Errorf("zh page lacks zh link/labels: %s", zh)
	}
	// The stylesheet it references is served.
	css := regexp.MustCompile(`href="(/_livery/branding/[^"]+\.css)"`).FindStringSubmatch(body)
	if css == nil {
		t.Fatalf("no stylesheet link: %s", body)
	}
	if resp, sheet := gatewaytest.Get(t, customer, e.ConsoleURL+css[1]); resp.StatusCode != 200 || !strings.Contains(sheet, "#123456") {
		t.Fatalf("stylesheet: %d %s", resp.StatusCode, sheet)
	}
	// Under a nonce-based CSP the inline style carries the console's nonce.
	_, body, hdr := e.Page(t, customer, "/page?csp="+url.QueryEscape("default-src 'self'; style-src 'self' 'nonce-n0nceABC'"))
	if m := styleNonce.FindStringSubmatch(body); m == nil || m[1] != "n0nceABC" ||
		hdr.Get("Content-Security-Policy") != "default-src 'self'; style-src 'self' 'nonce-n0nceABC'" {
		t.Fatalf("nonce CSP: %v %q", hdr.Get("Content-Security-Policy"), body)
	}

	// History, audit and rollback.
	r = e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, strings.Replace(doc, "#123456", "#654321", 1), "Content-Type", json, "If-Match", etag)
	if r.Status != 200 {
		t.Fatalf("edit draft: %d %s", r.Status, r.Body)
	}
	gatewaytest.DecodeJSON(t, e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "").Body, &sub)
	e.API(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`, "Content-Type", json)
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/rollback", op, `{"version":1,"reason":"colour complaint"}`, "Content-Type", json); r.Status != 200 {
		t.Fatalf("rollback: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/versions", pa, ""); r.Status != 200 || !strings.Contains(r.Body, `"number":2`) {
		t.Fatalf("versions: %d %s", r.Status, r.Body)
	}
	r = e.API(t, "GET", "/admin/v1/tenants/acme/branding/audit", pa, "")
	for _, ev := range []string{"submit", "approve", "rollback", "colour complaint", "op-1"} {
		if !strings.Contains(r.Body, ev) {
			t.Errorf("audit lacks %q: %s", ev, r.Body)
		}
	}
}

// TestBrandingPreview: the preview shows the proposed branding to the
// staff member who opened it, with a ribbon, read-only, bound to their
// session; customers never see it; links are single-use and per tenant.
func TestBrandingPreview(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	doc := gatewaytest.BrandDoc(`{}`, "https://preview.acme.example")
	doc = strings.Replace(doc, `"logo_zh":{},"logo_en":{}`, `"logo_zh":{"sha256":"","ext":"","width":0,"height":0},"logo_en":{"sha256":"","ext":"","width":0,"height":0}`, 1)
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	customer, _ := e.CustomerSignIn(t)

	// The operator signs in with a browser and follows the preview link.
	staff := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, staff, "op-1"); r.Status != 200 {
		t.Fatalf("staff sign-in: %d %s", r.Status, r.Body)
	}
	resp, _ := gatewaytest.Get(t, staff, e.APIURL+"/admin/v1/tenants/acme/branding/preview?source=pending")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), e.ConsoleURL+"/") {
		t.Fatalf("preview link landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	_, body, _ := e.Page(t, staff, "/page")
	if !strings.Contains(body, "livery-preview-ribbon") || !strings.Contains(body, "https://preview.acme.example/en") {
		t.Fatalf("operator's preview lacks proposed branding: %s", body)
	}
	if _, body, _ := e.Page(t, customer, "/page"); strings.Contains(body, "preview.acme.example") || strings.Contains(body, "livery-preview-ribbon") {
		t.Fatalf("customer sees the preview: %s", body)
	}
	// Read-only.
	req := gatewaytest.NewRequest(t, "POST", e.ConsoleURL+"/page", strings.NewReader("x=1"), "Accept", "application/json")
	if resp, err := staff.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST in preview: %v %v", resp.StatusCode, err)
	}

	// Links are single use and bound to their tenant.
	r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/preview", op, "")
	var link struct{ URL string }
	gatewaytest.DecodeJSON(t, r.Body, &link)
	fresh := gatewaytest.StaffBrowser()
	if resp, _ := gatewaytest.Get(t, fresh, link.URL); resp.StatusCode != 200 {
		t.Fatalf("bearer preview link: %d", resp.StatusCode)
	}
	if resp, _ := gatewaytest.Get(t, gatewaytest.StaffBrowser(), link.URL); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("reused preview link: %d", resp.StatusCode)
	}
	r = e.API(t, "POST", "/admin/v1/tenants/acme/branding/preview", op, "")
	gatewaytest.DecodeJSON(t, r.Body, &link)
	other := gatewaytest.NewRequest(t, "GET", link.URL, nil, "Host", "console.globex.test", "Accept", "text/html")
	if resp, err := http.DefaultClient.Do(other); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("acme preview link on globex's host: %v %v", resp.StatusCode, err)
	}
	// A partner admin cannot preview another tenant.
	if r := e.API(t, "POST", "/admin/v1/tenants/globex/branding/preview", pa, ""); r.Status != http.StatusForbidden {
		t.Fatalf("cross-tenant preview: %d", r.Status)
	}

	// Signing out of the staff session ends the preview.
	lo := gatewaytest.NewRequest(t, "POST", e.APIURL+"/admin/logout", nil)
	if resp, err := staff.Do(lo); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if _, body, _ := e.Page(t, staff, "/page"); strings.Contains(body, "livery-preview-ribbon") {
		t.Fatalf("preview survived staff sign-out: %s", body)
	}
}
