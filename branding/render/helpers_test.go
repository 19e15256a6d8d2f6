package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/livery/livery/branding"
)

// testNow is the render time of the fixtures.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func sha(c byte) string { return strings.Repeat(string(c), 64) }

// sampleDoc is a representative, valid document.
func sampleDoc() *branding.Document {
	return &branding.Document{
		Brand: branding.Brand{
			LogoZH:   branding.Asset{SHA256: sha('a'), Ext: "png", Width: 240, Height: 64},
			LogoEN:   branding.Asset{SHA256: sha('b'), Ext: "svg"},
			LinkZH:   "https://partner.example.cn/zh?from=console&x=1",
			LinkEN:   "https://partner.example.com/en",
			NavColor: "#0A66C2",
			Favicon:  branding.Asset{SHA256: sha('c'), Ext: "svg"},
			// The suffix is text in an RCDATA element: escaped.
			TitleSuffixZH: "伙伴云",
			TitleSuffixEN: "Partner & Co",
		},
		Promotions: []branding.Item{
			{NameZH: "新春特惠", NameEN: "Spring Sale", Link: "https://partner.example.com/sale"},
			{NameZH: "迁移服务 & 咨询", NameEN: "Migration & \"consulting\"", Link: "https://partner.example.com/migrate?a=1&b='2'"},
		},
		Menus: branding.Menus{
			ShowInfo: true, ShowResources: false, ShowUser: true, ShowCustom: true,
			Custom: []branding.Item{{NameZH: "工单", NameEN: "Tickets", Link: "https://support.partner.example.com/"}},
		},
		Ops: branding.Ops{
			ShowAnnouncements: true, ShowActivities: false, ShowRecommended: true,
			Announcements: []branding.Announcement{
				{TitleZH: "系统维护通知", TitleEN: "Scheduled maintenance", Link: "https://partner.example.com/notice/1",
					Start: testNow.Add(-24 * time.Hour), End: testNow.Add(48 * time.Hour)},
				{TitleZH: "已结束", TitleEN: "Expired", Start: testNow.Add(-48 * time.Hour), End: testNow.Add(-24 * time.Hour)},
				{TitleZH: "新功能上线", TitleEN: "New features", Start: testNow.Add(-time.Hour), End: testNow.Add(6 * time.Hour)},
				{TitleZH: "即将开始", TitleEN: "Upcoming", Start: testNow.Add(2 * time.Hour), End: testNow.Add(72 * time.Hour)},
			},
		},
	}
}

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true,
	"hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkFragment tokenizes an HTML fragment and fails on mis-nesting,
// unclosed elements, scripts, event handlers, style attributes and
// javascript: URLs.
func checkFragment(t *testing.T, name string, frag []byte) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(frag))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if len(stack) != 0 {
				t.Errorf("%s: unclosed elements %v", name, stack)
			}
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "script" || tok.Data == "iframe" || tok.Data == "object" {
				t.Errorf("%s: forbidden element <%s>", name, tok.Data)
			}
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Key)
				if strings.HasPrefix(k, "on") || k == "style" || k == "srcdoc" {
					t.Errorf("%s: forbidden attribute %s on <%s>", name, a.Key, tok.Data)
				}
				if (k == "href" || k == "src") && !strings.HasPrefix(a.Val, "/") && !strings.HasPrefix(a.Val, "https://") && !strings.HasPrefix(a.Val, "http://") {
					t.Errorf("%s: suspicious %s=%q", name, a.Key, a.Val)
				}
				if k == "target" && a.Val == "_blank" {
					if rel := attr(tok, "rel"); rel != "noopener noreferrer" {
						t.Errorf("%s: target=_blank without rel=noopener noreferrer (%q)", name, rel)
					}
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Errorf("%s: </%s> does not close the open element (stack %v)", name, tok.Data, stack)
				return
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// parsePage parses a complete document.
func parsePage(t *testing.T, page []byte) *html.Node {
	t.Helper()
	n, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wrap builds a minimal page around the fragments.
func wrap(head, body []byte) []byte {
	return []byte("<!DOCTYPE html><html><head>" + string(head) + "<title>t</title></head><body>" + string(body) + "<main id=\"x\">x</main></body></html>")
}

func nodeAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// byID finds the element with the id.
func byID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode {
		if v, ok := nodeAttr(n, "id"); ok && v == id {
			return n
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := byID(c, id); f != nil {
			return f
		}
	}
	return nil
}

// all returns the elements for which match is true, in document order.
func all(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func hasClass(n *html.Node, class string) bool {
	v, _ := nodeAttr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

// textOf concatenates the text below n.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// isAncestor reports whether a contains d.
func isAncestor(a, d *html.Node) bool {
	for p := d.Parent; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
}

func attrIs(n *html.Node, key, want string) bool {
	v, ok := nodeAttr(n, key)
	return ok && v == want
}
