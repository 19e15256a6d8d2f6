package gateway_test

import (
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/branding"
	democonsole "github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/gateway/gatewaytest"
)

// chromeSnapshot is what the browser shows of the chrome and the console.
type chromeSnapshot struct {
	URL      string     `json:"url"`
	Lang     string     `json:"lang"`
	Partner  *imageInfo `json:"partner"`
	Cloud    *imageInfo `json:"cloud"`
	LogoHref string     `json:"logoHref"`
	Promo    []linkInfo `json:"promo"`
	Custom   []linkInfo `json:"custom"`
	// Display is the computed display of each probed upstream area.
	Display       map[string]string `json:"display"`
	ChromeBG      string            `json:"chromeBG"`
	ChromeDisplay string            `json:"chromeDisplay"`
	NavBG         string            `json:"navBG"`
	// Nonces as the browser kept them (the nonce content attribute is
	// hidden from the DOM once a CSP applies; the IDL attribute keeps it).
	CriticalNonce      string `json:"criticalNonce"`
	StylesheetNonce    string `json:"stylesheetNonce"`
	StylesheetRules    int    `json:"stylesheetRules"` // -1: not loaded
	ConsoleStyleNonce  string `json:"consoleStyleNonce"`
	ConsoleScriptNonce string `json:"consoleScriptNonce"`
	ConsoleScript      string `json:"consoleScript"` // set by the console's own inline script
	Ribbon             *struct {
		Text       string  `json:"text"`
		Display    string  `json:"display"`
		Visibility string  `json:"visibility"`
		Width      float64 `json:"width"`
		Height     float64 `json:"height"`
	} `json:"ribbon"`
	User       string   `json:"user"`
	Violations []string `json:"violations"` // nil: the recorder did not run
}

type imageInfo struct {
	Tag      string `json:"tag"`
	Src      string `json:"src"`
	Alt      string `json:"alt"`
	Complete bool   `json:"complete"`
	Natural  int    `json:"naturalWidth"`
}

type linkInfo struct {
	Text string `json:"text"`
	Href string `json:"href"`
}

// snapshotJS builds the snapshot; %s is the JSON list of probed selectors.
const snapshotJS = `(() => {
  const q = (s) => document.querySelector(s);
  const img = (el) => el ? { tag: el.tagName.toLowerCase(), src: el.getAttribute("src") || "",
    alt: el.tagName === "IMG" ? el.getAttribute("alt") || "" : el.textContent,
    complete: !!el.complete, naturalWidth: el.naturalWidth || 0 } : null;
  const links = (s) => Array.from(document.querySelectorAll(s)).map((a) => ({ text: a.textContent, href: a.getAttribute("href") || "" }));
  const display = {};
  for (const s of %s) { const el = q(s); display[s] = el ? getComputedStyle(el).display : "missing"; }
  const chrome = q("#livery-chrome"), nav = q("#cc-topnav"), sheet = q("#livery-stylesheet");
  let rules = -1;
  try { rules = sheet.sheet.cssRules.length; } catch (e) {}
  const own = Array.from(document.querySelectorAll("style")).find((s) => s.id !== "livery-critical");
  const script = document.scripts[0];
  const ribbon = q("#livery-preview-ribbon");
  const box = ribbon && ribbon.getBoundingClientRect();
  return {
    url: location.href,
    lang: chrome ? chrome.getAttribute("lang") : "",
    partner: img(q("#livery-logo-partner")),
    cloud: img(q("#livery-logo-cloud")),
    logoHref: q("#livery-logo-link") ? q("#livery-logo-link").getAttribute("href") || "" : "",
    promo: links(".livery-promo .livery-menu a"),
    custom: links(".livery-custom .livery-menu a"),
    display: display,
    chromeBG: chrome ? getComputedStyle(chrome).backgroundColor : "",
    chromeDisplay: chrome ? getComputedStyle(chrome).display : "",
    navBG: nav ? getComputedStyle(nav).backgroundColor : "",
    criticalNonce: q("#livery-critical") ? q("#livery-critical").nonce : "",
    stylesheetNonce: sheet ? sheet.nonce : "",
    stylesheetRules: rules,
    consoleStyleNonce: own ? own.nonce : "",
    consoleScriptNonce: script ? script.nonce : "",
    consoleScript: document.documentElement.getAttribute("data-cc-script") || "",
    ribbon: ribbon ? { text: ribbon.textContent, display: getComputedStyle(ribbon).display,
      visibility: getComputedStyle(ribbon).visibility, width: box.width, height: box.height } : null,
    user: q("#livery-user") ? q("#livery-user").textContent : "",
    violations: window.__liveryCSP || null,
  };
})()`

