package web

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"

	"github.com/gofiber/fiber/v2"
)

// Document is one of Livery's own richer pages on a console host (forms,
// tables: the customer's "My partners"), in one language: a door builds
// its main content as HTML and hands it to a DocumentFunc, which wraps it
// in the page around it (the branding door's: the tenant's chrome).
//
// Body is trusted HTML the door produced with html/template (every
// dynamic value escaped). It must not contain script or inline style
// attributes: the page's Content-Security-Policy allows no script, and
// styles only from the chrome's stylesheet and CSS, whose hash it names.
// Forms may post only to the page's own host (form-action 'self').
type Document struct {
	Status int    // 0: 200
	Lang   string // the page's language tag: "zh-CN" or "en"
	Title  string // plain text (escaped by the renderer)
	CSS    string // the page's own stylesheet, put in one <style> element
	Body   template.HTML
}

// DocumentFunc writes a whole Document as the response (status, headers,
// body). An error means nothing usable was written: the caller may fall
// back to PlainDocument.
type DocumentFunc func(c *fiber.Ctx, d Document) error

// DocumentCSP is the Content-Security-Policy of a Document without the
// tenant's chrome: no script, styles only from d.CSS (by hash), images from
// this host, forms to this host, never framed.
func DocumentCSP(d Document, extraStyles ...string) string {
	styles := "'" + StyleHash(d.CSS) + "'"
	for _, s := range extraStyles {
		styles += " " + s
	}
	return "default-src 'none'; style-src " + styles +
		"; img-src 'self' https:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// StyleHash is the CSP source expression body of a <style> element's
// text: "sha256-<base64>".
func StyleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var plainDocument = template.Must(template.New("doc").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>{{.CSS}}</style></head>
<body><main id="livery-document">{{.Body}}</main></body></html>
`))

// PlainDocument is the DocumentFunc without branding (no tenant chrome).
func PlainDocument(c *fiber.Ctx, d Document) error {
	if d.Lang == "" {
		d.Lang = "en"
	}
	c.Status(cmpStatus(d.Status))
	SetDocumentHeaders(c, DocumentCSP(d))
	return plainDocument.Execute(c.Response().BodyWriter(), map[string]any{
		"Lang": d.Lang, "Title": d.Title, "CSS": template.CSS(d.CSS), "Body": d.Body})
}

// SetDocumentHeaders sets the headers every Document response carries:
// HTML, never cached (it shows a signed-in customer's data), not sniffed,
// csp as its policy, varying by language.
func SetDocumentHeaders(c *fiber.Ctx, csp string) {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, csp)
	c.Append(fiber.HeaderVary, "Accept-Language")
}
