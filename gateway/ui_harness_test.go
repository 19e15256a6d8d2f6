package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	democonsole "github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/gateway/gatewaytest"
)

// The staff UI's browser journeys: helpers to sign in through the IdP's
// login form, click, type and wait for the next page, and to check each
// page with axe-core and for Content-Security-Policy violations.

// newUIEnv is a UIEnv in front of the real demo console.
func newUIEnv(t *testing.T, extra ...func(e *gatewaytest.StaffEnv, o *gatewaytest.Options)) *gatewaytest.UIEnv {
	t.Helper()
	srv := httptest.NewServer(democonsole.New(democonsole.Options{Name: "Demo Cloud", Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	upstream, _ := url.Parse(srv.URL)
	return gatewaytest.NewUIEnv(t, upstream, browserUpstream(t), extra...)
}

// axeSource is axe-core's axe.min.js ($LIVERY_AXE, which scripts/test.sh
// installs from the npm registry). Without it the test fails: an
// accessibility check that skips silently proves nothing.
func axeSource(t testing.TB) string {
	t.Helper()
	p := os.Getenv("LIVERY_AXE")
	if p == "" {
		t.Fatal("the staff UI's browser tests need axe-core: LIVERY_AXE is unset. Run ./scripts/test.sh, which installs it " +
			"(npm install axe-core into the cache), or set LIVERY_AXE to an axe.min.js.")
	}
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b[:min(len(b), 200)]), "axe") {
		t.Fatalf("LIVERY_AXE=%q is not axe.min.js: %v", p, err)
	}
	return string(b)
}

// uiTab is a browser tab of one staff member (or customer).
type uiTab struct {
	*browserTab
	e   *gatewaytest.UIEnv
	axe string
}

// newUITab opens a tab in a browser context of its own (its own cookies).
func newUITab(t *testing.T, browser context.Context, e *gatewaytest.UIEnv, axe, name string) *uiTab {
	return &uiTab{browserTab: newBrowserTab(t, browser, name), e: e, axe: axe}
}

// do runs chromedp actions as one step.
func (b *uiTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v (at %s)", b.name, what, err, b.location())
	}
}

func (b *uiTab) location() string {
	ctx, cancel := b.step()
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	return s
}

// sel is a CSS selector for the element whose attribute attr is v (ids
// and names of the editor are JSON paths: "promotions[0].link").
func sel(attr, v string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[%s=%q]`, attr, v))
}

// markStale marks the current document so that waitFresh can tell the
// next one from it (a navigation or ui.js's document.write).
func (b *uiTab) markStale() {
	b.t.Helper()
	evalJS[bool](b.browserTab, `document.documentElement.setAttribute("data-test-stale", "1"), window.__liveryCSP = [], true`)
}

// waitFresh waits for the document after markStale to be loaded, failing
// the test after the step timeout.
func (b *uiTab) waitFresh(what string) {
	b.t.Helper()
	const fresh = `!document.documentElement.hasAttribute("data-test-stale") && document.readyState === "complete"`
	for deadline := time.Now().Add(8 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fresh)) // errors while navigating: try again
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: %s: no new page (at %s): %v; CSP: %q", b.name, what, b.location(), err, b.cspLog())
		}
	}
}

// click clicks the element and waits for the page it leads to.
func (b *uiTab) click(what string, s chromedp.CSS) {
	b.t.Helper()
	b.mu.Lock()
	b.log = nil
	b.mu.Unlock()
	b.markStale()
	b.do(what, chromedp.Click(s, chromedp.NodeVisible))
	b.waitFresh(what)
}

// typeInto replaces the field's value by typing text.
func (b *uiTab) typeInto(s chromedp.CSS, text string) {
	b.t.Helper()
	b.do("typing into "+string(s), chromedp.WaitVisible(s),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).value = ""`, jsonString(string(s)))),
		chromedp.SendKeys(s, text, chromedp.NodeVisible))
}

// text is the visible text of the first element matching css ("" when
// there is none).
func (b *uiTab) text(css string) string {
	b.t.Helper()
	return evalJS[string](b.browserTab, fmt.Sprintf(`(() => { const el = document.querySelector(%q); return el ? el.innerText : ""; })()`, css))
}

// mustSee fails the test unless the page's text contains every want.
func (b *uiTab) mustSee(where string, want ...string) {
	b.t.Helper()
	body := b.text("body")
	for _, w := range want {
		if !strings.Contains(body, w) {
			b.t.Fatalf("%s: %s: %q is not on the page %s:\n%s", b.name, where, w, b.location(), body)
		}
	}
}