// TestBrowserBranding loads the branded demo console through Livery in
// headless Chromium: both logos load, links and labels follow the locale
// (Accept-Language and the livery_lang cookie), hidden menu areas are not
// displayed, the chrome is styled under the console's nonce-based CSP
// without a single violation, and a preview shows the proposed logo to the
// operator only.
func TestBrowserBranding(t *testing.T) {
	start := time.Now()
	chromiumPath(t) // fail fast without a browser
	e := newBrowserEnv(t)
	up := browserUpstream(t)
	pa, op := e.Token(t, "pa-acme"), e.Token(t, "op-1")
	const ctJSON = "application/json"

	// Version 1 with logo A, approved and live.
	logoA := gatewaytest.PNGOf(t, 24, 12, color.RGBA{200, 30, 30, 255})
	logoB := gatewaytest.PNGOf(t, 40, 20, color.RGBA{30, 30, 200, 255})
	assetA, urlA := uploadLogo(e, t, pa, logoA)
	assetB, urlB := uploadLogo(e, t, pa, logoB)
	docA := gatewaytest.BrandDoc(assetA, "https://www.acme.example")
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, docA, "Content-Type", ctJSON); r.Status != 200 {
		t.Fatalf("draft A: %d %s", r.Status, r.Body)
	}
	submitAndApprove(e, t, pa, op)
	for deadline := time.Now().Add(2 * time.Second); ; {
		if v, ok := e.Live.Get("acme"); ok && v.Number == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("version 1 not live within 2s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The partner admin proposes logo B (and another link): pending.
	docB := gatewaytest.BrandDoc(assetB, "https://proposed.acme.example")
	r := e.API(t, "GET", "/admin/v1/tenants/acme/branding/draft", pa, "")
	if r.Status != 200 || r.Header.Get("ETag") == "" {
		t.Fatalf("draft after approval: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "PUT", "/admin/v1/tenants/acme/branding/draft", pa, docB, "Content-Type", ctJSON, "If-Match", r.Header.Get("ETag")); r.Status != 200 {
		t.Fatalf("draft B: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, ""); r.Status != http.StatusCreated {
		t.Fatalf("submit B: %d %s", r.Status, r.Body)
	}

	var doc branding.Document
	if err := json.Unmarshal([]byte(docA), &doc); err != nil {
		t.Fatal(err)
	}
	// The upstream areas and whether the document shows them.
	shown := map[string]bool{
		up.Logo:              false, // replaced by the dual-brand logos
		up.Menus.Info:        doc.Menus.ShowInfo,
		up.Menus.Resources:   doc.Menus.ShowResources,
		up.Menus.User:        doc.Menus.ShowUser,
		up.Menus.Custom:      doc.Menus.ShowCustom,
		up.Ops.Announcements: doc.Ops.ShowAnnouncements,
		up.Ops.Activities:    doc.Ops.ShowActivities,
		up.Ops.Recommended:   doc.Ops.ShowRecommended,
	}
	var probe []string
	nShown := 0
	for sel, show := range shown {
		probe = append(probe, sel)
		if show {
			nShown++
		}
	}
	if nShown == 0 || nShown == len(shown) {
		t.Fatal("the document must both show and hide upstream areas for this test to mean anything")
	}
	probeJSON, _ := json.Marshal(probe)
	navRGB := cssRGB(t, doc.Brand.NavColor)

	browser := startBrowser(t, 30*time.Second) // hard limit of the browser part

	// check asserts what every branded page must show.
	type want struct {
		zh       bool
		logo     []byte // the partner logo's bytes (its width is checked)
		logoURL  string
		brandDoc string // the document shown
		ribbon   bool
	}
	check := func(b *browserTab, resp respInfo, w want) chromeSnapshot {
		t.Helper()
		var d branding.Document
		if err := json.Unmarshal([]byte(w.brandDoc), &d); err != nil {
			t.Fatal(err)
		}
		s := evalJS[chromeSnapshot](b, fmt.Sprintf(snapshotJS, probeJSON))
		where := fmt.Sprintf("%s %s (zh=%v)", b.name, s.URL, w.zh)
		if resp.status != 200 || !strings.HasPrefix(s.URL, e.ConsoleURL+"/") {
			t.Fatalf("%s: not on the console: %d", where, resp.status)
		}
		// 1. Both logos are real, loaded images.
		if p := s.Partner; p == nil || p.Tag != "img" || p.Src != w.logoURL || !p.Complete || p.Natural != pngWidth(t, w.logo) {
			t.Errorf("%s: partner logo %+v, want %s loaded with width %d", where, p, w.logoURL, pngWidth(t, w.logo))
		}
		cloudAlt := up.CloudLogo.AltEN
		if w.zh {
			cloudAlt = up.CloudLogo.AltZH
		}
		if c := s.Cloud; c == nil || c.Tag != "img" || c.Src != democonsole.LogoPath || !c.Complete || c.Natural <= 0 || c.Alt != cloudAlt {
			t.Errorf("%s: cloud logo %+v, want %s loaded, alt %q", where, c, democonsole.LogoPath, cloudAlt)
		}
		// 2. Links and labels of the locale.
		lang, link := "en", d.Brand.LinkEN
		name := func(it branding.Item) string { return it.NameEN }
		if w.zh {
			lang, link = "zh-CN", d.Brand.LinkZH
			name = func(it branding.Item) string { return it.NameZH }
		}
		if s.Lang != lang || s.LogoHref != link {
			t.Errorf("%s: chrome lang %q, logo link %q; want %q, %q", where, s.Lang, s.LogoHref, lang, link)
		}
		for _, l := range []struct {
			what  string
			got   []linkInfo
			items []branding.Item
		}{{"promotions", s.Promo, d.Promotions}, {"custom menu", s.Custom, d.Menus.Custom}} {
			var wantLinks []linkInfo
			for _, it := range l.items {
				wantLinks = append(wantLinks, linkInfo{Text: name(it), Href: it.Link})
			}
			if fmt.Sprint(l.got) != fmt.Sprint(wantLinks) || len(wantLinks) == 0 {
				t.Errorf("%s: %s %v, want %v", where, l.what, l.got, wantLinks)
			}
		}
		for sel, show := range shown {
			if got := s.Display[sel]; got == "missing" || (got == "none") == show {
				t.Errorf("%s: %s display %q, want shown=%v", where, sel, got, show)
			}
		}
		// 3. Styled under the console's nonce-based policy, nothing blocked.
		m := regexp.MustCompile(`style-src 'self' 'nonce-([^']+)'`).FindStringSubmatch(resp.csp)
		if m == nil || !strings.Contains(resp.csp, "script-src 'nonce-"+m[1]+"'") || !strings.Contains(resp.csp, "img-src 'self'") {
			t.Fatalf("%s: not the console's nonce-based policy: %q", where, resp.csp)
		}
		nonce := m[1]
		if s.CriticalNonce != nonce || s.StylesheetNonce != nonce || s.ConsoleStyleNonce != nonce || s.ConsoleScriptNonce != nonce {
			t.Errorf("%s: nonces critical %q, stylesheet %q, console style %q, console script %q; policy's %q",
				where, s.CriticalNonce, s.StylesheetNonce, s.ConsoleStyleNonce, s.ConsoleScriptNonce, nonce)
		}
		if s.ChromeBG != navRGB || s.NavBG != navRGB || s.ChromeDisplay != "flex" || s.StylesheetRules <= 0 {
			t.Errorf("%s: chrome background %q display %q, console nav %q, stylesheet rules %d; want %q, flex, %q, >0",
				where, s.ChromeBG, s.ChromeDisplay, s.NavBG, s.StylesheetRules, navRGB, navRGB)
		}
		if s.ConsoleScript != "ready" {
			t.Errorf("%s: the console's own nonce'd script did not run (%q)", where, s.ConsoleScript)
		}
		if s.Violations == nil {
			t.Errorf("%s: the CSP violation recorder did not run", where)
		} else if len(s.Violations) > 0 {
			t.Errorf("%s: CSP violations: %q", where, s.Violations)
		}
		if l := b.cspLog(); len(l) > 0 {
			t.Errorf("%s: CSP messages in the browser log: %q", where, l)
		}
		// 4. The ribbon marks a preview, and only a preview.
		switch rb := s.Ribbon; {
		case w.ribbon && (rb == nil || rb.Display == "none" || rb.Visibility != "visible" || rb.Width <= 0 || rb.Height <= 0 || strings.TrimSpace(rb.Text) == ""):
			t.Errorf("%s: preview ribbon not visible: %+v", where, rb)
		case !w.ribbon && rb != nil:
			t.Errorf("%s: a preview ribbon on a customer's page: %+v", where, rb)
		}
		return s
	}

	// The customer signs in in the browser (the IdP logs cust-1 in).
	customer := newBrowserTab(t, browser, "customer")
	customer.acceptLanguage("en-US,en;q=0.9")
	e.IDP.SetAutoLogin("cust-1")
	resp := customer.open(e.ConsoleURL + "/")
	e.IDP.SetAutoLogin("")
	live := want{logo: logoA, logoURL: urlA, brandDoc: docA}
	s := check(customer, info(resp), live)
	if s.User != "Alice" {
		t.Errorf("customer's account menu shows %q", s.User)
	}
	enNonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(info(resp).csp)[1]

	// The locale: Accept-Language, then the livery_lang cookie over it.
	customer.acceptLanguage("zh-CN,zh;q=0.9,en;q=0.5")
	resp = customer.open(e.ConsoleURL + "/")
	zh := live
	zh.zh = true
	check(customer, info(resp), zh)
	if strings.Contains(info(resp).csp, "'nonce-"+enNonce+"'") {
		t.Error("the console reused a CSP nonce across responses")
	}
	customer.setCookie(e.ConsoleURL, "livery_lang", "en")
	check(customer, info(customer.open(e.ConsoleURL+"/")), live)
	customer.acceptLanguage("en")
	customer.setCookie(e.ConsoleURL, "livery_lang", "zh")
	check(customer, info(customer.open(e.ConsoleURL+"/")), zh)
	customer.setCookie(e.ConsoleURL, "livery_lang", "en")

	// Livery's own error page on the console host carries the tenant's
	// chrome (logo loaded, nav colour from the stylesheet), in the chosen
	// language, with the request id, and its CSP blocks nothing.
	customer.setCookie(e.ConsoleURL, "livery_lang", "zh")
	resp = customer.open(e.ConsoleURL + "/_livery/no-such-page")
	var live1 branding.Document
	json.Unmarshal([]byte(docA), &live1)
	ep := evalJS[struct {
		Chrome, Logo bool
		BG, Lang     string
		Request      string
		Violations   []string
	}](customer, `(() => { const c = document.querySelector("#livery-chrome"), l = document.querySelector("#livery-logo-partner");
  const r = document.querySelector("#livery-page-request code");
  return { Chrome: !!c, Logo: !!(l && l.complete && l.naturalWidth > 0), BG: c ? getComputedStyle(c).backgroundColor : "",
    Lang: document.documentElement.lang, Request: r ? r.textContent : "", Violations: window.__liveryCSP || [] }; })()`)
	if resp.Status != http.StatusNotFound || !ep.Chrome || !ep.Logo || ep.Lang != "zh-CN" || ep.Request == "" ||
		ep.Request != respHeader(resp, "X-Request-Id") || len(ep.Violations) != 0 || len(customer.cspLog()) != 0 ||
		(live1.Brand.NavColor != "" && ep.BG != cssRGB(t, live1.Brand.NavColor)) {
		t.Errorf("error page not branded: status %d, %+v, CSP log %v", resp.Status, ep, customer.cspLog())
	}
	customer.setCookie(e.ConsoleURL, "livery_lang", "en")

	// The operator signs in to the admin API in a browser of their own
	// and follows the preview link of the pending submission.
	operator := newBrowserTab(t, browser, "operator")
	operator.acceptLanguage("en")
	e.IDP.SetAutoLogin("op-1")
	resp = operator.open(e.APIURL + "/admin/login?rd=" + url.QueryEscape("/admin/v1/tenants/acme/branding/preview?source=pending"))
	e.IDP.SetAutoLogin("")
	s = check(operator, info(resp), want{logo: logoB, logoURL: urlB, brandDoc: docB, ribbon: true})
	if strings.TrimSpace(s.Ribbon.Text) != "Preview" {
		t.Errorf("ribbon text %q", s.Ribbon.Text)
	}
	// Meanwhile the customer still sees version 1, without a ribbon.
	check(customer, info(customer.open(e.ConsoleURL+"/")), live)
	// And the operator's preview persists across pages of the console.
	check(operator, info(operator.open(e.ConsoleURL+"/")), want{logo: logoB, logoURL: urlB, brandDoc: docB, ribbon: true})

	// The violation detectors work: an inline style without the nonce is
	// blocked and reported by both.
	evalJS[bool](customer, `(() => { const s = document.createElement("style"); s.textContent = "body{color:red}"; document.head.appendChild(s); return true; })()`)
	if !customer.waitFor(`window.__liveryCSP.length > 0`, 3*time.Second) {
		t.Error("a blocked inline style raised no securitypolicyviolation event: the recorder is blind")
	}
	for deadline := time.Now().Add(3 * time.Second); len(customer.cspLog()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Error("a blocked inline style left no CSP message in the browser log: the log check is blind")
			break
		}
	}
	t.Logf("browser test ran in %s", time.Since(start).Round(time.Millisecond))
}

// uploadLogo uploads a PNG and returns its asset JSON and its URL.
func uploadLogo(e *gatewaytest.BrandEnv, t *testing.T, token string, data []byte) (asset, assetURL string) {
	t.Helper()
	r := e.Upload(t, "acme", token, data)
	var up struct {
		Asset json.RawMessage `json:"asset"`
		URL   string          `json:"url"`
	}
	if r.Status != http.StatusCreated || json.Unmarshal([]byte(r.Body), &up) != nil || !strings.HasPrefix(up.URL, "/_livery/assets/") {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	return string(up.Asset), up.URL
}

// submitAndApprove submits the draft (partner admin) and approves it
// (operator).
func submitAndApprove(e *gatewaytest.BrandEnv, t *testing.T, pa, op string) {
	t.Helper()
	r := e.API(t, "POST", "/admin/v1/tenants/acme/branding/submit", pa, "")
	var sub struct{ ID string }
	if r.Status != http.StatusCreated || json.Unmarshal([]byte(r.Body), &sub) != nil || sub.ID == "" {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "POST", "/admin/v1/reviews/acme/approve", op, `{"submission_id":"`+sub.ID+`"}`, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
}

// cssRGB turns #rrggbb into the computed-style form "rgb(r, g, b)".
func cssRGB(t *testing.T, hex string) string {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil || len(hex) != 7 {
		t.Fatalf("colour %q", hex)
	}
	return fmt.Sprintf("rgb(%d, %d, %d)", v>>16, v>>8&0xff, v&0xff)
}
