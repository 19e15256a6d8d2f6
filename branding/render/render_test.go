package render

import (
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/livery/livery/branding"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestSampleDocIsValid(t *testing.T) {
	if err := sampleDoc().Validate(branding.ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file, locale, user, nonce string
		opts                      RenderOptions
	}{
		{"chrome_zh.golden", "zh", "张三 <admin>", "", RenderOptions{Now: testNow}},
		{"chrome_en.golden", "en", `O'Brien & "Co"`, "rAnd0m+/=_-", RenderOptions{Now: testNow, Preview: true}},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			c := Render("acme-01", 7, sampleDoc(), tc.locale, DefaultUpstream(), tc.opts)
			f := c.Fragments(tc.user, tc.nonce)
			var b strings.Builder
			fmt.Fprintf(&b, "stylesheet: %s\nstyle-hash: %s\nvalid-until: %s\n", c.StylesheetPath(), c.StyleHash(), c.ValidUntil.Format(time.RFC3339))
			fmt.Fprintf(&b, "--- head (%d bytes)\n%s--- body (%d bytes)\n%s", len(f.Head), f.Head, len(f.Body), f.Body)
			fmt.Fprintf(&b, "--- title\n%s\n", f.Title)
			golden(t, tc.file, []byte(b.String()))
			golden(t, "chrome.css.golden", c.CSS) // the same for both locales

			checkFragment(t, "head", f.Head)
			checkFragment(t, "body", f.Body)
			doc := parsePage(t, wrap(f.Head, f.Body))
			checkStructure(t, doc, c, tc.user)
		})
	}
}

// checkStructure asserts the parsed page has the chrome where it belongs.
func checkStructure(t *testing.T, doc *html.Node, c *Chrome, user string) {
	t.Helper()
	chrome := byID(doc, "livery-chrome")
	if chrome == nil || chrome.Parent.Data != "body" || chrome.Parent.FirstChild != chrome {
		t.Fatalf("#livery-chrome is not the first child of <body>")
	}
	link, logo := byID(doc, "livery-logo-link"), byID(doc, "livery-logo-partner")
	if link == nil || link.Data != "a" || logo == nil || logo.Data != "img" || logo.Parent != link || !isAncestor(chrome, link) {
		t.Fatal("partner logo must be an <img> inside the <a id=livery-logo-link> inside the chrome")
	}
	if alt, ok := nodeAttr(logo, "alt"); !ok || alt == "" {
		t.Error("partner logo without alt")
	}
	if cl := byID(doc, "livery-logo-cloud"); cl == nil || !isAncestor(chrome, cl) {
		t.Error("no cloud logo")
	}
	if u := byID(doc, "livery-user"); u == nil || textOf(u) != user {
		t.Errorf("user name: got %v, want %q", u, user)
	}
	if mp := byID(doc, "livery-partners"); mp == nil || !isAncestor(byID(doc, "livery-account"), mp) {
		t.Error("no My partners link in the account menu")
	} else if href, _ := nodeAttr(mp, "href"); href != PartnersPath {
		t.Errorf("My partners link %q", href)
	}
	so := byID(doc, "livery-signout")
	if href, _ := nodeAttr(so, "href"); so == nil || href != DefaultSignOutURL {
		t.Error("sign-out link missing or wrong")
	}
	if s := all(doc, func(n *html.Node) bool { return n.Data == "script" }); len(s) > 0 {
		t.Error("script element present")
	}
	styles := all(doc, func(n *html.Node) bool { return n.Data == "style" })
	if len(styles) != 1 || styles[0].Parent.Data != "head" {
		t.Fatalf("want one <style> in head, got %d", len(styles))
	}
	// The hash a browser computes over the element's text must be ours.
	sum := sha256.Sum256([]byte(textOf(styles[0])))
	if h := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); h != c.StyleHash() {
		t.Errorf("style hash %s, element hashes to %s", c.StyleHash(), h)
	}
	links := all(doc, func(n *html.Node) bool { return n.Data == "link" && attrIs(n, "rel", "stylesheet") })
	if len(links) != 1 || links[0].Parent.Data != "head" {
		t.Fatal("want one stylesheet <link> in head")
	}
	if href, _ := nodeAttr(links[0], "href"); href != c.StylesheetPath() {
		t.Errorf("stylesheet href %q, want %q", href, c.StylesheetPath())
	}
	ribbon := byID(doc, "livery-preview-ribbon")
	if (ribbon != nil) != c.Preview {
		t.Errorf("preview ribbon present=%v, want %v", ribbon != nil, c.Preview)
	}
}

