package render

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on upstream configuration values.
const (
	MaxSelectorLen = 1024
	MaxAltRunes    = 64
	maxURLLen      = 2048
)

// MenuSelectors are the CSS selectors of the upstream console's hideable
// menu areas (see branding.Menus). An empty selector means the upstream has
// no such area: nothing is hidden for it.
type MenuSelectors struct {
	Info      string `json:"info" yaml:"info"`
	Resources string `json:"resources" yaml:"resources"`
	User      string `json:"user" yaml:"user"`
	Custom    string `json:"custom" yaml:"custom"`
}

// OpsSelectors are the CSS selectors of the upstream console's operations
// info areas (see branding.Ops). Empty means "no such area".
type OpsSelectors struct {
	Announcements string `json:"announcements" yaml:"announcements"`
	Activities    string `json:"activities" yaml:"activities"`
	Recommended   string `json:"recommended" yaml:"recommended"`
}

// CloudLogo is the cloud provider's own logo, shown beside the partner's
// (dual brand). With an empty URL for a locale the alt text is shown as a
// text mark instead of an image. URLs are same-origin paths ("/static/x.svg",
// which need no CSP change) or absolute https URLs (which the upstream's own
// img-src must already allow).
type CloudLogo struct {
	URLZH string `json:"url_zh" yaml:"url_zh"`
	URLEN string `json:"url_en" yaml:"url_en"`
	AltZH string `json:"alt_zh" yaml:"alt_zh"`
	AltEN string `json:"alt_en" yaml:"alt_en"`
}

// Upstream is the upstream-console-specific part of rendering: where its
// areas are (CSS selectors), its own logo, and Livery's URLs. It is
// configuration: check it once with ValidateUpstream. Render skips (never
// emits) selectors and URLs that fail validation.
type Upstream struct {
	// Menus and Ops locate the areas hidden when the document unticks them.
	Menus MenuSelectors `json:"menus" yaml:"menus"`
	Ops   OpsSelectors  `json:"ops" yaml:"ops"`
	// Nav is the upstream's navigation bar; its background is set to the
	// document's NavColor. Empty: only Livery's own bar is coloured.
	Nav string `json:"nav" yaml:"nav"`
	// Logo is the upstream's own logo area, always hidden because the chrome
	// shows CloudLogo beside the partner logo. Empty: left alone.
	Logo string `json:"logo" yaml:"logo"`
	// CloudLogo is the cloud's logo shown in the chrome.
	CloudLogo CloudLogo `json:"cloud_logo" yaml:"cloud_logo"`
	// DefaultNavColor (#RRGGBB) colours Livery's bar when the document sets
	// no NavColor. Empty means #1f2329.
	DefaultNavColor string `json:"default_nav_color" yaml:"default_nav_color"`
	// SignOutURL is the account menu's sign-out link (default
	// "/_livery/logout").
	SignOutURL string `json:"sign_out_url" yaml:"sign_out_url"`
	// AssetPrefix is where content-addressed logos are served: an asset's
	// URL is AssetPrefix + sha256 + "." + ext (default "/_livery/assets/").
	AssetPrefix string `json:"asset_prefix" yaml:"asset_prefix"`
}

// PartnersPath is the customer's "My partners" (我的合作伙伴) pages on the
// console host (gateway/mypartners), linked from the account menu.
const PartnersPath = "/_livery/partners"

// Defaults used when the corresponding Upstream field is empty.
const (
	DefaultSignOutURL  = "/_livery/logout"
	DefaultAssetPrefix = "/_livery/assets/"
	defaultNavColor    = "#1f2329"
)

// DefaultUpstream matches the demo console (cmd/democonsole/console): its
// stable cc-* element ids.
func DefaultUpstream() Upstream {
	return Upstream{
		Menus: MenuSelectors{
			Info:      "#cc-info-menu",
			Resources: "#cc-resource-menu",
			User:      "#cc-user-menu",
			Custom:    "#cc-custom-menu",
		},
		Ops: OpsSelectors{
			Announcements: "#cc-announcements",
			Activities:    "#cc-activities",
			Recommended:   "#cc-recommended",
		},
		Nav:             "#cc-topnav",
		Logo:            "#cc-logo",
		CloudLogo:       CloudLogo{AltZH: "演示云", AltEN: "Demo Cloud"},
		DefaultNavColor: defaultNavColor,
		SignOutURL:      DefaultSignOutURL,
		AssetPrefix:     DefaultAssetPrefix,
	}
}

// ErrInvalidUpstream is wrapped by every error ValidateUpstream returns.
var ErrInvalidUpstream = errors.New("render: invalid upstream configuration")

// UpstreamError names the offending field (its JSON/YAML path, such as
// "menus.info").
type UpstreamError struct {
	Field, Message string
}

