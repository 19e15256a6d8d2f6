package render

import (
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/livery/livery/branding"
)

// labels are the chrome's fixed texts in one locale.
type labels struct {
	lang, partnerLogo, promotions, custom, announcements, account, signOut, preview, partners string // account: shown for an empty user name
	chrome, brand, more                                                                       string // landmark names and the overflow menu
	other, otherLang, otherName                                                               string // the language switch
}

var (
	labelsZH = labels{lang: "zh-CN", partnerLogo: "合作伙伴标志", promotions: "推广", custom: "自定义菜单",
		announcements: "公告", account: "账户", signOut: "退出登录", preview: "预览", partners: "我的合作伙伴",
		chrome: "合作伙伴栏", brand: "合作伙伴与云品牌", more: "更多",
		other: LocaleEN, otherLang: "en", otherName: "English"}
	labelsEN = labels{lang: "en", partnerLogo: "Partner logo", promotions: "Promotions", custom: "Menu",
		announcements: "Announcements", account: "Account", signOut: "Sign out", preview: "Preview", partners: "My partners",
		chrome: "Partner bar", brand: "Partner and cloud brands", more: "More",
		other: LocaleZH, otherLang: "zh-CN", otherName: "中文"}
)

// htmlWriter accumulates HTML; every dynamic value goes through text or attr.
type htmlWriter struct{ strings.Builder }

func (w *htmlWriter) raw(s string) { w.WriteString(s) }

// text writes s HTML-escaped (also safe inside a quoted attribute).
func (w *htmlWriter) text(s string) { w.WriteString(html.EscapeString(s)) }

// attr writes ` name="value"` with value escaped.
func (w *htmlWriter) attr(name, value string) {
	w.WriteString(" ")
	w.WriteString(name)
	w.WriteString(`="`)
	w.text(value)
	w.WriteString(`"`)
}

// link writes the href (and, for external links, target and rel) of an <a>
// start tag whose "<a" and other attributes the caller writes. A link that
// is neither an http(s) URL with a host nor a same-origin path is dropped
// (the anchor becomes a placeholder): the document was validated, this is
// defence in depth.
func (w *htmlWriter) link(href string) {
	switch linkKind(href) {
	case linkExternal:
		w.attr("href", href)
		w.raw(` target="_blank" rel="noopener noreferrer"`)
	case linkLocal:
		w.attr("href", href)
	}
}

const (
	linkNone = iota
	linkLocal
	linkExternal
)

func linkKind(s string) int {
	if s == "" || len(s) > branding.MaxLinkLen || strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r)
	}) >= 0 {
		return linkNone
	}
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return linkLocal
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return linkNone
	}
	return linkExternal
}

// pick returns the locale's string, or the other one when it is empty.
func pick(zh bool, zhs, ens string) string {
	if zh && zhs != "" || !zh && ens == "" {
		return zhs
	}
	return ens
}

func assetOK(a branding.Asset) bool {
	if len(a.SHA256) != 64 || strings.Trim(a.SHA256, "0123456789abcdef") != "" {
		return false
	}
	switch a.Ext {
	case "png", "jpg", "webp", "svg":
		return true
	}
	return false
}

// assetPrefix is the URL prefix logos and favicons are served under.
func assetPrefix(up *Upstream) string {
	prefix := up.AssetPrefix
	if prefix == "" || urlProblem(prefix, false) != "" || !strings.HasSuffix(prefix, "/") {
		prefix = DefaultAssetPrefix
	}
	return prefix
}

// InlineItems is how many promotions (and custom menu items) show in the
// bar itself on wide screens (at least 1024 px); the rest, and on narrow
// screens all of them, are in the "More" disclosure.
const InlineItems = 3

// chromeParams is everything bodyHTML needs.
type chromeParams struct {
	doc     *branding.Document
	up      *Upstream
	zh      bool
	l       labels
	now     time.Time
	preview bool
	ribbon  string // preview label
	partner string // partner logo alt text
}

