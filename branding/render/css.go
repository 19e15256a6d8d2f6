package render

import (
	"math"
	"strconv"
	"strings"

	"github.com/livery/livery/branding"
)

// hiddenSelectors lists the upstream areas the document hides, in a fixed
// order. Invalid selectors are skipped (ValidateUpstream reports them).
func hiddenSelectors(doc *branding.Document, up *Upstream) []string {
	var out []string
	add := func(show bool, sel string) {
		if !show && validSelector(sel) {
			out = append(out, sel)
		}
	}
	add(false, up.Logo)
	add(doc.Menus.ShowInfo, up.Menus.Info)
	add(doc.Menus.ShowResources, up.Menus.Resources)
	add(doc.Menus.ShowUser, up.Menus.User)
	add(doc.Menus.ShowCustom, up.Menus.Custom)
	add(doc.Ops.ShowAnnouncements, up.Ops.Announcements)
	add(doc.Ops.ShowActivities, up.Ops.Activities)
	add(doc.Ops.ShowRecommended, up.Ops.Recommended)
	return out
}

// palette is the bar's background and a readable foreground for it.
type palette struct {
	bg, fg   string
	override bool // the document sets the colour: restyle the upstream nav too
}

func navPalette(doc *branding.Document, up *Upstream) palette {
	p := palette{bg: defaultNavColor}
	if isColor(up.DefaultNavColor) {
		p.bg = strings.ToLower(up.DefaultNavColor)
	}
	if isColor(doc.Brand.NavColor) {
		p.bg, p.override = strings.ToLower(doc.Brand.NavColor), true
	}
	p.fg = "#ffffff"
	if luminance(p.bg) > 0.45 {
		p.fg = "#1f2329"
	}
	return p
}