func TestRenderContent(t *testing.T) {
	for _, locale := range []string{"zh", "en"} {
		zh := locale == "zh"
		c := Render("t", 1, sampleDoc(), locale, DefaultUpstream(), RenderOptions{Now: testNow})
		doc := parsePage(t, wrap(c.Fragments("u", "").Head, c.Fragments("u", "").Body))
		promos := all(doc, func(n *html.Node) bool {
			return n.Data == "a" && n.Parent.Parent.Parent != nil && hasClass(n.Parent.Parent.Parent, "livery-promo")
		})
		custom := all(doc, func(n *html.Node) bool {
			return n.Data == "a" && n.Parent.Parent.Parent != nil && hasClass(n.Parent.Parent.Parent, "livery-custom")
		})
		if len(promos) != 2 || len(custom) != 1 {
			t.Fatalf("%s: %d promotions, %d custom items", locale, len(promos), len(custom))
		}
		want := map[bool][2]string{true: {"新春特惠", "工单"}, false: {"Spring Sale", "Tickets"}}[zh]
		if textOf(promos[0]) != want[0] || textOf(custom[0]) != want[1] {
			t.Errorf("%s: names %q %q", locale, textOf(promos[0]), textOf(custom[0]))
		}
		if v, _ := nodeAttr(promos[1], "href"); v != "https://partner.example.com/migrate?a=1&b='2'" {
			t.Errorf("href round trip: %q", v)
		}
		if v, _ := nodeAttr(promos[0], "rel"); v != "noopener noreferrer" {
			t.Errorf("rel = %q", v)
		}
		logo := byID(doc, "livery-logo-partner")
		src, _ := nodeAttr(logo, "src")
		wantSrc := map[bool]string{true: "/_livery/assets/" + sha('a') + ".png", false: "/_livery/assets/" + sha('b') + ".svg"}[zh]
		if src != wantSrc {
			t.Errorf("%s: logo src %q, want %q", locale, src, wantSrc)
		}
		href, _ := nodeAttr(byID(doc, "livery-logo-link"), "href")
		if wantHref := map[bool]string{true: "https://partner.example.cn/zh?from=console&x=1", false: "https://partner.example.com/en"}[zh]; href != wantHref {
			t.Errorf("%s: logo link %q", locale, href)
		}
		anns := all(doc, func(n *html.Node) bool { return n.Data == "li" && hasClass(n.Parent.Parent, "livery-announcements") })
		if len(anns) != 2 {
			t.Errorf("%s: %d active announcements, want 2", locale, len(anns))
		}
		if got := c.ValidUntil; !got.Equal(testNow.Add(2 * time.Hour)) {
			t.Errorf("ValidUntil %v", got)
		}
	}
}

func TestAnnouncementsWindow(t *testing.T) {
	at := func(h int) time.Time { return testNow.Add(time.Duration(h) * time.Hour) }
	anns := []branding.Announcement{
		{TitleZH: "a", TitleEN: "A", Start: at(0), End: at(2)},
		{TitleZH: "b", TitleEN: "B", Start: at(1), End: at(3)},
	}
	for _, tc := range []struct {
		now       int
		show      bool
		want      string
		wantUntil time.Time
	}{
		{-1, true, "", at(0)},
		{0, true, "A", at(1)}, // Start is inclusive
		{1, true, "AB", at(2)},
		{2, true, "B", at(3)}, // End is exclusive
		{3, true, "", time.Time{}},
		{1, false, "", time.Time{}}, // hidden: nothing to re-render for
	} {
		d := &branding.Document{Ops: branding.Ops{ShowAnnouncements: tc.show, Announcements: anns}}
		c := Render("t", 1, d, "en", DefaultUpstream(), RenderOptions{Now: at(tc.now)})
		doc := parsePage(t, wrap(c.Fragments("", "").Head, c.Fragments("", "").Body))
		var got string
		for _, li := range all(doc, func(n *html.Node) bool { return n.Data == "li" && hasClass(n.Parent.Parent, "livery-announcements") }) {
			got += textOf(li)
		}
		if got != tc.want || !c.ValidUntil.Equal(tc.wantUntil) {
			t.Errorf("now=%d show=%v: got %q until %v, want %q until %v", tc.now, tc.show, got, c.ValidUntil, tc.want, tc.wantUntil)
		}
		if c.Expired(at(tc.now)) {
			t.Error("fresh chrome expired")
		}
		if !tc.wantUntil.IsZero() && !c.Expired(tc.wantUntil) {
			t.Error("not expired at ValidUntil")
		}
	}
}

