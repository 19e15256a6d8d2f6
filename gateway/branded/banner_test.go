package branded_test

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/tenants"
)

// TestDelegationBannerInChrome: a delegated request's page gets the
// banner before the header bar, naming the customer, the partner's
// display name and the staff member; other requests get none.
func TestDelegationBannerInChrome(t *testing.T) {
	ch := branded.NewChrome(liveDocs{"demo": {Number: 3, Doc: pagesDoc()}}, render.DefaultUpstream())
	ch.Names = func(tenant, locale string) string { return map[string]string{"zh": "演示", "en": "Demo"}[locale] }
	out := &exchange.Outbound{Request: &fasthttp.Request{}, Tenant: &tenants.Tenant{ID: "demo"}, Lang: "en"}
	f, _, ok := ch.Chrome(out, nil)
	if !ok || strings.Contains(string(f.Body), "livery-delegation-banner") {
		t.Fatalf("banner without delegation (ok=%v)", ok)
	}
	out.Delegation = &exchange.Delegation{Grant: "g", Actor: "pa-demo", ActorName: "Pat", Partner: "demo", Customer: "Resale Co",
		Ends: time.Now().Add(30 * time.Minute), LeavePath: "/_livery/delegate/leave"}
	f, _, _ = ch.Chrome(out, nil)
	body := string(f.Body)
	i, j := strings.Index(body, `id="livery-delegation-banner"`), strings.Index(body, `id="livery-chrome"`)
	if i < 0 || j < i {
		t.Fatalf("banner missing or after the bar: %s", body)
	}
	for _, w := range []string{"Operating <strong>Resale Co</strong> for Demo as <strong>Pat</strong>", "30 min left", `action="/_livery/delegate/leave"`, "切换角色 / Switch back"} {
		if !strings.Contains(body, w) {
			t.Errorf("banner lacks %q: %s", w, body[:j])
		}
	}
}

// TestDelegationBannerWithoutBranding: a tenant without an approved
// version serves its customers' pages unbranded, but a delegated session
// still gets the banner, in the default chrome, and its stylesheet is
// served (by any instance: it renders the same).
func TestDelegationBannerWithoutBranding(t *testing.T) {
	ch := branded.NewChrome(liveDocs{}, render.DefaultUpstream())
	out := &exchange.Outbound{Request: &fasthttp.Request{}, Tenant: &tenants.Tenant{ID: "demo"}, Lang: "en"}
	if _, _, ok := ch.Chrome(out, nil); ok {
		t.Fatal("an unbranded tenant's customer page got a chrome")
	}
	out.Delegation = &exchange.Delegation{Grant: "g", Actor: "pa-demo", Partner: "demo", Customer: "Resale Co",
		Ends: time.Now().Add(30 * time.Minute), LeavePath: "/_livery/delegate/leave"}
	f, _, ok := ch.Chrome(out, nil)
	if !ok || !strings.Contains(string(f.Body), `id="livery-delegation-banner"`) || !strings.Contains(string(f.Body), "Resale Co") {
		t.Fatalf("delegated page without branding: ok=%v %s", ok, f.Body)
	}
	head := string(f.Head)
	i := strings.Index(head, `href="`)
	href := head[i+len(`href="`):]
	href = href[:strings.Index(href, `"`)]
	other := branded.NewChrome(liveDocs{}, render.DefaultUpstream()) // another instance
	name := href[strings.LastIndex(href, "/")+1:]
	if css, ok := other.Stylesheet("demo", name); !ok || !strings.Contains(string(css), "#livery-delegation-banner") {
		t.Errorf("the default chrome's stylesheet %s is not served by another instance (ok=%v)", href, ok)
	}
}