// mustFlash fails the test unless the page is the success of a form: the
// redirect's done=key and its message shown (the catalog's wording may
// change; the key does not).
func (b *uiTab) mustFlash(where, key string) {
	b.t.Helper()
	loc := b.location()
	if !strings.Contains(loc, "done="+key) || b.text(".flash.ok") == "" {
		b.t.Fatalf("%s: %s: not the success %s (at %s): %s", b.name, where, key, loc, b.text("main"))
	}
}

// signIn signs the staff member user in the way a person does: the UI
// sends them to the IdP's login form, they type their name and password,
// and the callback brings them back to the UI.
func (b *uiTab) signIn(user string) {
	b.t.Helper()
	b.open(b.e.UIURL("/ui/"))
	if !b.waitFor(`!!document.querySelector("input[name=username]")`, 5*time.Second) {
		b.t.Fatalf("%s: no IdP login form at %s", b.name, b.location())
	}
	b.typeInto(`input[name=username]`, user)
	b.typeInto(`input[name=password]`, gatewaytest.UIPassword)
	b.click("signing in", `form button[type=submit]`)
	if loc := b.location(); loc != b.e.UIURL("/ui/") {
		b.t.Fatalf("%s: signed in at %s, not the UI's home", b.name, loc)
	}
}

// axeViolation is one axe-core rule that failed.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeResult is what axeRunJS answers: the violations, and how many rules
// passed (none: axe did not really run).
type axeResult struct {
	Violations []axeViolation `json:"violations"`
	Passes     int            `json:"passes"`
}

const axeRunJS = `axe.run(document, {iframes: false, resultTypes: ["violations"]}).then((r) => ({
  passes: r.passes.length,
  violations: r.violations.map((v) => ({
    id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.slice(0, 6).map((n) => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ")),
  })),
}))`

// check runs axe-core on the current page (injected from DevTools, where
// the page's CSP does not apply) and fails the test on any serious or
// critical violation, logging moderate and minor ones; and fails on any
// CSP violation of the page (the recorder's events and the browser log).
func (b *uiTab) check(where string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object" || (function () {`+b.axe+"\n})() || true")); err != nil {
		b.t.Fatalf("%s: injecting axe-core on %s: %v", b.name, where, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil || res.Passes == 0 {
		b.t.Fatalf("%s: axe.run on %s: %v (%d rules passed)", b.name, where, err, res.Passes)
	}
	for _, v := range res.Violations {
		msg := fmt.Sprintf("%s: axe %s (%s) on %s [%s]: %s\n    %s", b.name, v.ID, v.Impact, where, b.location(), v.Help, strings.Join(v.Nodes, "\n    "))
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
	b.noCSPViolations(where)
}

// noCSPViolations fails the test on CSP violations of the current page.
func (b *uiTab) noCSPViolations(where string) {
	b.t.Helper()
	got := evalJS[[]string](b.browserTab, `window.__liveryCSP || ["the CSP recorder did not run"]`)
	got = append(got, b.cspLog()...)
	if len(got) > 0 {
		b.t.Errorf("%s: CSP violations on %s [%s]: %q", b.name, where, b.location(), got)
	}
}

// openChecked opens a UI path in lang and checks it (axe, CSP).
func (b *uiTab) openChecked(path, lang string) {
	b.t.Helper()
	u := path + map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")] + "lang=" + lang
	resp := b.open(b.e.UIURL(u))
	if resp == nil || resp.Status != 200 {
		b.t.Fatalf("%s: %s: %v", b.name, u, info(resp))
	}
	if csp := respHeader(resp, "Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		b.t.Errorf("%s: %s: CSP %q", b.name, u, csp)
	}
	b.check(u)
	// Every form of the UI that changes something carries the CSRF token.
	if bad := evalJS[[]string](b.browserTab, `Array.from(document.forms).filter((f) => f.method === "post" &&
	  new URL(f.action).pathname.startsWith("/ui/") && !(f.querySelector("input[name=_csrf]") || {}).value).map((f) => f.action)`); len(bad) > 0 {
		b.t.Errorf("%s: %s: forms without a CSRF token: %q", b.name, u, bad)
	}
}

// viewport sets the tab's viewport width (mobile at 390).
func (b *uiTab) viewport(w, h int64) {
	b.t.Helper()
	b.do("viewport", chromedp.EmulateViewport(w, h))
}

// logoFile writes a small PNG for the file input and returns its path.
func logoFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonString quotes s for JavaScript.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
