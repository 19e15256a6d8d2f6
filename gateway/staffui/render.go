package staffui

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates: each page file with the layout and the
// shared partials (templates/_*.html).
var pages = parsePages()

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"when":    formatTime,
		"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"join":    strings.Join,
		"add":     func(a, b int) int { return a + b },
		"dict":    dict,
		"qs":      func(v url.Values) template.URL { return template.URL(v.Encode()) },
		"hasRole": func(roles []string, r string) bool { return contains(roles, r) },
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
		"has": func(l []string, s string) bool { return contains(l, s) },
		"inStaff": func(l []tenants.StaffMember, user string) bool {
			for _, m := range l {
				if m.User == user {
					return true
				}
			}
			return false
		},
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t := template.Must(base.Clone())
		out[name] = template.Must(t.ParseFS(templateFS, n))
	}
	return out
}

func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// formatTime shows a time in UTC, minutes precision; the zero time is "—".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

// navItem is one entry of the top navigation.
type navItem struct {
	Href, Label string
	Current     bool
}

// flash is a message at the top of a page: Kind "ok" or "error".
type flash struct {
	Kind, Text string
}

// pageData is what every template gets. Data is the page's own.
type pageData struct {
	Title     string // catalog key
	TitleArg  string
	Lang      string
	User      string
	Roles     []string
	Tenant    string // the tenant the page is about, if any
	Nav       []navItem
	CSRF      string
	Flash     *flash
	ErrCode   string // the ?err= code of a refused form, for showing it beside its field too
	RequestID string
	Path      string // the page's path and query, for the language switch
	Other     string // the other language
	Data      any
}

// T translates a catalog key into the page's language (see i18n.go).
func (p pageData) T(key string, args ...any) string { return tr(p.Lang, key, args...) }

// DefaultScopes are the sign-in scopes a blank field means, for its
// placeholder.
func (pageData) DefaultScopes() string { return strings.Join(tenants.DefaultScopes, " ") }

// LangURL is the current page in the other language.
func (p pageData) LangURL() string {
	u, err := url.Parse(p.Path)
	if err != nil {
		return Root + "?lang=" + p.Other
	}
	q := u.Query()
	q.Set("lang", p.Other)
	u.RawQuery = q.Encode()
	return u.String()
}

// lang is the request's UI language: the language cookie (set by ?lang=),
// else the best of Accept-Language.
func lang(c *fiber.Ctx) string {
	return render.Locale(c.Get(fiber.HeaderAcceptLanguage), c.Cookies(render.LocaleCookie))
}

// base fills the common part of a page for the signed-in staff member.
func (u *UI) base(c *fiber.Ctx, title, tenant string) pageData {
	l := lang(c)
	p := pageData{Title: title, Lang: l, Other: otherLang(l), Tenant: tenant,
		RequestID: web.RequestIDOf(c), Path: string(c.Request().RequestURI())}
	if s, ok := web.PrincipalOf(c); ok {
		p.User, _ = c.Locals(web.LocalPrincipalName).(string)
		p.Roles = s.Roles
		p.CSRF = csrfToken(c)
		p.Nav = u.nav(c, s, tenant)
	}
	if k := c.Query("done"); k != "" && strings.HasPrefix(k, "done.") && hasKey(k) {
		p.Flash = &flash{Kind: "ok", Text: tr(l, k)}
	} else if p.Flash = errorFlash(c); p.Flash != nil {
		p.ErrCode = c.Query("err")
	}
	return p
}

func otherLang(l string) string {
	if l == render.LocaleZH {
		return render.LocaleEN
	}
	return render.LocaleZH
}