func TestHiddenAreas(t *testing.T) {
	up := DefaultUpstream()
	for _, tc := range []struct {
		name string
		edit func(d *branding.Document)
		want []string // hidden selectors, in order
	}{
		{"all shown", func(d *branding.Document) {
			d.Menus = branding.Menus{ShowInfo: true, ShowResources: true, ShowUser: true, ShowCustom: true}
			d.Ops = branding.Ops{ShowAnnouncements: true, ShowActivities: true, ShowRecommended: true}
		}, []string{"#cc-logo"}},
		{"nothing shown", func(d *branding.Document) {}, []string{"#cc-logo", "#cc-info-menu", "#cc-resource-menu", "#cc-user-menu",
			"#cc-custom-menu", "#cc-announcements", "#cc-activities", "#cc-recommended"}},
		{"sample", func(d *branding.Document) { *d = *sampleDoc() }, []string{"#cc-logo", "#cc-resource-menu", "#cc-activities"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &branding.Document{}
			tc.edit(d)
			c := Render("t", 1, d, "en", up, RenderOptions{Now: testNow})
			for _, css := range []string{string(c.CSS), string(c.CriticalCSS)} {
				var got []string
				for _, sel := range []string{"#cc-logo", "#cc-info-menu", "#cc-resource-menu", "#cc-user-menu", "#cc-custom-menu", "#cc-announcements", "#cc-activities", "#cc-recommended"} {
					if strings.Contains(css, sel+"{display:none!important}") {
						got = append(got, sel)
					}
				}
				if strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Errorf("hidden %v, want %v", got, tc.want)
				}
			}
			if len(c.CriticalCSS) > 600 {
				t.Errorf("critical CSS is %d bytes", len(c.CriticalCSS))
			}
		})
	}
}

func TestNavColor(t *testing.T) {
	for _, tc := range []struct {
		color, bg, fg string
		upstream      bool
	}{
		{"", "#1f2329", "#ffffff", false},
		{"#FFFFFF", "#ffffff", "#1f2329", true},
		{"#0a66c2", "#0a66c2", "#ffffff", true},
		{"#F5D90A", "#f5d90a", "#1f2329", true},
		{"red;}body{display:none", "#1f2329", "#ffffff", false}, // invalid: ignored
	} {
		d := &branding.Document{Brand: branding.Brand{NavColor: tc.color}}
		c := Render("t", 1, d, "zh", DefaultUpstream(), RenderOptions{Now: testNow})
		want := "#livery-chrome{background:" + tc.bg + ";color:" + tc.fg + "}"
		if !strings.Contains(string(c.CriticalCSS), want) || !strings.Contains(string(c.CSS), want) {
			t.Errorf("%q: CSS lacks %s:\n%s", tc.color, want, c.CriticalCSS)
		}
		if got := strings.Contains(string(c.CSS), "#cc-topnav{background:"); got != tc.upstream {
			t.Errorf("%q: upstream nav restyled=%v", tc.color, got)
		}
		if strings.Contains(string(c.CSS), "red;") {
			t.Errorf("invalid colour leaked")
		}
	}
}

