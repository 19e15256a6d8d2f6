// Package render turns an approved (or previewed) branding.Document into the
// chrome injected into the upstream console's HTML pages: a versioned
// stylesheet, a small critical inline <style> (hashed for CSP), and a header
// bar with the partner and cloud logos, promotions, the custom menu, active
// announcements and an account menu.
//
// The output needs no script and no style attribute, so it renders under a
// strict Content-Security-Policy; AdjustCSP adds what it needs (a nonce or
// the style hash, and 'self' for the stylesheet and logos). Render is pure
// and comparatively slow; Chrome.Fragments is the cheap per-request step
// (it only splices in the user name and the CSP nonce), and Cache keeps
// rendered chromes per (tenant, version, locale, preview).
package render

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/inject"
)

// Locales accepted by Render (anything else renders English).
const (
	LocaleZH = "zh"
	LocaleEN = "en"
)

// StylesheetPrefix is the path under which versioned stylesheets are served:
// StylesheetPrefix + url.PathEscape(tenant) + "/" + version + "-" + hash8 + ".css".
const StylesheetPrefix = "/_livery/branding/"

// RenderOptions tunes Render.
type RenderOptions struct {
	// Preview adds a fixed, visible ribbon (id livery-preview-ribbon) with
	// PreviewLabel (default "预览" / "Preview").
	Preview      bool
	PreviewLabel string
	// PartnerName is the partner logo's alt text (default "合作伙伴标志" /
	// "Partner logo").
	PartnerName string
	// Now is the render time deciding which announcements are active (zero:
	// time.Now()).
	Now time.Time
}

// Chrome is one rendered branding for a (tenant, version, locale, preview).
// It is immutable and safe for concurrent use.
type Chrome struct {
	Tenant  string
	Version int
	Locale  string // LocaleZH or LocaleEN
	Preview bool

	// CSS is the full stylesheet, served at StylesheetPath. It depends only
	// on the document and the upstream, not on the locale or preview flag.
	CSS []byte
	// CriticalCSS is the content of the inline <style> element (nav colour
	// and hidden areas, so nothing flashes before CSS loads).
	CriticalCSS []byte
	// RenderedAt is the render time; ValidUntil the next announcement start
	// or end after it (zero if none): re-render once it has passed.
	RenderedAt time.Time
	ValidUntil time.Time

	path      string
	styleHash string
	// Static parts of the fragments: head is
	//   headLink [nonce] headStyle [nonce] headTail
	// and body is bodyPre <escaped user name> bodyPost.
	headLink, headStyle, headTail []byte
	bodyPre, bodyPost             []byte
	title                         []byte // the escaped tab-title suffix fragment, nil without one
	account                       string // shown when the user name is empty
}

// Render renders doc for one tenant, version and locale ("zh" or "en"). doc
// should have passed Validate; Render is defensive anyway (unsafe links,
// malformed assets and colours, invalid upstream selectors are dropped,
// every text is escaped). A nil doc renders the zero Document.
func Render(tenant string, version int, doc *branding.Document, locale string, up Upstream, opts RenderOptions) *Chrome {
	if doc == nil {
		doc = &branding.Document{}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	zh := locale == LocaleZH
	l := labelsEN
	if zh {
		l = labelsZH
		locale = LocaleZH
	} else {
		locale = LocaleEN
	}
	c := &Chrome{Tenant: tenant, Version: version, Locale: locale, Preview: opts.Preview, RenderedAt: now, account: l.account}

	hidden := hiddenSelectors(doc, &up)
	pal := navPalette(doc, &up)
	c.CSS = fullCSS(tenant, version, hidden, pal, &up)
	c.CriticalCSS = criticalCSS(hidden, pal, &up)
	sum := sha256.Sum256(c.CSS)
	c.path = StylesheetPrefix + url.PathEscape(tenant) + "/" + strconv.Itoa(version) + "-" + hex.EncodeToString(sum[:4]) + ".css"
	crit := sha256.Sum256(c.CriticalCSS)
	c.styleHash = "sha256-" + base64.StdEncoding.EncodeToString(crit[:])

	var w htmlWriter
	w.raw(`<link rel="stylesheet" id="livery-stylesheet"`)
	w.attr("href", c.path)
	c.headLink = []byte(w.String())
	c.headStyle = []byte(`><style id="livery-critical"`)
	w.Reset()
	w.raw(">" + string(c.CriticalCSS) + "</style>\n")
	faviconLink(&w, doc.Brand.Favicon, assetPrefix(&up))
	c.headTail = []byte(w.String())
	if t := pick(zh, doc.Brand.TitleSuffixZH, doc.Brand.TitleSuffixEN); t != "" && altProblem(t) == "" {
		c.title = []byte(TitleSeparator + html.EscapeString(t))
	}

	partner := opts.PartnerName
	if partner == "" || altProblem(partner) != "" {
		partner = l.partnerLogo
	}
	ribbon := opts.PreviewLabel
	if ribbon == "" {
		ribbon = l.preview
	}
	pre, post, until := bodyHTML(chromeParams{doc: doc, up: &up, zh: zh, l: l, now: now,
		preview: opts.Preview, ribbon: ribbon, partner: partner})
	c.bodyPre, c.bodyPost, c.ValidUntil = []byte(pre), []byte(post), until
	return c
}

// TitleSeparator goes between the console's own page title and the
// partner's title suffix.
const TitleSeparator = " – "

// faviconLink writes the <link rel="icon"> of a favicon asset (PNG or SVG);
// anything else writes nothing.
func faviconLink(w *htmlWriter, a branding.Asset, prefix string) {
	if !assetOK(a) || !slices.Contains(branding.FaviconExts, a.Ext) {
		return
	}
	w.raw(`<link rel="icon" id="livery-favicon"`)
	w.attr("href", prefix+a.SHA256+"."+a.Ext)
	if a.Ext == "svg" {
		w.raw(` type="image/svg+xml"`)
	} else {
		w.raw(` type="image/png"`)
	}
	w.raw(">\n")
}

// TitleSuffix is the fragment appended to the page's <title> (the
// separator and the escaped suffix in the chrome's locale), or nil when
// the document sets none.
func (c *Chrome) TitleSuffix() []byte { return c.title }

// StylesheetPath is the versioned URL path of CSS; its last component
// changes whenever the CSS does, so it can be served immutable.
func (c *Chrome) StylesheetPath() string { return c.path }

// StyleHash is the CSP source for the critical <style>: "sha256-<base64>"
// (quote it as 'sha256-...' in a policy; AdjustCSP does).
func (c *Chrome) StyleHash() string { return c.styleHash }

// Expired reports whether the chrome must be re-rendered at now.
func (c *Chrome) Expired(now time.Time) bool {
	return !c.ValidUntil.IsZero() && !now.Before(c.ValidUntil)
}

// ParseStylesheetPath splits a path built by StylesheetPath into the tenant,
// version and the 8-hex-digit hash of the CSS. ok is false for any other
// path.
func ParseStylesheetPath(p string) (tenant string, version int, hash8 string, ok bool) {
	rest, found := strings.CutPrefix(p, StylesheetPrefix)
	if !found {
		return "", 0, "", false
	}
	t, file, found := strings.Cut(rest, "/")
	if !found || t == "" || strings.Contains(file, "/") {
		return "", 0, "", false
	}
	file, found = strings.CutSuffix(file, ".css")
	v, h, found2 := strings.Cut(file, "-")
	if !found || !found2 || len(h) != 8 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", 0, "", false
	}
	version, err := strconv.Atoi(v)
	if err != nil || strconv.Itoa(version) != v {
		return "", 0, "", false
	}
	tenant, err = url.PathUnescape(t)
	if err != nil {
		return "", 0, "", false
	}
	return tenant, version, h, true
}

