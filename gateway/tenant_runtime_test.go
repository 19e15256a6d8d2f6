package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// swappable is a tenant table the test swaps, as tenants/live does.
type swappable struct {
	p atomic.Pointer[tenants.Registry]
}

func (s *swappable) ByHost(h string) (*tenants.Tenant, bool) { return s.p.Load().ByHost(h) }
func (s *swappable) ByID(id string) (*tenants.Tenant, bool)  { return s.p.Load().ByID(id) }
func (s *swappable) All() []*tenants.Tenant                  { return s.p.Load().All() }

// change swaps in a table where tenant id is changed by fn.
func (s *swappable) change(t *testing.T, id string, fn func(*tenants.Tenant)) {
	t.Helper()
	var ts []tenants.Tenant
	for _, tn := range s.All() {
		c := *tn
		if c.ID == id {
			fn(&c)
		}
		ts = append(ts, c)
	}
	reg, err := tenants.NewRegistry(ts)
	if err != nil {
		t.Fatal(err)
	}
	s.p.Store(reg)
}

func startSwappable(t *testing.T, e *gatewaytest.IdentityEnv, opts ...gatewaytest.Option) (*gatewaytest.IdentityGateway, *swappable) {
	tbl := &swappable{}
	g := e.Start(t, nil, append(opts, func(o *gateway.Options) {
		tbl.p.Store(o.Tenants.(*tenants.Registry))
		o.Tenants = tbl
	})...)
	return g, tbl
}

// A suspended tenant's console is one page, in its chrome, in the
// visitor's language: every path (sign-in included) is 403
// service_suspended, but the page's own assets load; resumed, the same
// session works again.
func TestSuspendedTenantConsole(t *testing.T) {
	doc := branding.Document{Brand: branding.Brand{NavColor: "#123456", TitleSuffixZH: "演示伙伴", TitleSuffixEN: "Demo Partner"}}
	ch := branded.NewChrome(fixedLive{"demo": {Number: 1, Doc: doc}}, render.DefaultUpstream())
	e := gatewaytest.NewIdentityEnv(t, false)
	g, tbl := startSwappable(t, e, func(o *gatewaytest.Options) { o.Branding = &gatewaytest.BrandingOptions{Chrome: ch} })
	c := gatewaytest.Browser(t)
	if resp, body := g.SignIn(t, e, c, "user-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}

	tbl.change(t, "demo", func(tn *tenants.Tenant) { tn.Suspended = true })
	for _, path := range []string{"/", "/resources/vm", "/_livery/login", "/_livery/callback?code=x&state=y"} {
		resp, body := gatewaytest.Get(t, gatewaytest.Browser(t), g.ConsoleURL+path, "Accept-Language", "zh-CN")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="livery-chrome"`) ||
			!strings.Contains(body, "该控制台的服务已暂停") || !strings.Contains(body, "演示伙伴") {
			t.Errorf("%s while suspended: %d\n%s", path, resp.StatusCode, body)
		}
	}
	// The signed-in customer too, and an API client gets the code as JSON.
	req := gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/api/list", nil, "Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body web.ErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || body.Code != "service_suspended" {
		t.Errorf("API call while suspended: %d %+v", resp.StatusCode, body)
	}
	// What the page itself loads is not refused.
	for _, path := range branded.PagePaths {
		resp, _ := gatewaytest.Get(t, gatewaytest.Browser(t), g.ConsoleURL+path+"x")
		if resp.StatusCode == http.StatusForbidden {
			t.Errorf("%sx refused while suspended", path)
		}
	}

	tbl.change(t, "demo", func(tn *tenants.Tenant) { tn.Suspended = false })
	if resp, body := gatewaytest.Get(t, c, g.ConsoleURL+"/"); resp.StatusCode != http.StatusOK || strings.Contains(body, "suspended") {
		t.Fatalf("resumed: %d %s", resp.StatusCode, body)
	}
}

// A tenant's sign-in provider changed at runtime is used by the next
// sign-in (the relying party is rebuilt from the tenant's settings), while
// the sessions made at the old one keep working.
func TestSignInProviderChangedAtRuntime(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, false)
	g, tbl := startSwappable(t, e)
	old := gatewaytest.Browser(t)
	if resp, body := g.SignIn(t, e, old, "user-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in at the first provider: %d %s", resp.StatusCode, body)
	}

	idp2, srv2, err := idp.NewTestServer(idp.Options{Users: []idp.User{{Subject: "user-1", Name: "Alice", Password: "pw"}},
		Clients: []idp.Client{{ID: "livery-v2", Secret: "v2-secret", RedirectURIs: []string{g.ConsoleURL + "/_livery/callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv2.Close)
	idp2.SetAutoLogin("user-1")
	e.IDP.SetAutoLogin("") // the first provider would now show its login form
	tbl.change(t, "demo", func(tn *tenants.Tenant) {
		tn.SignIn = &tenants.SignIn{Issuer: idp2.Issuer(), ClientID: "livery-v2", ClientSecret: "v2-secret"}
	})
	fresh := gatewaytest.Browser(t)
	resp, body := gatewaytest.Get(t, fresh, g.ConsoleURL+"/")
	if resp.StatusCode != http.StatusOK || len(idp2.SessionsOf("user-1")) == 0 {
		t.Fatalf("sign-in after the change: %d at %s (sessions at the new provider %v)\n%.300s",
			resp.StatusCode, resp.Request.URL, idp2.SessionsOf("user-1"), body)
	}
	if resp, _ := gatewaytest.Get(t, old, g.ConsoleURL+"/"); resp.StatusCode != http.StatusOK {
		t.Errorf("a session made at the old provider: %d", resp.StatusCode)
	}
}