func TestDefensiveRendering(t *testing.T) {
	d := &branding.Document{
		Brand: branding.Brand{
			LogoEN: branding.Asset{SHA256: "../../etc/passwd", Ext: "png", Width: 1, Height: 1},
			LinkEN: "javascript:alert(1)",
		},
		Promotions: []branding.Item{
			{NameEN: "<script>alert(1)</script>", Link: `https://x.example/"onmouseover="alert(1)`},
			{NameEN: "data", Link: "data:text/html,<script>alert(1)</script>"},
			{NameEN: "proto-relative", Link: "//evil.example/"},
		},
		Menus: branding.Menus{ShowCustom: true, Custom: []branding.Item{{NameEN: "x", Link: " https://x.example"}}},
	}
	up := DefaultUpstream()
	up.Menus.Info = "#a{}</style><script>alert(1)</script>"
	up.SignOutURL = "javascript:alert(1)"
	up.AssetPrefix = "https://evil.example/"
	up.CloudLogo.URLEN = "javascript:alert(1)"
	up.CloudLogo.AltEN = `"><script>`
	c := Render("ten</style>ant", 1, d, "en", up, RenderOptions{Now: testNow, PartnerName: `<b>`, Preview: true, PreviewLabel: "<i>draft</i>"})
	f := c.Fragments("<img src=x onerror=alert(1)>", `"><script>`)
	checkFragment(t, "head", f.Head)
	checkFragment(t, "body", f.Body)
	all := string(f.Head) + string(f.Body) + string(c.CSS)
	for _, bad := range []string{"<script", "javascript:", "data:", "evil.example", "</style><", "\"onmouseover", "passwd", "<b>", "<i>", "<img src=x"} {
		if strings.Contains(all, bad) {
			t.Errorf("output contains %q:\n%s", bad, all)
		}
	}
	if strings.Contains(string(f.Head), "nonce") {
		t.Error("invalid nonce used")
	}
	if !strings.Contains(string(f.Body), `href="/_livery/logout"`) {
		t.Error("invalid sign-out URL not replaced by the default")
	}
}

func TestLogoFallback(t *testing.T) {
	a, b := branding.Asset{SHA256: sha('a'), Ext: "png", Width: 1, Height: 1}, branding.Asset{SHA256: sha('b'), Ext: "jpg", Width: 1, Height: 1}
	for _, tc := range []struct {
		zh, en         branding.Asset
		linkZH, linkEN string
		locale         string
		wantSrc        string // "" = no partner <img>
		wantHref       string
	}{
		{a, b, "https://z.example", "https://e.example", "zh", sha('a') + ".png", "https://z.example"},
		{a, b, "https://z.example", "https://e.example", "en", sha('b') + ".jpg", "https://e.example"},
		{a, branding.Asset{}, "https://z.example", "", "en", sha('a') + ".png", "https://z.example"},
		{branding.Asset{}, b, "", "https://e.example", "zh", sha('b') + ".jpg", "https://e.example"},
		{branding.Asset{}, branding.Asset{}, "", "", "zh", "", ""},
	} {
		d := &branding.Document{Brand: branding.Brand{LogoZH: tc.zh, LogoEN: tc.en, LinkZH: tc.linkZH, LinkEN: tc.linkEN}}
		c := Render("t", 1, d, tc.locale, DefaultUpstream(), RenderOptions{Now: testNow})
		doc := parsePage(t, wrap(c.Fragments("", "").Head, c.Fragments("", "").Body))
		logo := byID(doc, "livery-logo-partner")
		var src string
		if logo != nil && logo.Data == "img" {
			src, _ = nodeAttr(logo, "src")
		}
		href, _ := nodeAttr(byID(doc, "livery-logo-link"), "href")
		if want := strings.TrimSuffix("/_livery/assets/"+tc.wantSrc, "/_livery/assets/"); src != want || href != tc.wantHref {
			t.Errorf("%s %v/%v: src %q href %q, want %q %q", tc.locale, tc.zh.Ext, tc.en.Ext, src, href, want, tc.wantHref)
		}
	}
}

func TestCSSIndependentOfLocaleAndPreview(t *testing.T) {
	var paths []string
	for _, loc := range []string{"zh", "en"} {
		for _, p := range []bool{false, true} {
			c := Render("t", 3, sampleDoc(), loc, DefaultUpstream(), RenderOptions{Now: testNow, Preview: p})
			paths = append(paths, c.StylesheetPath())
		}
	}
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Fatalf("stylesheet paths differ: %v", paths)
		}
	}
	d := sampleDoc()
	d.Brand.NavColor = "#000000"
	if c := Render("t", 3, d, "zh", DefaultUpstream(), RenderOptions{Now: testNow}); c.StylesheetPath() == paths[0] {
		t.Error("stylesheet path unchanged after a CSS change")
	}
}