func (e *UpstreamError) Error() string {
	return "render: invalid upstream configuration: " + e.Field + ": " + e.Message
}

func (e *UpstreamError) Unwrap() error { return ErrInvalidUpstream }

// ValidateUpstream checks up and returns nil or the joined *UpstreamError of
// every bad field. Selectors must not contain characters that could end the
// CSS rule or the <style> element ({ } < > ; \ and control characters such
// as newlines), comment delimiters, or unbalanced quotes. URLs are
// same-origin paths (or, for the cloud logo, https URLs) without quotes,
// spaces or control characters; AssetPrefix is a path ending in '/'.
func ValidateUpstream(up Upstream) error {
	var errs []error
	add := func(field, msg string) { errs = append(errs, &UpstreamError{Field: field, Message: msg}) }
	for _, s := range []struct{ field, sel string }{
		{"menus.info", up.Menus.Info}, {"menus.resources", up.Menus.Resources},
		{"menus.user", up.Menus.User}, {"menus.custom", up.Menus.Custom},
		{"ops.announcements", up.Ops.Announcements}, {"ops.activities", up.Ops.Activities},
		{"ops.recommended", up.Ops.Recommended}, {"nav", up.Nav}, {"logo", up.Logo},
	} {
		if msg := selectorProblem(s.sel); msg != "" {
			add(s.field, msg)
		}
	}
	for _, u := range []struct{ field, url string }{
		{"cloud_logo.url_zh", up.CloudLogo.URLZH}, {"cloud_logo.url_en", up.CloudLogo.URLEN},
	} {
		if msg := urlProblem(u.url, true); u.url != "" && msg != "" {
			add(u.field, msg)
		}
	}
	for _, a := range []struct{ field, text string }{
		{"cloud_logo.alt_zh", up.CloudLogo.AltZH}, {"cloud_logo.alt_en", up.CloudLogo.AltEN},
	} {
		if msg := altProblem(a.text); msg != "" {
			add(a.field, msg)
		}
	}
	if up.DefaultNavColor != "" && !isColor(up.DefaultNavColor) {
		add("default_nav_color", "must be a colour like #1A2B3C")
	}
	if msg := urlProblem(up.SignOutURL, false); up.SignOutURL != "" && msg != "" {
		add("sign_out_url", msg)
	}
	if p := up.AssetPrefix; p != "" {
		if msg := urlProblem(p, false); msg != "" {
			add("asset_prefix", msg)
		} else if !strings.HasSuffix(p, "/") || strings.ContainsAny(p, "?#") {
			add("asset_prefix", "must be a path ending in '/'")
		}
	}
	return errors.Join(errs...)
}

// selectorProblem returns why s cannot be used as a selector ("" if it can;
// the empty selector is allowed and means "none").
func selectorProblem(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) > MaxSelectorLen:
		return fmt.Sprintf("at most %d bytes", MaxSelectorLen)
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.TrimSpace(s) == "":
		return "must not be blank"
	case strings.ContainsAny(s, "{}<>;\\"):
		return `must not contain any of { } < > ; \`
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) >= 0:
		return "must not contain newlines or control characters"
	case strings.Contains(s, "/*") || strings.Contains(s, "*/"):
		return "must not contain comment delimiters"
	case strings.HasPrefix(strings.TrimSpace(s), ",") || strings.HasSuffix(strings.TrimSpace(s), ","):
		return "must not start or end with ','"
	}
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		}
	}
	if quote != 0 {
		return "unbalanced quote"
	}
	return ""
}

func validSelector(s string) bool { return s != "" && selectorProblem(s) == "" }

// urlProblem checks a URL emitted into an attribute: a same-origin absolute
// path, or (allowHTTPS) an https URL with a host.
func urlProblem(s string, allowHTTPS bool) string {
	if len(s) > maxURLLen {
		return fmt.Sprintf("at most %d bytes", maxURLLen)
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\\' || r == '"' || r == '\'' || r == '<' || r == '>' || r == '`' || unicode.IsSpace(r) || unicode.IsControl(r)
	}) >= 0 || !utf8.ValidString(s) {
		return "must not contain spaces, quotes, angle brackets, backslashes or control characters"
	}
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		if _, err := url.Parse(s); err != nil {
			return "not a valid URL path"
		}
		return ""
	}
	if allowHTTPS {
		if u, err := url.Parse(s); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
			return ""
		}
		return "must be a path starting with '/' or an https URL"
	}
	return "must be a path starting with '/'"
}

func altProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(s) > MaxAltRunes:
		return fmt.Sprintf("at most %d characters", MaxAltRunes)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return "must not contain control or formatting characters"
	}
	return ""
}

func isColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
