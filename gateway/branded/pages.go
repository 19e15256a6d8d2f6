package branded

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/web"
)

// Pages renders Livery's own pages on a console host (signed out, not
// found, upstream errors, sign-in errors) in the tenant's chrome — the
// approved branding's logos, navigation colour and names, or the staff
// member's preview — in the visitor's language (the chrome's language
// cookie, else Accept-Language), under a strict Content-Security-Policy:
// no script at all, styles only from the chrome's stylesheet and two
// hashed <style> elements, images from this host (and https, for the
// cloud logo).
type Pages struct{ chrome *Chrome }

// NewPages renders pages with the branding of p when it is a *Chrome;
// with any other provider (or nil) its methods return an error, so the
// callers' plain pages are written.
func NewPages(p ChromeProvider) *Pages {
	ch, _ := p.(*Chrome)
	return &Pages{chrome: ch}
}

// errNoTenant: the page is not on a tenant's host; the caller falls back.
var errNoTenant = errors.New("branded: no tenant for the page")

// pageCSS styles the page's own content (the chrome has its stylesheet).
const pageCSS = `html{background:#f5f6f7}body{margin:0;color:#1f2329;font:16px/1.55 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif}` +
	`#livery-page{max-width:40rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #dee0e3;border-radius:8px}` +
	`#livery-page h1{font-size:1.5rem;margin:0 0 .75rem}#livery-page .livery-status{color:#646a73;font-weight:400;margin-right:.5rem}` +
	`#livery-page a{color:#0b57d0}#livery-page a:focus-visible{outline:2px solid #0b57d0;outline-offset:2px}` +
	`#livery-page code{background:#f3f3f3;padding:.1rem .3rem;overflow-wrap:anywhere}` +
	`#livery-page .livery-other{margin-top:1.5rem;padding-top:1rem;border-top:1px solid #eceef0;color:#646a73;font-size:.9rem}`

var pageCSSHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var pageHTML = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">{{.Head}}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}{{.Suffix}}</title><style>{{.CSS}}</style></head>
<body>{{.Body}}<main id="livery-page">
<h1>{{if .Status}}<span class="livery-status">{{.Status}}</span>{{end}}{{.Title}}</h1>
<p id="livery-page-text">{{.Text}}</p>{{if .Next}}<p id="livery-page-next">{{.Next}}</p>{{end}}
{{if .P.LinkHref}}<p><a id="livery-page-action" href="{{.P.LinkHref}}">{{.Link}}</a></p>{{end}}
{{if .P.RequestID}}<p id="livery-page-request">{{.RequestIDLabel}}: <code>{{.P.RequestID}}</code></p>{{end}}
<div class="livery-other" lang="{{.OtherLang}}"><p>{{.OtherTitle}}</p><p>{{.OtherText}}{{if .OtherNext}} {{.OtherNext}}{{end}}</p></div>
</main></body></html>
`))

// Render is a web.PageFunc: it writes p in the tenant's chrome. Off a
// tenant's host it returns an error (the caller falls back to the plain
// page).
func (pp *Pages) Render(c *fiber.Ctx, p web.Page) error {
	t := web.TenantOf(c)
	if pp == nil || pp.chrome == nil || t == nil {
		return errNoTenant
	}
	locale := render.Locale(c.Get(fiber.HeaderAcceptLanguage), c.Cookies(render.LocaleCookie))
	ch := pp.chrome.forPage(t.ID, preview.Of(c), locale)
	user := ""
	if s := web.SessionOf(c); s != nil {
		user = s.User
	}
	f := ch.Fragments(user, "")
	if d, ok := c.Locals(web.LocalDelegation).(*exchange.Delegation); ok && d != nil {
		f.Body = append(pp.chrome.banner(d, locale), f.Body...)
	}
	zh := locale == render.LocaleZH
	pick := func(zhs, ens string) (string, string) {
		if zh {
			return zhs, ens
		}
		return ens, zhs
	}
	title, otherTitle := pick(p.TitleZH, p.TitleEN)
	text, otherText := pick(p.TextZH, p.TextEN)
	next, otherNext := pick(p.NextZH, p.NextEN)
	link, _ := pick(p.LinkZH, p.LinkEN)
	ridLabel, _ := pick("请求编号", "Request id")
	lang, otherLang := pick("zh-CN", "en")
	status := ""
	if p.Status >= 400 {
		status = strconv.Itoa(p.Status)
	}
	var b strings.Builder
	err := pageHTML.Execute(&b, map[string]any{
		"Lang": lang, "OtherLang": otherLang, "P": p, "Status": status,
		"Title": title, "Text": text, "Next": next, "Link": link, "RequestIDLabel": ridLabel,
		"OtherTitle": otherTitle, "OtherText": otherText, "OtherNext": otherNext,
		// The chrome's fragments are Livery's own escaped HTML.
		"Head": template.HTML(f.Head), "Body": template.HTML(f.Body), "Suffix": html.UnescapeString(string(ch.TitleSuffix())), // escaped again by the template
		"CSS": template.CSS(pageCSS),
	})
	if err != nil {
		return err
	}
	c.Status(cmpStatus(p.Status))
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'self' '"+ch.StyleHash()+"' "+pageCSSHash+
		"; img-src 'self' https:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Append(fiber.HeaderVary, "Accept-Language")
	return c.SendString(b.String())
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}
