package gateway_test

import (
	"image/color"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestBrowserUIPages checks every page of the staff UI in headless
// Chromium, in Chinese and English (and a few at a phone's 390 px width),
// with axe-core (serious and critical violations fail) and for CSP
// violations; and the journeys around them: a customer manager sees only
// the customers they manage, and more once the partner admin assigns one
// by its checkbox; another partner's pages are a 403 page in the UI's
// layout with the request id; an access key's secret is shown once and
// revoking asks for confirmation; signing out ends on the signed-out page.
func TestBrowserUIPages(t *testing.T) {
	start := time.Now()
	chromiumPath(t)
	axe := axeSource(t)
	e := newUIEnv(t)
	pendingWithHistory(t, e)
	browser := startBrowser(t, 90*time.Second)
	langs := []string{"zh", "en"}
	x, y, z := e.Cust["X"], e.Cust["Y"], e.Cust["Z"]

	// The customer manager of acme: only X (the one they manage).
	cm := newUITab(t, browser, e, axe, "customer manager")
	cm.signIn("cm-acme")
	for _, l := range langs {
		cm.openChecked("/ui/", l)
		cm.openChecked("/ui/t/acme/customers", l)
	}
	for _, p := range []string{"/ui/", "/ui/t/acme/customers"} {
		cm.open(e.UIURL(p))
		cm.mustSee("own customers", x.DomainName)
		if body := cm.text("main"); strings.Contains(body, y.DomainName) || strings.Contains(body, z.DomainName) {
			t.Errorf("%s: the customer manager sees customers they do not manage:\n%s", p, body)
		}
	}
	cm.click("customer detail", chromedp.CSS(`main a[href="/ui/t/acme/customers/`+x.DomainID+`"]`))
	cm.check("customer detail (manager)")
	if r := cm.open(e.UIURL("/ui/t/acme/customers/" + y.DomainID)); r == nil || r.Status < 400 || r.Status == 500 {
		t.Errorf("the customer manager opened another manager's customer: %v", info(r))
	}

	// The partner admin of acme: every page of theirs; Z assigned to the manager.
	pa := newUITab(t, browser, e, axe, "partner admin")
	pa.signIn("pa-acme")
	for _, l := range langs {
		for _, p := range []string{"/ui/", "/ui/t/acme/branding", "/ui/t/acme/branding/history", "/ui/t/acme/customers",
			"/ui/t/acme/customers/" + z.DomainID, "/ui/t/acme/keys", "/ui/t/acme/audit"} {
			pa.openChecked(p, l)
		}
	}
	// A file that is not an image is refused beside its field, in Chinese.
	pa.open(e.UIURL("/ui/t/acme/branding?lang=zh"))
	pa.do("choosing a bad logo", chromedp.SetUploadFiles(sel("name", "brand.logo_zh_file"), []string{logoFile(t, "bad.png", []byte("not an image at all"))}))
	pa.click("saving a bad logo", `#editor button.primary`)
	if msg := pa.text(`[id="brand.logo_zh-err"]`); !strings.ContainsAny(msg, "图片格式损坏") {
		t.Errorf("the refused logo's message beside the field: %q\n%s", msg, pa.text("main"))
	}
	pa.check("editor with a refused logo")
	pa.open(e.UIURL("/ui/t/acme/customers"))
	pa.mustSee("all customers", x.DomainName, y.DomainName, z.DomainName)
	pa.open(e.UIURL("/ui/t/acme/customers/" + z.DomainID + "?lang=en"))
	pa.do("ticking the manager", chromedp.Click(chromedp.CSS(`input[type=checkbox][value="cm-acme"]`), chromedp.NodeVisible))
	pa.click("saving managers", `form[action$="/managers"] button[type=submit]`)
	pa.mustFlash("after assigning", "done.managers")
	pa.mustSee("after assigning", "cm-acme")
	cm.open(e.UIURL("/ui/t/acme/customers"))
	cm.mustSee("after the assignment", x.DomainName, z.DomainName)

	// Another partner's pages: 403 in the UI's layout, with the request id.
	for _, p := range []string{"/ui/t/globex/branding", "/ui/t/globex/customers", "/ui/reviews"} {
		forbidden(t, pa, p)
	}
	pa.check("403 page")

	// Access keys: the secret once; revoking asks first.
	pa.open(e.UIURL("/ui/t/acme/keys?lang=en"))
	pa.click("creating a key", `form[action="/ui/t/acme/keys"] button[type=submit]`)
	ak, sk := pa.text("#new-ak"), pa.text("#new-sk")
	if ak == "" || len(sk) < 16 {
		t.Fatalf("the new key is not shown: %q %q\n%s", ak, sk, pa.text("main"))
	}
	if pa.text(".flash.ok") == "" || pa.text(`[aria-labelledby="new-h"] strong`) == "" {
		t.Errorf("the new key's page does not say the secret is shown once: %s", pa.text("main"))
	}
	pa.check("new key")
	pa.open(e.UIURL("/ui/t/acme/keys"))
	if body := evalJS[string](pa.browserTab, `document.documentElement.outerHTML`); strings.Contains(body, sk) || !strings.Contains(body, ak) {
		t.Errorf("the keys page again: secret shown %v, key listed %v", strings.Contains(body, sk), strings.Contains(body, ak))
	}
	pa.click("revoke", chromedp.CSS(`form[action="/ui/t/acme/keys/`+ak+`/revoke"] button[type=submit]`))
	pa.mustSee("revoke confirmation", ak)
	if n := evalJS[int](pa.browserTab, `document.querySelectorAll('main form input[name=confirm][value=yes]').length`); n != 1 {
		t.Fatalf("revoking did not ask for confirmation: %s", pa.text("main"))
	}
	pa.check("revoke confirmation")
	pa.click("confirm revoke", `main form button.danger`)
	pa.mustFlash("after revoking", "done.key_revoked")
	if n := evalJS[int](pa.browserTab, `document.querySelectorAll("tbody .badge.rejected").length`); n != 1 {
		t.Errorf("%d revoked keys listed, want 1", n)
	}

	// The operator: queue, review, tenants, history, audit, the reject confirmation.
	op := newUITab(t, browser, e, axe, "operator")
	op.signIn("op-1")
	for _, l := range langs {
		for _, p := range []string{"/ui/", "/ui/reviews", "/ui/reviews/acme", "/ui/tenants", "/ui/t/acme/branding/history",
			"/ui/t/acme/audit", "/ui/t/globex/branding"} {
			op.openChecked(p, l)
		}
		op.open(e.UIURL("/ui/reviews/acme?lang=" + l))
		op.typeInto(`#reason`, "不行 / no")
		op.click("reject", `form[action="/ui/reviews/acme/reject"] button[type=submit]`)
		op.check("reject confirmation " + l)
	}
	// A blank reason is refused before the confirmation step.
	op.open(e.UIURL("/ui/reviews/acme?lang=en"))
	op.typeInto(`#reason`, "   ")
	op.click("reject without a reason", `form[action="/ui/reviews/acme/reject"] button[type=submit]`)
	if loc := op.location(); !strings.Contains(loc, "err=reason_required") || op.text(".flash.error") == "" {
		t.Errorf("a blank reason: at %s: %s", loc, op.text("main"))
	}
	// The language switch in the header.
	op.click("switching to Chinese", `header .who a[hreflang=zh]`)
	if l := evalJS[string](op.browserTab, `document.documentElement.lang`); l != "zh-CN" {
		t.Errorf("after the language switch the page is in %q", l)
	}
	if r := op.open(e.UIURL("/ui/t/nope/branding")); r == nil || r.Status != http.StatusNotFound || !strings.Contains(op.text("footer"), respHeader(r, "X-Request-Id")) {
		t.Errorf("unknown tenant: %v %s", info(r), op.text("body"))
	}
	op.check("404 page")

	// The partner admin of globex: their own editor; acme's is 403.
	pb := newUITab(t, browser, e, axe, "partner admin B")
	pb.signIn("pa-globex")
	pb.openChecked("/ui/t/globex/branding", "en")
	forbidden(t, pb, "/ui/t/acme/branding")

	// A phone's width.
	for _, tab := range []*uiTab{pa, op, cm} {
		tab.viewport(390, 844)
	}
	for _, l := range langs {
		pa.openChecked("/ui/t/acme/branding", l)
		op.openChecked("/ui/reviews/acme", l)
		cm.openChecked("/ui/t/acme/customers", l)
	}
	if w := evalJS[int](pa.browserTab, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the editor scrolls sideways at 390 px: %d px wide", w)
	}

	// Signing out ends on the signed-out page.
	cm.open(e.UIURL("/ui/?lang=en"))
	cm.click("signing out", `form[action="/admin/logout"] button`)
	if loc := cm.location(); !strings.Contains(loc, "/ui/signed-out") {
		t.Errorf("signed out at %s", loc)
	}
	cm.check("signed out")
	t.Logf("pages in %v", time.Since(start).Round(time.Millisecond))
}

// forbidden opens path in b and fails the test unless it is the UI's 403
// page: HTML in the layout, the request id shown.
func forbidden(t *testing.T, b *uiTab, path string) {
	t.Helper()
	r := b.open(b.e.UIURL(path))
	rid := respHeader(r, "X-Request-Id")
	if r == nil || r.Status != http.StatusForbidden || !strings.HasPrefix(respHeader(r, "Content-Type"), "text/html") {
		t.Fatalf("%s: %s: %v %q", b.name, path, info(r), respHeader(r, "Content-Type"))
	}
	if rid == "" || !strings.Contains(b.text("footer"), rid) || !strings.Contains(b.text("main h2"), "403") ||
		evalJS[int](b.browserTab, `document.querySelectorAll("header nav a").length`) == 0 {
		t.Errorf("%s: %s: not the UI's 403 page (request id %q):\n%s", b.name, path, rid, b.text("body"))
	}
}

// pendingWithHistory makes version 1 of acme live and leaves a second
// submission pending (through the admin API), for the review and history
// pages.
func pendingWithHistory(t *testing.T, e *gatewaytest.UIEnv) {
	t.Helper()
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	asset, _ := uploadLogo(e.BrandEnv, t, pa, gatewaytest.PNGImage(t, color.RGBA{10, 120, 60, 255}))
	doc := gatewaytest.BrandDoc(asset, "https://www.acme.example")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, doc, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	submitAndApprove(e.BrandEnv, t, pa, op)
	d, etag := e.Draft(t, "acme", pa)
	d["promotions"] = []any{map[string]any{"name_zh": "新品", "name_en": "New", "link": "https://new.acme.example/"}}
	e.PutDraft(t, "acme", pa, d, etag)
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
}
