package render

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/livery/livery/branding/inject"
	"github.com/livery/livery/cmd/democonsole/console"
)

func TestValidateUpstream(t *testing.T) {
	if err := ValidateUpstream(DefaultUpstream()); err != nil {
		t.Fatalf("default upstream: %v", err)
	}
	if err := ValidateUpstream(Upstream{}); err != nil {
		t.Fatalf("zero upstream: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Upstream)
		field string // "" = valid
	}{
		{"selector list", func(u *Upstream) { u.Menus.Info = "#a, .b li:not(.c), [data-x=\"y,z\"] + p ~ q" }, ""},
		{"attribute quotes", func(u *Upstream) { u.Ops.Activities = `div[title='a"b']` }, ""},
		{"open brace", func(u *Upstream) { u.Menus.Info = "#a{color:red" }, "menus.info"},
		{"close brace", func(u *Upstream) { u.Menus.Resources = "#a}body{display:none" }, "menus.resources"},
		{"semicolon", func(u *Upstream) { u.Menus.User = "#a;" }, "menus.user"},
		{"style end tag", func(u *Upstream) { u.Menus.Custom = "</style><script>" }, "menus.custom"},
		{"gt combinator", func(u *Upstream) { u.Ops.Announcements = "ul > li" }, "ops.announcements"},
		{"backslash", func(u *Upstream) { u.Ops.Activities = `#\61 ` }, "ops.activities"},
		{"newline", func(u *Upstream) { u.Ops.Recommended = "#a\n#b" }, "ops.recommended"},
		{"carriage return", func(u *Upstream) { u.Nav = "#a\r" }, "nav"},
		{"form feed", func(u *Upstream) { u.Logo = "#a\f" }, "logo"},
		{"line separator", func(u *Upstream) { u.Logo = "#a\u2028" }, "logo"},
		{"comment", func(u *Upstream) { u.Logo = "#a/*" }, "logo"},
		{"unbalanced quote", func(u *Upstream) { u.Logo = `[title="a]` }, "logo"},
		{"blank", func(u *Upstream) { u.Logo = "  " }, "logo"},
		{"trailing comma", func(u *Upstream) { u.Logo = "#a," }, "logo"},
		{"too long", func(u *Upstream) { u.Logo = "#" + strings.Repeat("a", MaxSelectorLen) }, "logo"},
		{"invalid utf-8", func(u *Upstream) { u.Logo = "#\xff" }, "logo"},
		{"cloud logo https", func(u *Upstream) { u.CloudLogo.URLZH = "https://cdn.cloud.example/logo.svg" }, ""},
		{"cloud logo path", func(u *Upstream) { u.CloudLogo.URLEN = "/static/logo.svg?v=2" }, ""},
		{"cloud logo http", func(u *Upstream) { u.CloudLogo.URLZH = "http://cdn.example/logo.svg" }, "cloud_logo.url_zh"},
		{"cloud logo js", func(u *Upstream) { u.CloudLogo.URLEN = "javascript:alert(1)" }, "cloud_logo.url_en"},
		{"cloud logo quote", func(u *Upstream) { u.CloudLogo.URLEN = `/a"b` }, "cloud_logo.url_en"},
		{"alt control", func(u *Upstream) { u.CloudLogo.AltZH = "a\nb" }, "cloud_logo.alt_zh"},
		{"alt long", func(u *Upstream) { u.CloudLogo.AltEN = strings.Repeat("x", MaxAltRunes+1) }, "cloud_logo.alt_en"},
		{"nav colour", func(u *Upstream) { u.DefaultNavColor = "red" }, "default_nav_color"},
		{"sign-out relative", func(u *Upstream) { u.SignOutURL = "logout" }, "sign_out_url"},
		{"sign-out protocol-relative", func(u *Upstream) { u.SignOutURL = "//evil.example/" }, "sign_out_url"},
		{"sign-out absolute", func(u *Upstream) { u.SignOutURL = "https://idp.example/logout" }, "sign_out_url"},
		{"asset prefix slash", func(u *Upstream) { u.AssetPrefix = "/assets" }, "asset_prefix"},
		{"asset prefix query", func(u *Upstream) { u.AssetPrefix = "/assets?x=/" }, "asset_prefix"},
		{"asset prefix ok", func(u *Upstream) { u.AssetPrefix = "/static/brand/" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := DefaultUpstream()
			tc.edit(&u)
			err := ValidateUpstream(u)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ue *UpstreamError
			if !errors.As(err, &ue) || ue.Field != tc.field || !errors.Is(err, ErrInvalidUpstream) {
				t.Fatalf("got %v, want an error for %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
	u := DefaultUpstream()
	u.Menus.Info, u.Ops.Recommended = "{", ";"
	if err := ValidateUpstream(u); err == nil || !strings.Contains(err.Error(), "menus.info") || !strings.Contains(err.Error(), "ops.recommended") {
		t.Errorf("want both fields reported, got %v", err)
	}
}

// fetch returns a demo console page.
func fetch(t *testing.T, srv *httptest.Server, path string) []byte {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return b
}

// TestDefaultUpstreamMatchesDemoConsole checks that every default selector
// (all plain #id selectors) names an element of the demo console, and that
// the chrome injected into its pages parses as intended.
func TestDefaultUpstreamMatchesDemoConsole(t *testing.T) {
	srv := httptest.NewServer(console.New(console.Options{}))
	defer srv.Close()
	up := DefaultUpstream()
	page := fetch(t, srv, "/")
	doc := parsePage(t, page)
	for _, sel := range []string{up.Menus.Info, up.Menus.Resources, up.Menus.User, up.Menus.Custom,
		up.Ops.Announcements, up.Ops.Activities, up.Ops.Recommended, up.Nav, up.Logo} {
		if !strings.HasPrefix(sel, "#") || byID(doc, sel[1:]) == nil {
			t.Errorf("default selector %q matches nothing on the demo console's overview page", sel)
		}
	}
	// The demo's sign-out link is the default one.
	if !strings.Contains(string(page), `href="`+up.SignOutURL+`"`) {
		t.Errorf("demo console does not link %s", up.SignOutURL)
	}

	for _, path := range []string{"/", "/resources", "/billing"} {
		c := Render("acme", 1, sampleDoc(), "zh", up, RenderOptions{Now: testNow, Preview: true})
		out := inject.Transform(fetch(t, srv, path), c.Fragments("张三", "abc"))
		doc := parsePage(t, out)
		chrome := byID(doc, "livery-chrome")
		if chrome == nil || chrome.Parent.Data != "body" {
			t.Fatalf("%s: chrome not injected at the top of <body>", path)
		}
		var firstEl *html.Node
		for n := chrome.Parent.FirstChild; n != nil; n = n.NextSibling {
			if n.Type == html.ElementNode {
				firstEl = n
				break
			}
		}
		if firstEl != chrome {
			t.Errorf("%s: chrome is not the first element of <body>", path)
		}
		styles := all(doc, func(n *html.Node) bool { return n.Data == "style" })
		if len(styles) < 2 || textOf(styles[0]) != string(c.CriticalCSS) {
			t.Errorf("%s: critical style is not the first <style> of the page", path)
		}
		if byID(doc, "livery-preview-ribbon") == nil {
			t.Errorf("%s: no preview ribbon", path)
		}
		if len(all(doc, func(n *html.Node) bool { return n.Data == "meta" && hasAttr(n, "charset") })) != 1 {
			t.Errorf("%s: meta charset lost", path)
		}
		if i := strings.Index(string(out), "<meta charset"); i < 0 || i > 1024 {
			t.Errorf("%s: <meta charset> pushed to byte %d, beyond the 1024-byte prescan", path, i)
		}
	}
}

func hasAttr(n *html.Node, key string) bool { _, ok := nodeAttr(n, key); return ok }
