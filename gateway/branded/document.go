package branded

import (
	"html"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/web"
)

// documentCSS frames a Document's content below the chrome (the door's
// own CSS styles the inside).
const documentCSS = `html{background:#f5f6f7}body{margin:0;color:#1f2329;font:15px/1.55 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif}` +
	`#livery-document{max-width:64rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #dee0e3;border-radius:8px}`

var documentCSSHash = "'" + web.StyleHash(documentCSS) + "'"

var documentHTML = template.Must(template.New("doc").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">{{.Head}}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}{{.Suffix}}</title><style>{{.Frame}}</style><style>{{.CSS}}</style></head>
<body>{{.Body}}<main id="livery-document">{{.Main}}</main></body></html>
`))

// RenderDocument is a web.DocumentFunc: it writes d in the tenant's
// chrome (the live branding, the staff member's preview, or the tenant's
// name), in d's language, under a Content-Security-Policy without script
// whose styles are the chrome's, the frame's and d.CSS (by hash). Off a
// tenant's host it returns an error (the caller falls back to
// web.PlainDocument).
func (pp *Pages) RenderDocument(c *fiber.Ctx, d web.Document) error {
	t := web.TenantOf(c)
	if pp == nil || pp.chrome == nil || t == nil {
		return errNoTenant
	}
	locale := render.LocaleEN
	if strings.HasPrefix(d.Lang, "zh") {
		locale = render.LocaleZH
	}
	ch := pp.chrome.forPage(t.ID, preview.Of(c), locale)
	user := ""
	if s := web.SessionOf(c); s != nil {
		user = s.User
	}
	f := ch.Fragments(user, "")
	var b strings.Builder
	err := documentHTML.Execute(&b, map[string]any{
		"Lang": d.Lang, "Title": d.Title, "Frame": template.CSS(documentCSS), "CSS": template.CSS(d.CSS),
		// The chrome's fragments are Livery's own escaped HTML; d.Body the door's.
		"Head": template.HTML(f.Head), "Body": template.HTML(f.Body), "Main": d.Body,
		"Suffix": html.UnescapeString(string(ch.TitleSuffix())), // escaped again by the template
	})
	if err != nil {
		return err
	}
	c.Status(cmpStatus(d.Status))
	web.SetDocumentHeaders(c, web.DocumentCSP(d, "'self'", "'"+ch.StyleHash()+"'", documentCSSHash))
	return c.SendString(b.String())
}
