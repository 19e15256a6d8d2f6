package branding

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateOptions tunes Validate.
type ValidateOptions struct {
	// AllowLoopbackHTTP accepts http:// links whose host is localhost or a
	// loopback address (development only). https is always required otherwise.
	AllowLoopbackHTTP bool
}

var (
	colorRe  = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)
	imageExt = map[string]bool{"png": true, "jpg": true, "webp": true, "svg": true}
)

type checker struct {
	o        ValidateOptions
	problems []Problem
}

func (c *checker) add(field, format string, a ...any) {
	c.problems = append(c.problems, Problem{Field: field, Message: fmt.Sprintf(format, a...)})
}

// Validate checks the whole document and returns nil or a *ValidationError
// (wrapping ErrInvalid) listing every problem with its field path. Rules:
// links are absolute https URLs with a host (http only for loopback hosts with
// AllowLoopbackHTTP), no credentials, no whitespace or control characters, at
// most MaxLinkLen bytes; item names are 1–MaxNameRunes runes, announcement
// titles 1–MaxTitleRunes, valid UTF-8 with no control characters and no '<'
// or '>'; NavColor is empty or #RRGGBB; list lengths are bounded; an
// announcement's End is after its Start; logos, when set, are well-formed
// content-addressed assets (the same asset may serve both languages); the
// favicon, when set, is such an asset of a type in FaviconExts; the title
// suffixes, when set, follow the name rules with at most
// MaxTitleSuffixRunes runes.
func (d *Document) Validate(o ValidateOptions) error {
	c := &checker{o: o}
	c.asset("brand.logo_zh", d.Brand.LogoZH)
	c.asset("brand.logo_en", d.Brand.LogoEN)
	c.optionalLink("brand.link_zh", d.Brand.LinkZH)
	c.optionalLink("brand.link_en", d.Brand.LinkEN)
	if d.Brand.NavColor != "" && !colorRe.MatchString(d.Brand.NavColor) {
		c.add("brand.nav_color", "must be a colour like #1A2B3C")
	}
	c.favicon("brand.favicon", d.Brand.Favicon)
	c.optionalText("brand.title_suffix_zh", d.Brand.TitleSuffixZH, MaxTitleSuffixRunes)
	c.optionalText("brand.title_suffix_en", d.Brand.TitleSuffixEN, MaxTitleSuffixRunes)
	c.items("promotions", d.Promotions, MaxPromotions)
	c.items("menus.custom", d.Menus.Custom, MaxCustomMenus)
	if len(d.Ops.Announcements) > MaxAnnouncements {
		c.add("ops.announcements", "at most %d items (got %d)", MaxAnnouncements, len(d.Ops.Announcements))
	}
	for i, a := range d.Ops.Announcements {
		p := fmt.Sprintf("ops.announcements[%d]", i)
		c.text(p+".title_zh", a.TitleZH, MaxTitleRunes)
		c.text(p+".title_en", a.TitleEN, MaxTitleRunes)
		c.optionalLink(p+".link", a.Link)
		switch {
		case a.Start.IsZero():
			c.add(p+".start", "required")
		case a.End.IsZero():
			c.add(p+".end", "required")
		case !a.End.After(a.Start):
			c.add(p+".end", "must be after start")
		}
	}
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.problems}
}

func (c *checker) asset(field string, a Asset) {
	if a.IsZero() {
		return
	}
	if !sha256Re.MatchString(a.SHA256) {
		c.add(field+".sha256", "must be 64 lower-case hex digits")
	}
	if !imageExt[a.Ext] {
		c.add(field+".ext", "must be one of png, jpg, webp, svg")
	}
	if a.Width < 0 || a.Height < 0 || (a.Ext != "svg" && (a.Width == 0 || a.Height == 0)) {
		c.add(field, "invalid dimensions %dx%d", a.Width, a.Height)
	}
}

// favicon checks an optional favicon: a well-formed asset (one problem per
// field, as for logos) whose type browsers show in a tab.
func (c *checker) favicon(field string, a Asset) {
	if a.IsZero() {
		return
	}
	n := len(c.problems)
	c.asset(field, a)
	if len(c.problems) == n && !slices.Contains(FaviconExts, a.Ext) {
		c.add(field+".ext", "must be one of %s", strings.Join(FaviconExts, ", "))
	}
}

// optionalText is text for a field that may be empty.
func (c *checker) optionalText(field, s string, maxRunes int) {
	if s != "" {
		c.text(field, s, maxRunes)
	}
}

func (c *checker) items(field string, items []Item, maxN int) {
	if len(items) > maxN {
		c.add(field, "at most %d items (got %d)", maxN, len(items))
	}
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", field, i)
		c.text(p+".name_zh", it.NameZH, MaxNameRunes)
		c.text(p+".name_en", it.NameEN, MaxNameRunes)
		c.link(p+".link", it.Link)
	}
}

func (c *checker) text(field, s string, maxRunes int) {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		c.add(field, "must be valid UTF-8")
	case strings.TrimSpace(s) == "":
		c.add(field, "required")
	case n > maxRunes:
		c.add(field, "at most %d characters (got %d)", maxRunes, n)
	case strings.ContainsAny(s, "<>"):
		c.add(field, "must not contain '<' or '>'")
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		c.add(field, "must not contain control or formatting characters")
	}
}

func (c *checker) optionalLink(field, s string) {
	if s != "" {
		c.link(field, s)
	}
}

// link enforces the URL policy and records at most one problem.
func (c *checker) link(field, s string) {
	if msg := linkProblem(s, c.o.AllowLoopbackHTTP); msg != "" {
		c.add(field, "%s", msg)
	}
}

func linkProblem(s string, allowLoopbackHTTP bool) string {
	if s == "" {
		return "required"
	}
	if len(s) > MaxLinkLen {
		return fmt.Sprintf("at most %d characters", MaxLinkLen)
	}
	if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' || unicode.IsSpace(r) }) >= 0 {
		return "must not contain spaces, control characters or backslashes"
	}
	if i := strings.IndexByte(s, ':'); i > 0 {
		switch strings.ToLower(s[:i]) {
		case "javascript", "data", "vbscript", "file", "blob", "filesystem":
			return fmt.Sprintf("scheme %q is not allowed", strings.ToLower(s[:i]))
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "not a valid URL"
	}
	if u.User != nil {
		return "must not contain credentials"
	}
	if !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return "must be an absolute URL with a host"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if allowLoopbackHTTP && isLoopback(u.Hostname()) {
			return ""
		}
	}
	return "must be https"
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
