package branding

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	t0   = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	logo = Asset{SHA256: strings.Repeat("ab", 32), Ext: "png", Width: 200, Height: 40}
)

func validDoc() *Document {
	d := &Document{}
	d.Brand = Brand{LogoZH: logo, LogoEN: logo, LinkZH: "https://partner.example/zh", LinkEN: "https://partner.example/en", NavColor: "#1a2B3c",
		TitleSuffixZH: "伙伴云"}
	d.Promotions = []Item{{NameZH: "云服务器特惠", NameEN: "ECS deals", Link: "https://partner.example/ecs"}}
	d.Menus = Menus{ShowInfo: true, ShowResources: true, ShowUser: true, ShowCustom: true,
		Custom: []Item{{NameZH: "工单", NameEN: "Tickets", Link: "https://partner.example/tickets?a=1#x"}}}
	d.Ops = Ops{ShowAnnouncements: true, Announcements: []Announcement{{TitleZH: "维护通知", TitleEN: "Maintenance", Link: "https://partner.example/n/1", Start: t0, End: t0.Add(time.Hour)}}}
	return d
}

func items(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = Item{NameZH: "名", NameEN: "n", Link: "https://p.example/"}
	}
	return out
}

func TestValidateValid(t *testing.T) {
	if err := validDoc().Validate(ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := (&Document{}).Validate(ValidateOptions{}); err != nil {
		t.Fatalf("empty document: %v", err)
	}
	d := validDoc()
	d.Promotions, d.Menus.Custom = items(MaxPromotions), items(MaxCustomMenus)
	d.Promotions[0].NameZH = strings.Repeat("字", MaxNameRunes) // runes, not bytes
	d.Brand.LogoEN = Asset{SHA256: strings.Repeat("cd", 32), Ext: "svg"}
	if err := d.Validate(ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Document)
		opts   ValidateOptions
		field  string // "" = must be valid
		msg    string
	}{
		{"http link", func(d *Document) { d.Promotions[0].Link = "http://partner.example/" }, ValidateOptions{}, "promotions[0].link", "must be https"},
		{"http loopback allowed", func(d *Document) { d.Promotions[0].Link = "http://127.0.0.1:8080/x" }, ValidateOptions{AllowLoopbackHTTP: true}, "", ""},
		{"http localhost allowed", func(d *Document) { d.Brand.LinkZH = "http://localhost/" }, ValidateOptions{AllowLoopbackHTTP: true}, "", ""},
		{"http ipv6 loopback allowed", func(d *Document) { d.Brand.LinkZH = "http://[::1]:3000/" }, ValidateOptions{AllowLoopbackHTTP: true}, "", ""},
		{"http loopback without option", func(d *Document) { d.Brand.LinkZH = "http://localhost/" }, ValidateOptions{}, "brand.link_zh", "must be https"},
		{"http non-loopback with option", func(d *Document) { d.Brand.LinkEN = "http://partner.example/" }, ValidateOptions{AllowLoopbackHTTP: true}, "brand.link_en", "must be https"},
		{"javascript", func(d *Document) { d.Menus.Custom[0].Link = "javascript:alert(1)" }, ValidateOptions{}, "menus.custom[0].link", "javascript"},
		{"javascript mixed case", func(d *Document) { d.Menus.Custom[0].Link = "JavaScript:alert(1)" }, ValidateOptions{}, "menus.custom[0].link", "not allowed"},
		{"data", func(d *Document) { d.Promotions[0].Link = "data:text/html,<script>" }, ValidateOptions{}, "promotions[0].link", "data"},
		{"vbscript", func(d *Document) { d.Promotions[0].Link = "vbscript:x" }, ValidateOptions{}, "promotions[0].link", "vbscript"},
		{"file", func(d *Document) { d.Promotions[0].Link = "file:///etc/passwd" }, ValidateOptions{}, "promotions[0].link", "file"},
		{"relative", func(d *Document) { d.Promotions[0].Link = "/path" }, ValidateOptions{}, "promotions[0].link", "absolute"},
		{"scheme relative", func(d *Document) { d.Promotions[0].Link = "//evil.example/" }, ValidateOptions{}, "promotions[0].link", "absolute"},
		{"no host", func(d *Document) { d.Promotions[0].Link = "https:///x" }, ValidateOptions{}, "promotions[0].link", "host"},
		{"credentials", func(d *Document) { d.Promotions[0].Link = "https://partner.example@evil.example/" }, ValidateOptions{}, "promotions[0].link", "credentials"},
		{"whitespace", func(d *Document) { d.Promotions[0].Link = "https://a.example/ x" }, ValidateOptions{}, "promotions[0].link", "spaces"},
		{"control char", func(d *Document) { d.Promotions[0].Link = "java\tscript:x" }, ValidateOptions{}, "promotions[0].link", "control"},
		{"backslash", func(d *Document) { d.Promotions[0].Link = `https:\\evil.example` }, ValidateOptions{}, "promotions[0].link", "backslash"},
		{"too long link", func(d *Document) { d.Promotions[0].Link = "https://a.example/" + strings.Repeat("a", MaxLinkLen) }, ValidateOptions{}, "promotions[0].link", "at most"},
		{"missing link", func(d *Document) { d.Menus.Custom[0].Link = "" }, ValidateOptions{}, "menus.custom[0].link", "required"},
		{"empty name", func(d *Document) { d.Promotions[0].NameZH = "" }, ValidateOptions{}, "promotions[0].name_zh", "required"},
		{"blank name", func(d *Document) { d.Promotions[0].NameEN = "   " }, ValidateOptions{}, "promotions[0].name_en", "required"},
		{"long name", func(d *Document) { d.Promotions[0].NameZH = strings.Repeat("字", MaxNameRunes+1) }, ValidateOptions{}, "promotions[0].name_zh", "at most 32"},
		{"angle brackets", func(d *Document) { d.Menus.Custom[0].NameEN = "<img src=x>" }, ValidateOptions{}, "menus.custom[0].name_en", "'<'"},
		{"control in name", func(d *Document) { d.Promotions[0].NameEN = "a\x00b" }, ValidateOptions{}, "promotions[0].name_en", "control"},
		{"bidi override in name", func(d *Document) { d.Promotions[0].NameEN = "a\u202Eb" }, ValidateOptions{}, "promotions[0].name_en", "control"},
		{"invalid utf8", func(d *Document) { d.Promotions[0].NameEN = "a\xffb" }, ValidateOptions{}, "promotions[0].name_en", "UTF-8"},
		{"colour short", func(d *Document) { d.Brand.NavColor = "#fff" }, ValidateOptions{}, "brand.nav_color", "colour"},
		{"colour no hash", func(d *Document) { d.Brand.NavColor = "112233" }, ValidateOptions{}, "brand.nav_color", "colour"},
		{"colour css injection", func(d *Document) { d.Brand.NavColor = "#112233;background:url(x)" }, ValidateOptions{}, "brand.nav_color", "colour"},
		{"too many promotions", func(d *Document) { d.Promotions = items(MaxPromotions + 1) }, ValidateOptions{}, "promotions", "at most 10"},
		{"too many custom menus", func(d *Document) { d.Menus.Custom = items(MaxCustomMenus + 1) }, ValidateOptions{}, "menus.custom", "at most 10"},
		{"too many announcements", func(d *Document) {
			for range MaxAnnouncements {
				d.Ops.Announcements = append(d.Ops.Announcements, d.Ops.Announcements[0])
			}
		}, ValidateOptions{}, "ops.announcements", "at most 10"},
		{"end before start", func(d *Document) { d.Ops.Announcements[0].End = t0.Add(-time.Second) }, ValidateOptions{}, "ops.announcements[0].end", "after start"},
		{"end equals start", func(d *Document) { d.Ops.Announcements[0].End = t0 }, ValidateOptions{}, "ops.announcements[0].end", "after start"},
		{"no start", func(d *Document) { d.Ops.Announcements[0].Start = time.Time{} }, ValidateOptions{}, "ops.announcements[0].start", "required"},
		{"no end", func(d *Document) { d.Ops.Announcements[0].End = time.Time{} }, ValidateOptions{}, "ops.announcements[0].end", "required"},
		{"announcement title", func(d *Document) { d.Ops.Announcements[0].TitleEN = "" }, ValidateOptions{}, "ops.announcements[0].title_en", "required"},
		{"announcement link", func(d *Document) { d.Ops.Announcements[0].Link = "http://x.example" }, ValidateOptions{}, "ops.announcements[0].link", "https"},
		{"asset hash", func(d *Document) { d.Brand.LogoZH.SHA256 = "../../etc/passwd" }, ValidateOptions{}, "brand.logo_zh.sha256", "hex"},
		{"asset ext", func(d *Document) { d.Brand.LogoEN.Ext = "html" }, ValidateOptions{}, "brand.logo_en.ext", "png"},
		{"asset dims", func(d *Document) { d.Brand.LogoEN.Width = 0 }, ValidateOptions{}, "brand.logo_en", "dimensions"},
		{"favicon png", func(d *Document) { d.Brand.Favicon = Asset{SHA256: logo.SHA256, Ext: "png", Width: 32, Height: 32} }, ValidateOptions{}, "", ""},
		{"favicon svg", func(d *Document) { d.Brand.Favicon = Asset{SHA256: logo.SHA256, Ext: "svg"} }, ValidateOptions{}, "", ""},
		{"favicon jpg", func(d *Document) { d.Brand.Favicon = Asset{SHA256: logo.SHA256, Ext: "jpg", Width: 32, Height: 32} }, ValidateOptions{}, "brand.favicon.ext", "png, svg"},
		{"favicon webp", func(d *Document) { d.Brand.Favicon = Asset{SHA256: logo.SHA256, Ext: "webp", Width: 32, Height: 32} }, ValidateOptions{}, "brand.favicon.ext", "png, svg"},
		{"favicon hash", func(d *Document) { d.Brand.Favicon = Asset{SHA256: "../x", Ext: "png", Width: 1, Height: 1} }, ValidateOptions{}, "brand.favicon.sha256", "hex"},
		{"favicon ext unknown", func(d *Document) { d.Brand.Favicon = Asset{SHA256: logo.SHA256, Ext: "ico", Width: 1, Height: 1} }, ValidateOptions{}, "brand.favicon.ext", "png"},
		{"favicon dims", func(d *Document) { d.Brand.Favicon = Asset{SHA256: logo.SHA256, Ext: "png"} }, ValidateOptions{}, "brand.favicon", "dimensions"},
		{"title suffix", func(d *Document) { d.Brand.TitleSuffixZH, d.Brand.TitleSuffixEN = "伙伴云", "Partner Cloud & Co" }, ValidateOptions{}, "", ""},
		{"title suffix one language", func(d *Document) { d.Brand.TitleSuffixEN = "Partner" }, ValidateOptions{}, "", ""},
		{"title suffix max", func(d *Document) { d.Brand.TitleSuffixZH = strings.Repeat("字", MaxTitleSuffixRunes) }, ValidateOptions{}, "", ""},
		{"title suffix long", func(d *Document) { d.Brand.TitleSuffixZH = strings.Repeat("字", MaxTitleSuffixRunes+1) }, ValidateOptions{}, "brand.title_suffix_zh", "at most 32"},
		{"title suffix blank", func(d *Document) { d.Brand.TitleSuffixEN = "  " }, ValidateOptions{}, "brand.title_suffix_en", "required"},
		{"title suffix control", func(d *Document) { d.Brand.TitleSuffixEN = "a\nb" }, ValidateOptions{}, "brand.title_suffix_en", "control"},
		{"title suffix bidi", func(d *Document) { d.Brand.TitleSuffixZH = "a\u202Eb" }, ValidateOptions{}, "brand.title_suffix_zh", "control"},
		{"title suffix markup", func(d *Document) { d.Brand.TitleSuffixEN = "</title><script>" }, ValidateOptions{}, "brand.title_suffix_en", "'<'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := validDoc()
			tc.mutate(d)
			err := d.Validate(tc.opts)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].Field != tc.field || !strings.Contains(ve.Problems[0].Message, tc.msg) {
				t.Fatalf("want one problem %s (%q), got %v", tc.field, tc.msg, ve.Problems)
			}
			if !strings.Contains(err.Error(), tc.field+": ") {
				t.Fatalf("Error() does not name the field: %s", err)
			}
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	d := validDoc()
	d.Brand.NavColor = "red"
	d.Promotions = append(d.Promotions, Item{NameZH: "", NameEN: "x", Link: "http://a.example"}, Item{NameZH: "a", NameEN: "b", Link: "javascript:x"})
	d.Ops.Announcements[0].End = t0
	var ve *ValidationError
	if !errors.As(d.Validate(ValidateOptions{}), &ve) {
		t.Fatal("expected ValidationError")
	}
	want := []string{"brand.nav_color", "promotions[1].name_zh", "promotions[1].link", "promotions[2].link", "ops.announcements[0].end"}
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Field)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestJSONSnakeCase(t *testing.T) {
	b, err := json.Marshal(validDoc())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"title_suffix_zh"`, `"brand"`, `"logo_zh"`, `"sha256"`, `"link_en"`, `"nav_color"`, `"promotions"`, `"name_zh"`, `"show_resources"`, `"show_custom"`, `"custom"`, `"show_announcements"`, `"show_recommended"`, `"title_en"`, `"start"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}
	var back Document
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, validDoc()) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestDiff(t *testing.T) {
	live, prop := validDoc(), validDoc()
	if c := Diff(live, prop); len(c) != 0 {
		t.Fatalf("identical docs differ: %v", c)
	}
	prop.Brand.NavColor = "#000000"
	prop.Brand.LogoEN = Asset{}
	prop.Brand.Favicon = Asset{SHA256: logo.SHA256, Ext: "svg"}
	prop.Brand.TitleSuffixEN = "Partner"
	prop.Menus.ShowUser = false
	prop.Promotions = append(prop.Promotions, Item{NameZH: "新", NameEN: "New", Link: "https://n.example"})
	prop.Ops.Announcements = nil
	got := Diff(live, prop)
	want := []Change{
		{"brand.logo_en", logo.SHA256 + ".png 200x40", ""},
		{"brand.nav_color", "#1a2B3c", "#000000"},
		{"brand.favicon", "", logo.SHA256 + ".svg 0x0"},
		{"brand.title_suffix_en", "", "Partner"},
		{"promotions[1].name_zh", "", "新"},
		{"promotions[1].name_en", "", "New"},
		{"promotions[1].link", "", "https://n.example"},
		{"menus.show_user", "true", "false"},
		{"ops.announcements[0].title_zh", "维护通知", ""},
		{"ops.announcements[0].title_en", "Maintenance", ""},
		{"ops.announcements[0].link", "https://partner.example/n/1", ""},
		{"ops.announcements[0].start", "2025-01-01T00:00:00Z", ""},
		{"ops.announcements[0].end", "2025-01-01T01:00:00Z", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if c := Diff(nil, &Document{}); len(c) != 0 {
		t.Fatalf("nil vs empty: %v", c)
	}
}
