package staffui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
)

// The previews show the chrome exactly as the console gets it: rendered by
// branding/render from the document, in a frame of its own (a small page
// with the chrome's stylesheet inline, allowed by hash in the frame's
// CSP). Logos are served from /ui/assets/ instead of the console's
// /_livery/assets/.

// frameDoc is a chrome preview page.
var frameDoc = template.Must(template.New("frame").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>{{.CSS}}</style><style>{{.Critical}}</style><style>{{.Page}}</style></head>
<body>{{.Body}}<main class="livery-preview-console"><h1>{{.Heading}}</h1><p>{{.Sample}}</p></main></body></html>`))

// framePageCSS is the sample console area under the chrome.
const framePageCSS = `body{margin:0;font:14px/1.5 system-ui,sans-serif;color:#1f2329;background:#f5f6f7}` +
	`.livery-preview-console{padding:16px 24px}.livery-preview-console h1{font-size:18px;margin:0 0 8px}`

// chromeHTML renders doc's chrome for tenant t in locale as a frame page,
// and the CSP that lets it load.
func (u *UI) chromeHTML(t string, doc *branding.Document, version int, locale, user string) ([]byte, string, error) {
	up := u.o.Upstream
	up.AssetPrefix = Prefix + "assets/"
	name, origin := t, ""
	if tt, ok := u.o.Tenants.ByID(t); ok {
		name = tt.Name.EN
		if locale == render.LocaleZH && tt.Name.ZH != "" {
			name = tt.Name.ZH
		}
		if u.o.ConsoleURL != nil {
			origin = u.o.ConsoleURL(tt)
		}
	}
	// The cloud's logo is the console's: a path is loaded from the
	// tenant's console host (allowed by the frame's CSP).
	for _, p := range []*string{&up.CloudLogo.URLZH, &up.CloudLogo.URLEN} {
		if strings.HasPrefix(*p, "/") && !strings.HasPrefix(*p, "//") && origin != "" {
			*p = origin + *p
		}
	}
	ch := render.Render(t, version, doc, locale, up, render.RenderOptions{PartnerName: name, Now: u.now()})
	fr := ch.Fragments(user, "")
	// The head fragment links the console's stylesheet path; the frame
	// carries the CSS inline instead.
	var b bytes.Buffer
	heading, sample := "Console", "This is where the cloud console's page appears under the chrome."
	if locale == render.LocaleZH {
		heading, sample = "控制台", "云控制台的页面显示在此处，位于品牌栏下方。"
	}
	err := frameDoc.Execute(&b, map[string]any{"Lang": map[bool]string{true: "zh-CN", false: "en"}[locale == render.LocaleZH],
		"Title": name, "CSS": template.CSS(ch.CSS), "Critical": template.CSS(ch.CriticalCSS), "Page": template.CSS(framePageCSS),
		"Body": template.HTML(fr.Body), "Heading": heading, "Sample": sample})
	if err != nil {
		return nil, "", err
	}
	img := "'self' data:"
	if origin != "" {
		img += " " + origin
	}
	csp := "default-src 'none'; img-src " + img + "; style-src " + styleHash(ch.CSS) + " " + styleHash(ch.CriticalCSS) + " " +
		styleHash([]byte(framePageCSS)) + "; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
	return b.Bytes(), csp, nil
}

func styleHash(css []byte) string {
	sum := sha256.Sum256(css)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func sendFrame(c *fiber.Ctx, body []byte, csp string) error {
	c.Set(fiber.HeaderContentSecurityPolicy, csp)
	c.Set(fiber.HeaderXFrameOptions, "SAMEORIGIN")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(body)
}

func frameLocale(c *fiber.Ctx) string {
	if c.FormValue("locale") == render.LocaleZH || c.Query("locale") == render.LocaleZH {
		return render.LocaleZH
	}
	return render.LocaleEN
}

// chromeFrame (GET) previews a stored document: source=draft (the saved
// draft), pending (the submission under review), live (the approved
// version) or a version number. Each source is authorized as the admin
// API call that reads it.
func (u *UI) chromeFrame(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	ctx := c.UserContext()
	var doc branding.Document
	version := 0
	switch src := c.Query("source", "draft"); src {
	case "draft":
		if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/branding/draft")); err != nil {
			return err
		}
		d, err := u.o.Drafts.Draft(ctx, t)
		if err != nil {
			return brandingError(err)
		}
		doc = d.Doc
	case "pending":
		if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/branding/submissions")); err != nil {
			return err
		}
		r, err := u.o.Reviews.Review(ctx, t)
		if err != nil {
			return brandingError(err)
		}
		doc = r.Submission.Doc
	default:
		if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/branding/versions")); err != nil {
			return err
		}
		v, err := u.version(c, t, src)
		if err != nil {
			return err
		}
		if v == nil {
			doc, version = branding.Document{}, 0
		} else {
			doc, version = v.Doc, v.Number
		}
	}
	body, csp, err := u.chromeHTML(t, &doc, version, frameLocale(c), "")
	if err != nil {
		return err
	}
	return sendFrame(c, body, csp)
}

// version finds "live" (nil when nothing is live) or a version number.
func (u *UI) version(c *fiber.Ctx, t, src string) (*workflow.Version, error) {
	if src == "live" {
		v, err := u.o.History.Live(c.UserContext(), t)
		if err != nil && !isNotFound(err) {
			return nil, brandingError(err)
		}
		return v, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(src, "v"))
	if err != nil || n < 1 {
		return nil, web.Errorf(http.StatusBadRequest, "invalid_request", "source must be draft, pending, live or a version number.")
	}
	v, err := u.o.History.Version(c.UserContext(), t, n)
	if err != nil {
		return nil, brandingError(err)
	}
	return &v, nil
}

// previewFrame (POST, from the editor) previews the form as it is, saved
// or not: the same parsing as saving, nothing stored. Unreadable fields
// are left out of the preview; the editor shows them when saving.
func (u *UI) previewFrame(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/branding/draft")); err != nil {
		return err
	}
	doc, _ := parseForm(c)
	body, csp, err := u.chromeHTML(t, &doc, 0, frameLocale(c), "")
	if err != nil {
		return err
	}
	return sendFrame(c, body, csp)
}