// nav is the navigation for s: each entry is shown only when the page it
// leads to would be allowed.
func (u *UI) nav(c *fiber.Ctx, s authz.Subject, tenant string) []navItem {
	l := lang(c)
	cur := c.Path()
	var items []navItem
	add := func(href, key string) {
		items = append(items, navItem{Href: href, Label: tr(l, key),
			Current: cur == href || (href != Root && strings.HasPrefix(cur, href))})
	}
	add(Root, "nav.home")
	if u.allowed(c, http.MethodGet, "/reviews", "") {
		add(Prefix+"reviews", "nav.reviews")
		add(Prefix+"tenants", "nav.tenants")
	}
	if u.o.Records != nil && u.allowed(c, http.MethodGet, "/tenants", "") {
		add(Prefix+"partners", "nav.partners")
	}
	t := tenant
	if t == "" {
		t = s.Tenant
	}
	if t == "" {
		return items
	}
	tp := Prefix + "t/" + url.PathEscape(t)

	if u.o.Customers != nil && u.allowed(c, http.MethodGet, "/tenants/"+t+"/customers", t) {
		add(tp+"/customers", "nav.customers")
	}
	if u.o.Delegations != nil && u.o.Customers != nil && u.allowed(c, http.MethodGet, "/tenants/"+t+"/delegations", t) {
		add(tp+"/delegations", "nav.delegations")
	}
	if u.allowed(c, http.MethodGet, "/tenants/"+t+"/branding/draft", t) {
		add(tp+"/branding", "nav.branding")
		add(tp+"/branding/history", "nav.history")
	}
	if u.allowed(c, http.MethodGet, "/tenants/"+t+"/branding/audit", t) {
		add(tp+"/audit", "nav.audit")
	}
	if u.o.Associations != nil && u.allowed(c, http.MethodGet, "/tenants/"+t+"/invitations", t) {
		add(tp+"/invitations", "nav.invitations")
	}
	if u.o.Keys != nil && u.allowed(c, http.MethodGet, "/tenants/"+t+"/keys", t) {
		add(tp+"/keys", "nav.keys")
	}
	if u.o.Records != nil && u.allowed(c, http.MethodGet, "/tenants/"+t, t) {
		add(tp+"/integration", "nav.integration")
	}
	return items
}

// page renders template name with p (its common fields filled in by the
// caller through base) as a full HTML page.
func (u *UI) page(c *fiber.Ctx, name string, p pageData) error {
	if p.Lang == "" {
		l := lang(c)
		p.Lang, p.Other, p.RequestID = l, otherLang(l), web.RequestIDOf(c)
		p.Path = string(c.Request().RequestURI())
	}
	t, ok := pages[name]
	if !ok {
		return fmt.Errorf("staffui: no template %q", name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return fmt.Errorf("staffui: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(b.Bytes())
}

// done redirects (303) to where after a successful form, with the catalog
// key of the success message.
func done(c *fiber.Ctx, where, key string) error {
	// The query goes before a fragment ("…/x#delegation"), as in back.
	where, frag, hasFrag := strings.Cut(where, "#")
	sep := "?"
	if strings.Contains(where, "?") {
		sep = "&"
	}
	if hasFrag {
		frag = "#" + frag
	}
	return c.Redirect(where+sep+"done="+url.QueryEscape(key)+frag, http.StatusSeeOther)
}

// errorPage renders an error in the UI's layout (web.CodeTable.Page).
func (u *UI) errorPage(c *fiber.Ctx, e *web.Error, rid string) error {
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	p := u.base(c, "error.title", "")
	p.RequestID = rid
	p.Data = map[string]any{"Status": e.Status, "Code": e.Code, "Message": errorText(p.Lang, e),
		"Hint": errorHint(p.Lang, e.Status)}
	return u.page(c, "error", p)
}

// csrfToken is the form token of the request's staff session: a hash of
// the session id (it reveals nothing of the id and dies with the session).
// Bearer-token callers have no session and no token: the UI's forms are
// for browsers.
func csrfToken(c *fiber.Ctx) string {
	s := web.SessionOf(c)
	if s == nil {
		return ""
	}
	sum := sha256.Sum256([]byte("livery-staff-ui-csrf\x00" + s.ID))
	return hex.EncodeToString(sum[:])
}

// csrfField is the form field carrying csrfToken.
const csrfField = "_csrf"

// csrf refuses a state-changing request whose form token is missing or
// not the session's (constant-time comparison). The sign-in door already
// checked the Origin; the token also stops same-site attackers.
func (u *UI) csrf(c *fiber.Ctx) error {
	switch c.Method() {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return c.Next()
	}
	want := csrfToken(c)
	got := c.FormValue(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return web.Errorf(http.StatusForbidden, "csrf_failed",
			"The form has expired or did not come from this site. Reload the page and try again. / 表单已过期或并非来自本站，请刷新页面后重试。")
	}
	return c.Next()
}
