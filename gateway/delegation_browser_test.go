package gateway_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	democonsole "github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/gateway/gatewaytest"
)

// seenRequest is what the upstream received: the request line and the
// identity headers.
type seenRequest struct {
	method, path          string
	account, actor, grant string
	assertion             string
}

// recordingConsole is the demo console behind a recorder of every request
// it receives (the upstream side of the journey's assertions).
type recordingConsole struct {
	next http.Handler
	mu   sync.Mutex
	seen []seenRequest
}

func (r *recordingConsole) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.seen = append(r.seen, seenRequest{method: req.Method, path: req.URL.Path, account: req.Header.Get("X-Livery-Account-Id"),
		actor: req.Header.Get("X-Livery-Actor"), grant: req.Header.Get("X-Livery-Grant"), assertion: req.Header.Get("X-Livery-Assertion")})
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

func (r *recordingConsole) requests() []seenRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seenRequest(nil), r.seen...)
}

// TestBrowserDelegationJourney is delegated operations end to end in
// headless Chromium, two people in two browser contexts. The partner
// admin of acme accepts the agreement and requests a grant (resources)
// for the resale customer X on its customer page; the customer signs in
// to acme's console and approves it in "My partners"; the partner admin
// clicks "Operate", confirms, and lands in the customer's console under
// the purple banner (its text read and its colour taken from a
// screenshot); a resources page reaches the demo console with the actor
// headers and the act claim; a marketplace order is refused with the
// branded page saying no scope allows it, and never reaches the console;
// the customer sees both in the activity log and exports it as CSV;
// "Switch back" returns to the partner UI; the partner admin switches in
// again, the customer revokes, and the staff's next request ends the
// delegated session with the branded "ended" page. My partners, the
// activity log, the revoke confirmation and the banner page are checked
// with axe-core and for CSP violations.
func TestBrowserDelegationJourney(t *testing.T) {
	start := time.Now()
	chromiumPath(t)
	axe := axeSource(t)
	up := &recordingConsole{next: democonsole.New(democonsole.Options{Name: "Demo Cloud", Logger: slog.New(slog.DiscardHandler)})}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	upstream, _ := url.Parse(srv.URL)
	de := gatewaytest.NewDelegationUIEnv(t, upstream, browserUpstream(t))
	e := de.UIEnv
	browser := startBrowser(t, 60*time.Second)
	x := e.Cust["X"]
	customerPage := "/ui/t/acme/customers/" + x.DomainID

	// The partner admin: agreement, then the request.
	pa := newUITab(t, browser, e, axe, "partner admin")
	pa.acceptLanguage("en")
	pa.signIn("pa-acme")
	pa.openChecked(customerPage, "en")
	pa.mustSee("customer page", "Delegated operations", delegationAgreementVersion(t, pa))
	pa.click("accepting the agreement", `form[action="/ui/t/acme/delegation-agreement"] button[type=submit]`)
	pa.do("choosing the scope", chromedp.Click(`#scope-resources`, chromedp.NodeVisible))
	pa.typeInto(`#reason`, "Migrate the web servers / 迁移网站服务器")
	pa.click("requesting", chromedp.CSS(`form[action="/ui/t/acme/customers/`+x.DomainID+`/delegations"] button[type=submit]`))
	pa.mustSee("after the request", "Migrate the web servers")
	if !evalJS[bool](pa.browserTab, `!!document.querySelector('form[action$="/withdraw"]')`) {
		t.Fatalf("no pending request on the customer page: %s", pa.text("#delegation"))
	}

	// The customer approves in My partners.
	cust := newUITab(t, browser, e, axe, "customer")
	cust.acceptLanguage("en")
	cust.open(e.ConsoleURL + "/_livery/partners")
	if !cust.waitFor(`!!document.querySelector("input[name=username]")`, 5*time.Second) {
		t.Fatalf("customer: no IdP login form at %s", cust.location())
	}
	cust.typeInto(`input[name=username]`, "cust-1")
	cust.typeInto(`input[name=password]`, gatewaytest.UIPassword)
	cust.click("customer signing in", `form button[type=submit]`)
	if !strings.HasPrefix(cust.location(), e.ConsoleURL+"/_livery/partners") {
		t.Fatalf("customer signed in at %s, not My partners", cust.location())
	}
	cust.mustSee("My partners", "Acme", "Migrate the web servers", "pa-acme")
	cust.check("My partners with a pending request")
	cust.click("approving", `#lp-approve`)
	if cust.text("#lp-flash") == "" || cust.text("#lp-active .lp-card") == "" {
		t.Fatalf("no confirmation or active grant after approving: %s", cust.text("main"))
	}
	cust.check("My partners with an active grant")

	// The partner admin operates the console.
	switchIn := func(what string) {
		t.Helper()
		pa.open(e.UIURL(customerPage + "?lang=en"))
		pa.click(what+": operate", `#delegation a[href$="/operate"]`)
		pa.check("operate confirmation")
		pa.click(what+": confirming", `main form button.primary`)
		if !strings.HasPrefix(pa.location(), e.ConsoleURL+"/") {
			t.Fatalf("%s: landed on %s, not the customer's console: %s", what, pa.location(), pa.text("body"))
		}
	}
	switchIn("switching in")
	banner := pa.text("#livery-delegation-banner")
	for _, w := range []string{"acme_x_corp", "Acme", "Pat Admin", "Switch back", "min"} {
		if !strings.Contains(banner, w) {
			t.Errorf("banner %q does not name %q", banner, w)
		}
	}
	shot := func() []byte {
		ctx, cancel := pa.step()
		defer cancel()
		b, err := chromedp.Run(ctx, chromedp.Screenshot(`#livery-delegation-banner`, chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("banner screenshot: %v", err)
		}
		return b
	}
	if !mostlyPurple(t, shot()) {
		t.Errorf("the banner is not visible as the purple bar in a screenshot")
	}
	pa.check("console under the banner")
	pa.setCookie(e.ConsoleURL, "livery_lang", "zh")
	pa.open(e.ConsoleURL + "/")
	if b := pa.text("#livery-delegation-banner"); !strings.Contains(b, "正在以") || !strings.Contains(b, "acme_x_corp") || !strings.Contains(b, "切换角色") {
		t.Errorf("zh banner %q", b)
	}
	pa.setCookie(e.ConsoleURL, "livery_lang", "en")

	// An allowed action reaches the console with the actor.
	if r := pa.open(e.ConsoleURL + "/resources"); r == nil || r.Status != 200 || pa.text("#livery-delegation-banner") == "" {
		t.Fatalf("resources under the grant: %v %s", info(r), pa.text("body"))
	}
	var resources *seenRequest
	for _, s := range up.requests() {
		if s.method == "GET" && s.path == "/resources" {
			resources = &s
		}
	}
	g := activeGrant(t, de)
	if resources == nil || resources.account != x.DomainID || resources.actor != "pa-acme" || resources.grant != g {
		t.Fatalf("the console did not get the delegated request with the actor: %+v", resources)
	}
	if act := actClaim(t, resources.assertion); act.Sub != "pa-acme" || act.Grant != g {
		t.Fatalf("act claim %+v", act)
	}

	// A marketplace order: refused, branded, never forwarded.
	pa.markStale()
	pa.do("ordering", chromedp.Evaluate[chromedp.Void](`(() => { const f = document.createElement("form"); f.method = "post";
	  f.action = "/marketplace/orders"; const i = document.createElement("input"); i.type = "hidden"; i.name = "sku"; i.value = "ecs.large";
	  f.appendChild(i); document.body.appendChild(f); f.submit(); })()`))
	pa.waitFresh("ordering")
	pa.mustSee("order refused", "Not allowed under this delegation", "never allowed")
	pa.noCSPViolations("order refused")
	for _, s := range up.requests() {
		if strings.HasPrefix(s.path, "/marketplace") {
			t.Fatalf("the marketplace order reached the console: %+v", s)
		}
	}

	// The customer's activity log and its CSV.
	cust.open(e.ConsoleURL + "/_livery/partners/activity")
	log := cust.text("#lp-actions")
	if !strings.Contains(log, "/resources") || !strings.Contains(log, "/marketplace/orders") || !strings.Contains(log, "not allowed under any delegated scope") {
		t.Fatalf("activity log: %s", cust.text("main"))
	}
	cust.check("activity log")
	csv := customerGet(t, cust, e.ConsoleURL+evalJS[string](cust.browserTab, `new URL(document.querySelector("#lp-export").href).pathname + new URL(document.querySelector("#lp-export").href).search`))
	if !strings.Contains(csv, "/resources") || !strings.Contains(csv, "/marketplace/orders") || !strings.Contains(csv, "pa-acme") {
		t.Fatalf("CSV export:\n%s", csv)
	}

	// Switch back returns to the partner UI; then in again.
	pa.open(e.ConsoleURL + "/resources")
	pa.click("switching back", `#livery-delegation-banner button`)
	if loc := pa.location(); !strings.HasPrefix(loc, e.UIURL(customerPage)) {
		t.Fatalf("switch back landed on %s", loc)
	}
	pa.mustSee("partner UI after switching back", "Delegated operations")
	switchIn("switching in again")

	// The customer revokes; the staff's next request ends the session.
	cust.open(e.ConsoleURL + "/_livery/partners")
	cust.click("revoke", `#lp-revoke`)
	cust.check("revoke confirmation")
	cust.click("confirming the revoke", `#lp-revoke-confirm`)
	if cust.text("#lp-active .lp-card") != "" || !strings.Contains(cust.text("#lp-past"), "evoked") {
		t.Fatalf("after revoking: %s", cust.text("main"))
	}
	before := len(up.requests())
	var ended bool
	for deadline := time.Now().Add(time.Second); !ended && time.Now().Before(deadline); {
		r := pa.open(e.ConsoleURL + "/resources")
		ended = r != nil && r.Status == http.StatusForbidden && strings.Contains(pa.text("body"), "Delegated operation ended")
	}
	if !ended {
		t.Fatalf("the staff's request after the revocation: %s", pa.text("body"))
	}
	if back := evalJS[string](pa.browserTab, `(document.querySelector('a[href*="/ui/t/acme/customers/"]') || {}).href || ""`); back != e.UIURL(customerPage) {
		t.Errorf("ended page links back to %q", back)
	}
	if n := len(up.requests()); n != before {
		t.Errorf("requests after the revocation reached the console: %+v", up.requests()[before:])
	}
	if r := pa.open(e.ConsoleURL + "/"); r == nil || r.Status == 200 && pa.text("#livery-delegation-banner") != "" {
		t.Errorf("the delegated session lives on after the ended page: %v", info(r))
	}
	t.Logf("delegation journey in %v", time.Since(start).Round(time.Millisecond))
}

// delegationAgreementVersion is the agreement version the customer page
// names.
func delegationAgreementVersion(t *testing.T, b *uiTab) string {
	t.Helper()
	v := evalJS[string](b.browserTab, `(document.querySelector('form[action="/ui/t/acme/delegation-agreement"] input[name=version]') || {}).value || ""`)
	if v == "" {
		t.Fatalf("no agreement form on the customer page: %s", b.text("#delegation"))
	}
	return v
}

// activeGrant is acme X's active grant id, from the admin API.
func activeGrant(t *testing.T, e *gatewaytest.DelegationUIEnv) string {
	t.Helper()
	r := e.API(t, "GET", "/admin/v1/tenants/acme/delegations?customer="+e.Cust["X"].DomainID+"&state=approved", e.Token(t, "pa-acme"), "")
	var out struct {
		Grants []struct{ ID string } `json:"grants"`
	}
	gatewaytest.DecodeJSON(t, r.Body, &out)
	if len(out.Grants) != 1 {
		t.Fatalf("active grants: %d %s", r.Status, r.Body)
	}
	return out.Grants[0].ID
}

// actClaim decodes the act claim of an assertion (its signature is the
// assertion package's tests' business).
func actClaim(t *testing.T, jwt string) (act struct {
	Sub   string `json:"sub"`
	Grant string `json:"livery_grant"`
}) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q", jwt)
	}
	var claims struct {
		Act *struct {
			Sub   string `json:"sub"`
			Grant string `json:"livery_grant"`
		} `json:"act"`
	}
	if err := json.Unmarshal([]byte(gatewaytest.DecodeSeg(t, parts[1])), &claims); err != nil || claims.Act == nil {
		t.Fatalf("assertion claims %s: %v", gatewaytest.DecodeSeg(t, parts[1]), err)
	}
	act.Sub, act.Grant = claims.Act.Sub, claims.Act.Grant
	return act
}

// customerGet fetches u with the cookies of b's browser context (a
// download, as the browser would make it).
func customerGet(t *testing.T, b *uiTab, u string) string {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	if err != nil {
		t.Fatal(err)
	}
	cookies := res.Cookies
	req, _ := http.NewRequest("GET", u, nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV %s: %d %v %s", u, resp.StatusCode, resp.Header, body)
	}
	return string(body)
}

// mostlyPurple reports whether most pixels of a PNG are the banner's
// purple (#6d28d9, its text and button aside).
func mostlyPurple(t *testing.T, data []byte) bool {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var purple, all int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			all++
			if near(r>>8, 0x6d) && near(g>>8, 0x28) && near(bl>>8, 0xd9) {
				purple++
			}
		}
	}
	return all > 0 && b.Dx() > 600 && purple*2 > all
}

func near(v uint32, want int) bool { d := int(v) - want; return d > -12 && d < 12 }
