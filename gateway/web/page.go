package web

import (
	"html/template"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/render"
)

// Page is one of Livery's own pages for a browser on a console host
// (signed out, an error), in both languages: a door that shows one builds
// a Page and hands it to a PageFunc, so that doors need not know how it
// looks (the branding door's renders it in the tenant's chrome).
type Page struct {
	Status           int // 0: 200
	TitleZH, TitleEN string
	// TextZH/EN say what happened; NextZH/EN what to do next.
	TextZH, TextEN string
	NextZH, NextEN string
	// LinkHref, when set, is the page's one action (a same-host path),
	// labelled LinkZH/EN.
	LinkHref       string
	LinkZH, LinkEN string
	// RequestID, when set, is shown to quote when asking for help.
	RequestID string
}

// PageFunc writes a whole Page as the response (status, headers, body).
// An error means nothing usable was written: the caller may fall back to
// PlainPage.
type PageFunc func(c *fiber.Ctx, p Page) error

var plainPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{if eq .Lang "zh"}}{{.P.TitleZH}}{{else}}{{.P.TitleEN}}{{end}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><main><h1><span lang="zh">{{.P.TitleZH}}</span> · <span lang="en">{{.P.TitleEN}}</span></h1>
<p lang="zh">{{.P.TextZH}} {{.P.NextZH}}</p><p lang="en">{{.P.TextEN}} {{.P.NextEN}}</p>
{{if .P.LinkHref}}<p><a href="{{.P.LinkHref}}"><span lang="zh">{{.P.LinkZH}}</span> / <span lang="en">{{.P.LinkEN}}</span></a></p>{{end}}
{{if .P.RequestID}}<p><span lang="zh">请求编号</span> / <span lang="en">Request id</span>: <code>{{.P.RequestID}}</code></p>{{end}}</main></body></html>
`))

// PlainPage is the PageFunc without branding (no tenant chrome).
func PlainPage(c *fiber.Ctx, p Page) error {
	c.Status(cmpStatus(p.Status))
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return plainPage.Execute(c.Response().BodyWriter(), map[string]any{
		"P": p, "Lang": render.Locale(c.Get(fiber.HeaderAcceptLanguage), c.Cookies(render.LocaleCookie))})
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

// StatusTitleZH is the Chinese title of an HTTP status as error pages show
// it ("错误" for a status without one); the English one is
// http.StatusText.
func StatusTitleZH(status int) string {
	if zh := titlesZH[status]; zh != "" {
		return zh
	}
	return "错误"
}
