package gateway_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestBrowserUIBranding is the branding journey of the staff UI in
// headless Chromium, clicking and typing as people do: the partner admin
// of acme uploads both logos and edits a promotion (the preview frame
// follows), meets a field error beside its field, fixes it, saves and
// submits; the operator opens the queue and the review (four chrome
// frames, the diff, the console preview link), rejects with a reason
// through the confirmation step; the partner admin reads the reason,
// fixes and resubmits; the operator approves; the customer's console
// shows the new branding. Then two saves race: the second shows the
// conflict box, and overwrite wins. Every page is checked with axe-core
// and for CSP violations.
func TestBrowserUIBranding(t *testing.T) {
	start := time.Now()
	chromiumPath(t)
	axe := axeSource(t)
	e := newUIEnv(t)
	browser := startBrowser(t, 90*time.Second)
	logoZH := gatewaytest.PNGOf(t, 48, 16, color.RGBA{200, 40, 40, 255})
	logoEN := gatewaytest.PNGOf(t, 64, 16, color.RGBA{40, 40, 200, 255})
	shaZH, shaEN := sha256.Sum256(logoZH), sha256.Sum256(logoEN)
	hexZH, hexEN := hex.EncodeToString(shaZH[:]), hex.EncodeToString(shaEN[:])

	// The partner admin signs in and opens the editor from the navigation.
	pa := newUITab(t, browser, e, axe, "partner admin")
	pa.signIn("pa-acme")
	pa.check("dashboard")
	pa.click("nav to branding", `header nav a[href="/ui/t/acme/branding"]`)
	pa.check("editor (empty)")

	// Both logos; the thumbnails show the chosen files at once.
	pa.do("choosing logos",
		chromedp.SetUploadFiles(sel("name", "brand.logo_zh_file"), []string{logoFile(t, "zh.png", logoZH)}),
		chromedp.SetUploadFiles(sel("name", "brand.logo_en_file"), []string{logoFile(t, "en.png", logoEN)}))
	if !pa.waitFor(`["brand.logo_zh-img", "brand.logo_en-img"].every((id) => {
	  const el = document.getElementById(id); return el && el.tagName === "IMG" && el.complete && el.naturalWidth > 0; })`, 3*time.Second) {
		t.Errorf("the logo thumbnails do not show the chosen files: %s", pa.text(".editor fieldset"))
	}
	pa.noCSPViolations("editor with chosen logos")

	// A promotion: the preview frames follow the typing.
	pa.typeInto(sel("name", "promotions[0].name_zh"), "春季特惠")
	pa.typeInto(sel("name", "promotions[0].name_en"), "Spring Sale")
	pa.typeInto(sel("name", "promotions[0].link"), "https://spring.acme.example/")
	for _, f := range []struct{ frame, text string }{{"pv-zh", "春季特惠"}, {"pv-en", "Spring Sale"}} {
		if !pa.waitFor(fmt.Sprintf(`(() => { try { return document.querySelector("iframe[name=%s]").contentDocument.body.textContent.includes(%s); } catch (e) { return false; } })()`,
			f.frame, jsonString(f.text)), 5*time.Second) {
			t.Errorf("the preview frame %s does not show the typed promotion %q", f.frame, f.text)
		}
	}
	// A script link is refused beside its field.
	pa.typeInto(sel("name", "promotions[0].link"), "javascript:alert(1)")
	pa.click("saving with the script link", `#editor button.primary`)
	errText := pa.text(`[id="promotions[0].link-err"]`)
	invalid := evalJS[string](pa.browserTab, `document.querySelector('[name="promotions[0].link"]').getAttribute("aria-invalid") || ""`)
	if errText == "" || invalid != "true" {
		t.Fatalf("no field error beside promotions[0].link (aria-invalid %q): %s", invalid, pa.text("main"))
	}
	if v := evalJS[string](pa.browserTab, `document.querySelector('[name="promotions[0].link"]').value`); v != "javascript:alert(1)" {
		t.Errorf("the form lost the edit: link is %q", v)
	}
	for _, h := range []string{hexZH, hexEN} { // the uploads are kept for the next save
		if !strings.Contains(evalJS[string](pa.browserTab, `Array.from(document.querySelectorAll("input[type=hidden]")).map((i) => i.value).join(" ")`), h) {
			t.Errorf("logo %s is not kept in the form after the field error", h[:12])
		}
	}
	pa.check("editor with a field error")

	// Fixed, saved, submitted.
	pa.typeInto(sel("name", "promotions[0].link"), "https://spring.acme.example/")
	pa.click("saving", `#editor button.primary`)
	pa.mustFlash("after saving", "done.saved")
	doc, _ := e.Draft(t, "acme", e.Token(t, "pa-acme"))
	if s := fmt.Sprint(doc); !strings.Contains(s, "春季特惠") || !strings.Contains(s, hexZH) || !strings.Contains(s, hexEN) {
		t.Fatalf("saved draft: %v", doc)
	}
	pa.click("submitting", `form[action="/ui/t/acme/branding/submit"] button`)
	pa.mustFlash("after submitting", "done.submitted")
	pa.check("editor, pending")

	// The operator: dashboard → queue → review.
	op := newUITab(t, browser, e, axe, "operator")
	op.signIn("op-1")
	op.mustSee("dashboard", "Acme")
	op.click("nav to reviews", `header nav a[href="/ui/reviews"]`)
	op.check("queue")
	op.click("open review", `main a[href="/ui/reviews/acme"]`)
	if n := evalJS[int](op.browserTab, `document.querySelectorAll(".compare iframe").length`); n != 4 {
		t.Errorf("review: %d chrome frames, want 4", n)
	}
	if !op.waitFor(`(() => { const fs = Array.from(document.querySelectorAll(".compare iframe"));
	  const p = fs.filter((f) => f.src.includes("source=pending")).map((f) => f.contentDocument && f.contentDocument.body ? f.contentDocument.body.innerHTML : "");
	  return p.length === 2 && p[0].includes("春季特惠") && p[0].includes(`+jsonString(hexZH)+`) && p[1].includes("Spring Sale") && p[1].includes(`+jsonString(hexEN)+`); })()`, 5*time.Second) {
		t.Errorf("the proposed frames do not show the proposed promotion and logos")
	}
	op.mustSee("review diff", "promotions", "Spring Sale", "https://spring.acme.example/")
	op.check("review")

	// The console preview link leads to the console, in preview.
	href := evalJS[string](op.browserTab, `(document.querySelector('a[href*="/branding/preview?source=pending"]') || {}).href || ""`)
	if href == "" {
		t.Fatal("the review has no console preview link")
	}
	if resp := op.open(href); resp == nil || resp.Status != 200 || !strings.HasPrefix(op.location(), e.ConsoleURL+"/") {
		t.Errorf("console preview link %s: landed on %s (%v)", href, op.location(), info(resp))
	} else if !op.waitFor(`!!document.querySelector("#livery-preview-ribbon") && (document.querySelector("#livery-logo-partner") || {src: ""}).src.includes(`+jsonString(hexEN)+`)`, 3*time.Second) {
		t.Errorf("the console preview does not show the proposed branding: %s", op.text("body"))
	}

	// Rejecting: the reason, then the confirmation step.
	const reason = "Logo too dark on the nav bar / 导航栏上标志太暗"
	op.open(e.UIURL("/ui/reviews/acme"))
	op.typeInto(`#reason`, reason)
	op.click("reject", `form[action="/ui/reviews/acme/reject"] button[type=submit]`)
	op.mustSee("confirmation", reason)
	op.check("reject confirmation")
	op.click("confirm reject", `main form button.danger`)
	op.mustFlash("after rejecting", "done.rejected")

	// The partner admin reads the reason, fixes and resubmits.
	pa.open(e.UIURL("/ui/"))
	pa.mustSee("dashboard after rejection", reason)
	pa.click("dashboard to editor", `main a[href="/ui/t/acme/branding"]`)
	pa.mustSee("editor after rejection", reason)
	pa.typeInto(sel("name", "promotions[0].name_en"), "Spring Deals")
	pa.click("saving the fix", `#editor button.primary`)
	pa.mustFlash("after saving the fix", "done.saved")
	pa.click("resubmitting", `form[action="/ui/t/acme/branding/submit"] button`)
	pa.mustFlash("after resubmitting", "done.submitted")

	// The operator approves.
	op.open(e.UIURL("/ui/reviews"))
	op.click("open review again", `main a[href="/ui/reviews/acme"]`)
	op.mustSee("second review", "Spring Deals")
	op.typeInto(`#note`, "ok")
	op.click("approve", `form[action="/ui/reviews/acme/approve"] button[type=submit]`)
	op.mustFlash("after approving", "done.approved")
	for deadline := time.Now().Add(3 * time.Second); ; {
		if v, ok := e.Live.Get("acme"); ok && v.Number == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the approved version is not live within 3s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The customer's console, through the branded door, in both languages.
	cust := newUITab(t, browser, e, axe, "customer")
	cust.open(e.ConsoleURL + "/")
	if !cust.waitFor(`!!document.querySelector("input[name=username]")`, 5*time.Second) {
		t.Fatalf("customer: no IdP login form at %s", cust.location())
	}
	cust.typeInto(`input[name=username]`, "cust-1")
	cust.typeInto(`input[name=password]`, gatewaytest.UIPassword)
	cust.click("customer signing in", `form button[type=submit]`)
	for _, l := range []struct{ lang, sha, promo string }{{"en", hexEN, "Spring Deals"}, {"zh", hexZH, "春季特惠"}} {
		cust.setCookie(e.ConsoleURL, "livery_lang", l.lang)
		cust.open(e.ConsoleURL + "/")
		got := evalJS[string](cust.browserTab, `(document.querySelector("#livery-logo-partner") || {src: ""}).src + " " +
		  Array.from(document.querySelectorAll(".livery-promo a")).map((a) => a.textContent + " " + a.href).join(" ")`)
		if !strings.Contains(got, l.sha) || !strings.Contains(got, l.promo) || !strings.Contains(got, "https://spring.acme.example/") {
			t.Errorf("console (%s) does not show the approved branding: %q", l.lang, got)
		}
		cust.noCSPViolations("console " + l.lang)
	}

	// Two saves race: an API save after the editor was opened.
	pa.open(e.UIURL("/ui/t/acme/branding"))
	pa.typeInto(sel("name", "promotions[0].name_en"), "Mine")
	tok := e.Token(t, "pa-acme")
	d, etag := e.Draft(t, "acme", tok)
	d["brand"].(map[string]any)["link_en"] = "https://theirs.acme.example/en"
	e.PutDraft(t, "acme", tok, d, etag)
	pa.click("conflicting save", `#editor button.primary`)
	if !evalJS[bool](pa.browserTab, `(() => { const box = document.querySelector('[aria-labelledby="cf-h"][role=alert]');
	  return !!box && !!box.querySelector('a[href="/ui/t/acme/branding"]') && !!box.querySelector("button[name=overwrite]"); })()`) {
		t.Fatalf("no conflict box with reload and overwrite: %s", pa.text("main"))
	}
	if v := evalJS[string](pa.browserTab, `document.querySelector('[name="promotions[0].name_en"]').value`); v != "Mine" {
		t.Errorf("the conflict page lost the edit: %q", v)
	}
	pa.check("editor conflict")
	pa.click("overwrite", `button[name=overwrite]`)
	pa.mustFlash("after overwrite", "done.saved")
	if d, _ := e.Draft(t, "acme", tok); !strings.Contains(fmt.Sprint(d), "Mine") {
		t.Errorf("overwrite did not save the edit: %v", d)
	}
	t.Logf("branding journey in %v", time.Since(start).Round(time.Millisecond))
}
