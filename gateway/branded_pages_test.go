package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/gatewaytest"
)

type fixedLive map[string]*workflow.Version

func (l fixedLive) Get(tenant string) (*workflow.Version, bool) { v, ok := l[tenant]; return v, ok }

// TestBrandedSignInPages: the pages the sign-in door shows on a console
// host — signed out, and "not associated with this partner" — carry the
// tenant's chrome in the visitor's language (the two doors meet only
// through the route table's page function).
func TestBrandedSignInPages(t *testing.T) {
	doc := branding.Document{Brand: branding.Brand{NavColor: "#123456", TitleSuffixZH: "演示伙伴", TitleSuffixEN: "Demo Partner"}}
	ch := branded.NewChrome(fixedLive{"demo": {Number: 1, Doc: doc}}, render.DefaultUpstream())
	e := gatewaytest.NewIdentityEnv(t, false)
	g := e.Start(t, nil, func(o *gatewaytest.Options) { o.Branding = &gatewaytest.BrandingOptions{Chrome: ch} })

	// A stranger (no account mapping): 403 not_associated, branded, zh.
	c := gatewaytest.Browser(t)
	e.IDP.SetAutoLogin("stranger")
	resp, body := gatewaytest.Get(t, c, g.ConsoleURL+"/", "Accept-Language", "zh-CN")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("stranger: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{`id="livery-chrome"`, "此账号未关联到演示", "禁止访问 – 演示伙伴", "/_livery/logout", "请求编号"} {
		if !strings.Contains(body, want) {
			t.Errorf("not-associated page lacks %q:\n%s", want, body)
		}
	}

	// Signed in, then out: the signed-out page in the tenant's chrome.
	c = gatewaytest.Browser(t)
	if resp, body := g.SignIn(t, e, c, "user-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	resp, body = gatewaytest.Get(t, c, g.ConsoleURL+"/_livery/logout", "Accept-Language", "en")
	if resp.Request.URL.Path != "/_livery/logged-out" || resp.StatusCode != http.StatusOK {
		t.Fatalf("logout ended at %s: %d", resp.Request.URL, resp.StatusCode)
	}
	for _, want := range []string{`id="livery-chrome"`, "You are signed out – Demo Partner", "#123456", `href="/"`, "您已退出登录"} {
		if !strings.Contains(body, want) {
			t.Errorf("signed-out page lacks %q:\n%s", want, body)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("signed-out page CSP %q", csp)
	}
}