// bodyHTML renders the body fragment split around the user name, and the
// next time the set of active announcements changes (zero if never).
func bodyHTML(p chromeParams) (pre, post string, validUntil time.Time) {
	d, up, zh := p.doc, p.up, p.zh
	var w htmlWriter
	w.Grow(2048)
	// The chrome is one labelled region landmark (axe: all content in
	// landmarks) rather than a banner: the console page has its own, and
	// a second banner is a violation too. Each group inside is a labelled
	// nav (or region, for announcements).
	w.raw(`<section id="livery-chrome" class="livery-chrome"`)
	w.attr("lang", p.l.lang)
	w.attr("aria-label", p.l.chrome)
	w.raw(">\n")

	// Dual brand: partner logo (in its link), separator, cloud logo.
	w.raw(`<nav class="livery-brand"`)
	w.attr("aria-label", p.l.brand)
	w.raw(">")
	w.raw(`<a id="livery-logo-link" class="livery-logo-link"`)
	w.link(pick(zh, d.Brand.LinkZH, d.Brand.LinkEN))
	w.raw(">")
	logo := d.Brand.LogoEN
	if zh && !d.Brand.LogoZH.IsZero() || !zh && d.Brand.LogoEN.IsZero() {
		logo = d.Brand.LogoZH
	}
	if assetOK(logo) {
		prefix := assetPrefix(up)
		w.raw(`<img id="livery-logo-partner" class="livery-logo"`)
		w.attr("src", prefix+logo.SHA256+"."+logo.Ext)
		w.attr("alt", p.partner)
		if logo.Width > 0 && logo.Height > 0 {
			w.raw(` width="` + strconv.Itoa(logo.Width) + `" height="` + strconv.Itoa(logo.Height) + `"`)
		}
		w.raw(">")
	} else if p.partner != "" {
		w.raw(`<span id="livery-logo-partner" class="livery-logo">`)
		w.text(p.partner)
		w.raw("</span>")
	}
	w.raw(`</a><span class="livery-sep" aria-hidden="true"></span>`)
	cloudURL := pick(zh, up.CloudLogo.URLZH, up.CloudLogo.URLEN)
	cloudAlt := pick(zh, up.CloudLogo.AltZH, up.CloudLogo.AltEN)
	if cloudURL != "" && urlProblem(cloudURL, true) == "" {
		w.raw(`<img id="livery-logo-cloud" class="livery-logo"`)
		w.attr("src", cloudURL)
		w.attr("alt", cloudAlt)
		w.raw(">")
	} else {
		w.raw(`<span id="livery-logo-cloud" class="livery-logo">`)
		w.text(cloudAlt)
		w.raw("</span>")
	}
	w.raw("</nav>\n")

	// A list shows its first InlineItems entries in the bar on wide
	// screens and every entry in a "More" disclosure (<details>: keyboard
	// operable, no script); CSS shows each entry in one place only.
	items := func(class, label, summary string, list []branding.Item) {
		if len(list) == 0 {
			return
		}
		entries := func() {
			for _, it := range list {
				w.raw("<li><a")
				w.link(it.Link)
				w.raw(">")
				w.text(pick(zh, it.NameZH, it.NameEN))
				w.raw("</a></li>")
			}
		}
		w.raw(`<nav class="livery-items ` + class + `"`)
		w.attr("aria-label", label)
		w.raw(`><ul class="livery-inline">`)
		entries()
		w.raw(`</ul><details class="livery-more`)
		if len(list) <= InlineItems {
			w.raw(` livery-more-few`) // nothing overflows on wide screens
		}
		w.raw(`"><summary>`)
		w.text(summary)
		w.raw(`</summary><ul class="livery-menu">`)
		entries()
		w.raw("</ul></details></nav>\n")
	}
	items("livery-promo", p.l.promotions, p.l.more, d.Promotions)
	if d.Menus.ShowCustom {
		items("livery-custom", p.l.custom, p.l.custom, d.Menus.Custom)
	}

	if d.Ops.ShowAnnouncements {
		var active []branding.Announcement
		for _, a := range d.Ops.Announcements {
			if !a.Start.After(p.now) && p.now.Before(a.End) {
				active = append(active, a)
			}
			for _, t := range [2]time.Time{a.Start, a.End} {
				if t.After(p.now) && (validUntil.IsZero() || t.Before(validUntil)) {
					validUntil = t
				}
			}
		}
		if len(active) > 0 {
			w.raw(`<section class="livery-announcements"`)
			w.attr("aria-label", p.l.announcements)
			w.raw("><ul>")
			for _, a := range active {
				w.raw("<li>")
				title := pick(zh, a.TitleZH, a.TitleEN)
				if linkKind(a.Link) != linkNone {
					w.raw("<a")
					w.link(a.Link)
					w.raw(">")
					w.text(title)
					w.raw("</a>")
				} else {
					w.text(title)
				}
				w.raw("</li>")
			}
			w.raw("</ul></section>\n")
		}
	}

	// Account menu: a <details> drop-down (no script needed).
	w.raw(`<nav class="livery-account-nav"`)
	w.attr("aria-label", p.l.account)
	w.raw(`><details id="livery-account" class="livery-account"><summary><span id="livery-user" class="livery-user">`)
	pre = w.String()

	w.Reset()
	w.raw(`</span></summary><ul><li><a id="livery-partners" class="livery-partners"`)
	w.attr("href", PartnersPath)
	w.raw(">")
	w.text(p.l.partners)
	w.raw(`</a></li><li><a id="livery-signout" class="livery-signout"`)
	signOut := up.SignOutURL
	if signOut == "" || urlProblem(signOut, false) != "" {
		signOut = DefaultSignOutURL
	}
	w.attr("href", signOut)
	w.raw(">")
	w.text(p.l.signOut)
	w.raw("</a></li><li><a id=\"livery-lang\" class=\"livery-lang\"")
	w.attr("href", LanguagePath+"?to="+p.l.other)
	w.attr("lang", p.l.otherLang)
	w.raw(">")
	w.text(p.l.otherName)
	w.raw("</a></li></ul></details></nav>\n")
	if p.preview {
		// Fixed on screen; inside the landmark in the DOM.
		w.raw(`<div id="livery-preview-ribbon" class="livery-preview-ribbon" role="status">`)
		w.text(p.ribbon)
		w.raw("</div>\n")
	}
	w.raw("</section>\n")
	return pre, w.String(), validUntil
}