func TestStylesheetPath(t *testing.T) {
	for _, tenant := range []string{"acme", "a b/c?d%e", "租户", "x-1_2.3"} {
		c := Render(tenant, 42, nil, "en", DefaultUpstream(), RenderOptions{Now: testNow})
		p := c.StylesheetPath()
		ten, v, h, ok := ParseStylesheetPath(p)
		if !ok || ten != tenant || v != 42 || !strings.HasSuffix(p, "/42-"+h+".css") {
			t.Errorf("%q: %q parsed to %q %d %q %v", tenant, p, ten, v, h, ok)
		}
		sum := sha256.Sum256(c.CSS)
		if h != fmt.Sprintf("%x", sum[:4]) {
			t.Errorf("hash8 %s", h)
		}
	}
	for _, bad := range []string{"", "/_livery/branding/", "/_livery/branding/t/1.css", "/_livery/branding/t/1-abc.css",
		"/_livery/branding/t/01-0123abcd.css", "/_livery/branding/t/1-0123ABCD.css", "/_livery/branding/t/x/1-0123abcd.css",
		"/_livery/branding//1-0123abcd.css", "/_livery/branding/t/1-0123abcd.js", "/other/t/1-0123abcd.css", "/_livery/branding/%zz/1-0123abcd.css"} {
		if _, _, _, ok := ParseStylesheetPath(bad); ok {
			t.Errorf("ParseStylesheetPath(%q) ok", bad)
		}
	}
}

func TestFragmentsNonceAndName(t *testing.T) {
	c := Render("t", 1, sampleDoc(), "en", DefaultUpstream(), RenderOptions{Now: testNow})
	for _, tc := range []struct {
		user, nonce, wantUser string
		wantNonce             bool
	}{
		{"alice", "abc", "alice", true},
		{"", "", "Account", false},
		{"a&b<c>\"d'", "Zm9v+/_-==", "a&b<c>\"d'", true},
		{"tab\there\x00\x7f", strings.Repeat("n", 128), "tabhere", true},
		{"bad\xffutf8", strings.Repeat("n", 129), "bad\uFFFDutf8", false},
		{"c1\u0085ctl", "a b", "c1ctl", false},
		{"张三", `x"`, "张三", false},
		{strings.Repeat("长", 200), "", strings.Repeat("长", 85), false},
	} {
		f := c.Fragments(tc.user, tc.nonce)
		checkFragment(t, "head", f.Head)
		checkFragment(t, "body", f.Body)
		doc := parsePage(t, wrap(f.Head, f.Body))
		if got := textOf(byID(doc, "livery-user")); got != tc.wantUser {
			t.Errorf("user %q rendered %q, want %q", tc.user, got, tc.wantUser)
		}
		for _, tag := range []string{"style", "link"} {
			el := all(doc, func(n *html.Node) bool { return n.Data == tag })[0]
			got, ok := nodeAttr(el, "nonce")
			if ok != tc.wantNonce || ok && got != tc.nonce {
				t.Errorf("nonce %q on <%s>: got %q (present %v)", tc.nonce, tag, got, ok)
			}
		}
	}
}

func TestFragmentsAllocs(t *testing.T) {
	c := Render("t", 1, sampleDoc(), "zh", DefaultUpstream(), RenderOptions{Now: testNow})
	for _, user := range []string{"alice@example.com", "张三 & <李四>"} {
		if n := testing.AllocsPerRun(100, func() { _ = c.Fragments(user, "bm9uY2U=") }); n != 2 {
			t.Errorf("Fragments(%q) allocates %v times, want 2", user, n)
		}
	}
	f := c.Fragments("张三 & <李四>", "bm9uY2U=")
	if len(f.Head) != cap(f.Head) || len(f.Body) != cap(f.Body) {
		t.Errorf("buffers not pre-sized exactly: head %d/%d body %d/%d", len(f.Head), cap(f.Head), len(f.Body), cap(f.Body))
	}
}

func FuzzFragments(f *testing.F) {
	f.Add("alice", "abc")
	f.Add("<script>\"'&", "")
	f.Add("\xff\x00\u0085", "a b")
	c := Render("t", 1, sampleDoc(), "en", DefaultUpstream(), RenderOptions{Now: testNow})
	f.Fuzz(func(t *testing.T, user, nonce string) {
		fr := c.Fragments(user, nonce)
		checkFragment(t, "head", fr.Head)
		checkFragment(t, "body", fr.Body)
		doc := parsePage(t, wrap(fr.Head, fr.Body))
		want := user
		if want == "" {
			want = "Account"
		} else if _, simple := escapedLen(user); !simple {
			want = cleanName(user)
		}
		want = strings.ReplaceAll(want, "\r", "") // never present: control characters are dropped
		if got := textOf(byID(doc, "livery-user")); got != want {
			t.Errorf("user %q rendered %q", user, got)
		}
		if len(all(doc, func(n *html.Node) bool { return n.Data == "script" })) > 0 {
			t.Error("script element")
		}
	})
}