// Fragments assembles the injected fragments for one response: the cached
// static parts, the HTML-escaped userName (the localized "Account" if
// empty) and, if nonce is a valid CSP nonce value ([A-Za-z0-9+/=_-], 1–128
// bytes; anything else is ignored), nonce="..." on the <link> and <style>.
// It allocates exactly one buffer per fragment.
//
// Head is the <link rel="stylesheet"> and the critical <style>; package
// inject puts it right after the page's <head> start tag, i.e. before the
// upstream's own styles (hence !important on the hide and nav rules) and
// before its <meta charset>, which browsers only honour within the first
// 1024 bytes: Head is a few hundred bytes with the default selectors, keep
// configured selectors short. Body is the header bar (and preview ribbon),
// put right after the <body> start tag. Title is TitleSuffix, put before
// the page's </title>.
func (c *Chrome) Fragments(userName, nonce string) inject.Fragments {
	if !ValidNonce(nonce) {
		nonce = ""
	}
	na := 0
	if nonce != "" {
		na = len(` nonce=""`) + len(nonce)
	}
	head := make([]byte, 0, len(c.headLink)+len(c.headStyle)+len(c.headTail)+2*na)
	head = append(head, c.headLink...)
	head = appendNonce(head, nonce)
	head = append(head, c.headStyle...)
	head = appendNonce(head, nonce)
	head = append(head, c.headTail...)

	if userName == "" {
		userName = c.account
	}
	n, simple := escapedLen(userName)
	if !simple {
		userName = cleanName(userName)
		n, _ = escapedLen(userName)
	}
	body := make([]byte, 0, len(c.bodyPre)+n+len(c.bodyPost))
	body = append(body, c.bodyPre...)
	body = appendEscaped(body, userName)
	body = append(body, c.bodyPost...)
	return inject.Fragments{Head: head, Body: body, Title: c.title}
}

func appendNonce(b []byte, nonce string) []byte {
	if nonce == "" {
		return b
	}
	b = append(b, ` nonce="`...)
	b = append(b, nonce...)
	return append(b, '"')
}

// maxNameBytes bounds the displayed user name.
const maxNameBytes = 256

// escapedLen is the HTML-escaped length of s, and whether s needs no
// cleaning (at most maxNameBytes, valid UTF-8, no C0/C1 control characters).
func escapedLen(s string) (int, bool) {
	n, simple := 0, len(s) <= maxNameBytes
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r < 0xa0 {
				simple = false
			}
			n += size
			i += size
			continue
		}
		switch {
		case c == '&':
			n += len("&amp;")
		case c == '<' || c == '>':
			n += len("&lt;")
		case c == '"' || c == '\'':
			n += len("&#34;")
		case c < ' ' || c == 0x7f:
			simple = false
			n++
		default:
			n++
		}
		i++
	}
	return n, simple
}

// cleanName drops control characters and invalid UTF-8 and truncates to
// maxNameBytes (on a rune boundary).
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		if r < ' ' || r >= 0x7f && r < 0xa0 {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxNameBytes {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// ValidNonce reports whether s can be used as a CSP nonce attribute value:
// 1–128 characters from [A-Za-z0-9+/=_-].
func ValidNonce(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