// luminance is the WCAG relative luminance of a valid #rrggbb colour.
func luminance(c string) float64 {
	lin := func(i int) float64 {
		v := float64(hexVal(c[i])*16+hexVal(c[i+1])) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(1) + 0.7152*lin(3) + 0.0722*lin(5)
}

// criticalCSS is the small inline stylesheet that prevents a flash of the
// hidden areas and the wrong colours before the full stylesheet loads. It
// never contains '<' (selectors are validated, colours are #rrggbb).
func criticalCSS(hidden []string, p palette, up *Upstream) []byte {
	var b strings.Builder
	for _, s := range hidden {
		b.WriteString(s)
		b.WriteString("{display:none!important}")
	}
	b.WriteString("#livery-chrome{background:" + p.bg + ";color:" + p.fg + "}")
	if p.override && validSelector(up.Nav) {
		b.WriteString(up.Nav + "{background:" + p.bg + "!important}")
	}
	return []byte(b.String())
}

// chromeCSS is the static layout of the chrome and the preview ribbon. Every
// rule is scoped by a Livery id so the upstream's own styles neither leak in
// (ids outrank its class and element selectors) nor get affected.
const chromeCSS = `#livery-chrome{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;min-height:48px;margin:0;padding:6px 16px;box-sizing:border-box;position:relative;z-index:2147483000;font:14px/1.4 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;text-align:left}
#livery-chrome *{box-sizing:border-box}
#livery-chrome a{color:inherit;text-decoration:none}
#livery-chrome a:hover,#livery-chrome a:focus-visible{text-decoration:underline}
#livery-chrome a:focus-visible,#livery-chrome summary:focus-visible{outline:2px solid currentColor;outline-offset:2px;border-radius:2px}
#livery-chrome ul{display:flex;flex-wrap:nowrap;gap:4px 14px;margin:0;padding:0;list-style:none}
#livery-chrome li{margin:0;padding:0}
#livery-chrome .livery-brand{display:flex;align-items:center;gap:10px;margin-right:auto;min-width:0}
#livery-logo-link{display:flex;align-items:center}
#livery-logo-partner,#livery-logo-cloud{display:block;height:28px;width:auto;max-width:200px;border:0}
#livery-chrome span#livery-logo-cloud{height:auto;font-weight:600;font-size:16px;white-space:nowrap}
#livery-chrome .livery-sep{display:block;width:1px;height:20px;background:currentColor;opacity:.4}
#livery-chrome .livery-items{display:flex;align-items:center;gap:14px;min-width:0}
#livery-chrome .livery-inline{display:none}
#livery-chrome .livery-inline a{display:block;max-width:11em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#livery-chrome .livery-announcements{max-width:40%;overflow:hidden}
#livery-chrome .livery-announcements li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#livery-chrome .livery-announcements li::before{content:"\25CF";margin-right:6px;font-size:10px;vertical-align:middle;opacity:.7}
#livery-chrome details{position:relative}
#livery-chrome summary{display:block;cursor:pointer;list-style:none;padding:6px 8px;white-space:nowrap}
#livery-chrome summary::-webkit-details-marker{display:none}
#livery-chrome summary::after{content:"\25BE";margin-left:6px}
#livery-chrome details>ul{position:absolute;right:0;top:100%;z-index:2147483001;display:block;min-width:14em;max-width:min(320px,90vw);margin:4px 0 0;padding:6px 0;background:#fff;color:#1f2329;border:1px solid #dee0e3;border-radius:6px;box-shadow:0 4px 12px rgba(0,0,0,.12)}
#livery-chrome details>ul a{display:block;padding:6px 14px;overflow-wrap:anywhere}
@media (min-width:1024px){#livery-chrome{flex-wrap:nowrap}#livery-chrome .livery-inline{display:flex}#livery-chrome .livery-inline li:nth-child(n+4){display:none}#livery-chrome .livery-menu li:nth-child(-n+3){display:none}#livery-chrome .livery-more-few{display:none}#livery-chrome .livery-announcements{max-width:24%}}
@media (max-width:600px){#livery-chrome .livery-announcements{flex-basis:100%;max-width:none;order:10}#livery-logo-partner,#livery-logo-cloud{max-width:110px}}
#livery-preview-ribbon{position:fixed;top:0;left:50%;transform:translateX(-50%);z-index:2147483647;margin:0;padding:3px 14px;background:#d92d20;color:#fff;font:600 12px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;letter-spacing:.04em;text-transform:uppercase;border-radius:0 0 6px 6px;pointer-events:none}
#livery-delegation-banner{display:flex;flex-wrap:wrap;align-items:center;justify-content:center;gap:4px 12px;margin:0;padding:6px 16px;box-sizing:border-box;position:relative;z-index:2147483002;background:#6d28d9;color:#fff;border-bottom:3px solid #f59e0b;font:600 13px/1.4 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;text-align:center}
#livery-delegation-banner form{display:inline;margin:0}
#livery-delegation-banner button{margin:0;padding:3px 12px;border:1px solid #fff;border-radius:4px;background:#fff;color:#4c1d95;font:inherit;cursor:pointer}
#livery-delegation-banner button:focus-visible{outline:2px solid #f59e0b;outline-offset:2px}
@media print{#livery-chrome,#livery-preview-ribbon{display:none!important}}
`

// fullCSS is the stylesheet served at the versioned URL: a header comment,
// the layout, then the document-specific colours and hidden areas (last, so
// they win over the layout).
func fullCSS(tenant string, version int, hidden []string, p palette, up *Upstream) []byte {
	var b strings.Builder
	b.WriteString("/* Livery branding: tenant ")
	b.WriteString(cssCommentSafe(tenant))
	b.WriteString(", version ")
	b.WriteString(strconv.Itoa(version))
	b.WriteString(" */\n")
	b.WriteString(chromeCSS)
	b.WriteString("#livery-chrome{background:" + p.bg + ";color:" + p.fg + "}\n")
	if p.override && validSelector(up.Nav) {
		b.WriteString(up.Nav + "{background:" + p.bg + "!important}\n")
	}
	for _, s := range hidden {
		b.WriteString(s)
		b.WriteString("{display:none!important}\n")
	}
	return []byte(b.String())
}

// cssCommentSafe keeps a tenant id from ending the comment it is put in.
func cssCommentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '*' || r == '/' || r == '<' || r == '>' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}
