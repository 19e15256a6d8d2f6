package render

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/inject"
)

// TestTabTitleAndFavicon: the title suffix follows the locale (falling
// back to the other language), is escaped, and lands inside the page's
// <title>; the favicon is a <link rel=icon> in the head fragment, PNG or
// SVG only.
func TestTabTitleAndFavicon(t *testing.T) {
	page := []byte("<!doctype html><html><head><title>Console</title></head><body><p>x</p></body></html>")
	for _, tc := range []struct {
		name, zh, en, locale string
		favicon              branding.Asset
		wantTitle, wantIcon  string // "" = none
	}{
		{"zh", "伙伴云", "Partner", "zh", branding.Asset{SHA256: sha('c'), Ext: "png", Width: 32, Height: 32},
			"Console – 伙伴云", "/_livery/assets/" + sha('c') + ".png"},
		{"en", "伙伴云", "Partner", "en", branding.Asset{SHA256: sha('c'), Ext: "svg"},
			"Console – Partner", "/_livery/assets/" + sha('c') + ".svg"},
		{"en falls back to zh", "伙伴云", "", "en", branding.Asset{}, "Console – 伙伴云", ""},
		{"none", "", "", "zh", branding.Asset{}, "Console", ""},
		{"escaped", "", `</title><script>alert(1)</script> & co`, "en", branding.Asset{}, "", ""},
		{"jpg favicon dropped", "", "", "en", branding.Asset{SHA256: sha('c'), Ext: "jpg", Width: 1, Height: 1}, "Console", ""},
		{"malformed favicon dropped", "", "", "en", branding.Asset{SHA256: "../x", Ext: "png", Width: 1, Height: 1}, "Console", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := sampleDoc()
			doc.Brand.TitleSuffixZH, doc.Brand.TitleSuffixEN, doc.Brand.Favicon = tc.zh, tc.en, tc.favicon
			c := Render("acme", 1, doc, tc.locale, DefaultUpstream(), RenderOptions{Now: testNow})
			out := inject.Transform(page, c.Fragments("u", ""))
			root, err := html.Parse(strings.NewReader(string(out)))
			if err != nil {
				t.Fatal(err)
			}
			titles := all(root, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "title" })
			if len(titles) != 1 {
				t.Fatalf("%d titles in %s", len(titles), out)
			}
			got := textOf(titles[0])
			if tc.name == "escaped" {
				// Rejected by Validate anyway; rendered, it stays text.
				if got != "Console" && got != "Console – </title><script>alert(1)</script> & co" ||
					len(all(root, func(n *html.Node) bool { return n.Data == "script" })) != 0 {
					t.Fatalf("title %q, page %s", got, out)
				}
				return
			}
			if got != tc.wantTitle {
				t.Errorf("title %q, want %q", got, tc.wantTitle)
			}
			icons := all(root, func(n *html.Node) bool { return n.Data == "link" && attrIs(n, "rel", "icon") })
			switch {
			case tc.wantIcon == "" && len(icons) != 0:
				t.Errorf("unexpected favicon: %s", out)
			case tc.wantIcon != "" && (len(icons) != 1 || !attrIs(icons[0], "href", tc.wantIcon) || icons[0].Parent.Data != "head"):
				t.Errorf("favicon: want %s in head: %s", tc.wantIcon, out)
			}
		})
	}
}

// TestLandmarks: every piece of the chrome is inside a labelled landmark
// (axe rule "region"), and the chrome adds no banner of its own.
func TestLandmarks(t *testing.T) {
	for _, locale := range []string{"zh", "en"} {
		doc := sampleDoc()
		doc.Promotions = nil
		for range branding.MaxPromotions {
			doc.Promotions = append(doc.Promotions, branding.Item{NameZH: "推广", NameEN: "Promo", Link: "https://p.example/"})
		}
		c := Render("acme", 1, doc, locale, DefaultUpstream(), RenderOptions{Now: testNow, Preview: true})
		f := c.Fragments("u", "")
		root := parsePage(t, wrap(f.Head, f.Body))
		chrome := byID(root, "livery-chrome")
		if chrome.Data != "section" || !hasAttr(chrome, "aria-label") {
			t.Fatalf("%s: the chrome is <%s>, want a labelled <section>", locale, chrome.Data)
		}
		for _, n := range all(chrome, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Parent == chrome }) {
			switch {
			case (n.Data == "nav" || n.Data == "section") && hasAttr(n, "aria-label"):
			case attrIs(n, "role", "status"): // the preview ribbon
			default:
				t.Errorf("%s: <%s class=%q> is not a labelled landmark", locale, n.Data, attrOf(n, "class"))
			}
		}
		if len(all(root, func(n *html.Node) bool { return n.Data == "header" || attrIs(n, "role", "banner") })) != 0 {
			t.Errorf("%s: the chrome must not add a banner", locale)
		}
		// Ten promotions: all in the "More" disclosure, the first
		// InlineItems also inline; the summary is localized.
		more := all(root, func(n *html.Node) bool {
			return n.Data == "details" && strings.Contains(attrOf(n, "class"), "livery-more")
		})
		if len(more) == 0 || strings.Contains(attrOf(more[0], "class"), "livery-more-few") {
			t.Fatalf("%s: no overflow menu for ten promotions", locale)
		}
		want := map[string]string{"zh": "更多", "en": "More"}[locale]
		if s := all(more[0], func(n *html.Node) bool { return n.Data == "summary" }); len(s) != 1 || textOf(s[0]) != want {
			t.Errorf("%s: overflow summary, want %q", locale, want)
		}
		if n := len(all(more[0], func(n *html.Node) bool { return n.Data == "a" })); n != branding.MaxPromotions {
			t.Errorf("%s: %d links in the overflow menu", locale, n)
		}
	}
	// The CSS keeps the first InlineItems inline on wide screens.
	if !strings.Contains(chromeCSS, ".livery-inline li:nth-child(n+4)") || !strings.Contains(chromeCSS, ".livery-menu li:nth-child(-n+3)") || InlineItems != 3 {
		t.Error("the CSS nth-child bounds must match InlineItems")
	}
}

func attrOf(n *html.Node, key string) string { v, _ := nodeAttr(n, key); return v }
