package branded_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/gatewaytest"
)

// liveDocs is a LiveBranding with fixed versions.
type liveDocs map[string]*workflow.Version

func (l liveDocs) Get(tenant string) (*workflow.Version, bool) { v, ok := l[tenant]; return v, ok }

func pagesDoc() branding.Document {
	logo := branding.Asset{SHA256: strings.Repeat("ab", 32), Ext: "png", Width: 120, Height: 32}
	return branding.Document{Brand: branding.Brand{LogoZH: logo, LogoEN: logo, LinkZH: "https://partner.example/zh",
		LinkEN: "https://partner.example/en", NavColor: "#123456", TitleSuffixZH: "演示伙伴", TitleSuffixEN: "Demo Partner"}}
}

// TestBrandedPages: Livery's own pages on a tenant's console host (not
// found, upstream unreachable, signed out) carry the tenant's chrome in
// the visitor's language, with the status, what to do next and the
// request id, under a CSP without script; API clients still get JSON,
// and a tenant without live branding still gets its name.
func TestBrandedPages(t *testing.T) {
	ch := branded.NewChrome(liveDocs{"demo": {Number: 3, Doc: pagesDoc()}}, render.DefaultUpstream())
	ch.Names = func(tenant, locale string) string { return map[string]string{"zh": "演示", "en": "Demo"}[locale] }
	g := gatewaytest.StartGateway(t, "http://127.0.0.1:1", func(o *gatewaytest.Options) {
		o.Branding = &gatewaytest.BrandingOptions{Chrome: ch}
	})
	for _, tc := range []struct {
		name, host, path, accept, lang, cookie string
		status                                 int
		want                                   []string // in the page, in order-insensitive
		branded                                bool
	}{
		{"not found, en", "console.demo.test", "/_livery/nope", "text/html", "en-US", "", 404,
			[]string{`lang="en"`, "Not Found", "Check the address", "Request id", "Demo Partner", "#123456", `id="livery-page-action"`}, true},
		{"not found, zh by Accept-Language", "console.demo.test", "/_livery/nope", "text/html", "zh-CN,zh;q=0.9", "", 404,
			[]string{`lang="zh-CN"`, "未找到", "请检查地址", "请求编号", "演示伙伴", "Check the address"}, true},
		{"cookie wins over Accept-Language", "console.demo.test", "/_livery/nope", "text/html", "en", "livery_lang=zh", 404,
			[]string{`lang="zh-CN"`, "未找到"}, true},
		{"upstream unreachable", "console.demo.test", "/billing", "text/html", "en", "", 502,
			[]string{"Bad Gateway", "Try again in a few moments", "Demo support"}, true},
		{"tenant without live branding", "console.other.test", "/_livery/nope", "text/html", "en", "", 404,
			[]string{"Not Found", `id="livery-chrome"`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"Host", tc.host, "Accept", tc.accept, "Accept-Language", tc.lang}
			if tc.cookie != "" {
				h = append(h, "Cookie", tc.cookie)
			}
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+tc.path, nil, h...))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			if rid := resp.Header.Get("X-Request-Id"); rid == "" || !strings.Contains(body, rid) {
				t.Errorf("request id %q not on the page", rid)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q", csp)
			}
			doc, err := html.Parse(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var scripts, main, chrome int
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch n.Data {
					case "script":
						scripts++
					case "main":
						main++
					}
					for _, a := range n.Attr {
						if a.Key == "id" && a.Val == "livery-chrome" {
							chrome++
						}
						if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
							t.Errorf("inline %s attribute on <%s>", a.Key, n.Data)
						}
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if scripts != 0 || main != 1 || tc.branded && chrome != 1 {
				t.Errorf("scripts %d, main %d, chrome %d", scripts, main, chrome)
			}
		})
	}
	// API clients keep the JSON error body.
	resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/_livery/nope", nil,
		"Host", "console.demo.test", "Accept", "application/json"))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"error_code"`) {
		t.Fatalf("JSON client: %d %s", resp.StatusCode, body)
	}
}
