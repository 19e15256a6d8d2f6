package console

import (
	"bytes"
	"html/template"
)

// The page templates. Every page shares one layout: a top navigation bar
// (logo, info menu, resources drop-down, user drop-down), a left menu and a
// main area. The ids and classes prefixed cc- are stable: branding features
// of the gateway hide or restyle these areas by CSS selector.
//
// Pages are served under a strict nonce-based Content-Security-Policy (see
// contentSecurityPolicy): the layout's only inline <style> and <script>
// carry the response's nonce, and it uses no style attributes or inline
// event handlers.
const layoutTemplate = `{{define "layout"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - {{.Name}}</title>
<style nonce="{{.Nonce}}">
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2329;background:#f5f6f7}
a{color:#1664ff;text-decoration:none}
.cc-topnav{display:flex;align-items:center;gap:16px;height:52px;padding:0 16px;background:#1f2329;color:#fff}
.cc-topnav a{color:#fff}
.cc-logo{display:flex;align-items:center;gap:8px;font-weight:600;font-size:18px;margin-right:auto}
.cc-logo-mark{display:inline-block;width:24px;height:24px;border-radius:6px;background:#1664ff}
.cc-menu{position:relative}
.cc-menu summary{cursor:pointer;list-style:none;padding:6px 8px}
.cc-menu ul{position:absolute;right:0;z-index:10;min-width:180px;margin:4px 0 0;padding:6px 0;list-style:none;background:#fff;border:1px solid #dee0e3;border-radius:6px}
.cc-menu li a{display:block;padding:6px 14px;color:#1f2329}
.cc-info-menu{display:flex;gap:12px}
.cc-shell{display:flex;min-height:calc(100vh - 52px)}
.cc-custom-menu{width:200px;padding:12px 0;background:#fff;border-right:1px solid #dee0e3}
.cc-custom-menu ul{list-style:none;margin:0;padding:0}
.cc-custom-menu a{display:block;padding:8px 20px;color:#1f2329}
.cc-custom-menu a.cc-active{background:#e8f0ff;color:#1664ff}
.cc-main{flex:1;padding:20px 24px}
.cc-card{background:#fff;border:1px solid #dee0e3;border-radius:8px;padding:16px;margin-bottom:16px}
.cc-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:16px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eef0f1;vertical-align:top;font-family:ui-monospace,monospace;font-size:13px;word-break:break-all}
</style>
</head>
<body>
<header id="cc-topnav" class="cc-topnav">
<a id="cc-logo" class="cc-logo" href="/"><img class="cc-logo-mark" src="` + LogoPath + `" width="24" height="24" alt=""><span class="cc-logo-text">{{.Name}}</span></a>
<nav id="cc-info-menu" class="cc-info-menu" aria-label="Information">
<a href="/#docs">Documentation</a>
<a href="/#support">Support</a>
<a href="/#icp">ICP Filing</a>
<a href="/#pricing">Pricing</a>
</nav>
<details id="cc-resource-menu" class="cc-menu cc-resource-menu">
<summary>Resources</summary>
<ul>
<li><a href="/resources#compute">Compute</a></li>
<li><a href="/resources#storage">Object Storage</a></li>
<li><a href="/resources#network">Networking</a></li>
<li><a href="/resources#database">Databases</a></li>
</ul>
</details>
<details id="cc-user-menu" class="cc-menu cc-user-menu">
<summary><span class="cc-user-name">{{if and .Who .Who.Verified}}{{.Who.User}}{{else}}demo-user{{end}}</span></summary>
<ul>
<li><a href="/#profile">Account settings</a></li>
<li><a href="/#keys">Access keys</a></li>
<li><a href="/billing">Billing</a></li>
<li><a href="/_livery/logout">Sign out</a></li>
</ul>
</details>
</header>
{{if .Who}}<p id="cc-identity" class="cc-identity">{{if .Who.Verified}}Signed in (assertion verified): <b>{{.Who.User}}</b>, account <b>{{.Who.Account}}</b> ({{.Who.AccountID}}), partner <b>{{.Who.Tenant}}</b>{{else}}No verified identity{{if .Who.Error}}: {{.Who.Error}}{{end}}{{end}}</p>{{end}}
<div class="cc-shell">
<nav id="cc-custom-menu" class="cc-custom-menu cc-left-menu" aria-label="Console">
<ul>
<li><a href="/"{{if eq .Active "overview"}} class="cc-active" aria-current="page"{{end}}>Overview</a></li>
<li><a href="/resources"{{if eq .Active "resources"}} class="cc-active" aria-current="page"{{end}}>Resources</a></li>
<li><a href="/billing"{{if eq .Active "billing"}} class="cc-active" aria-current="page"{{end}}>Billing</a></li>
<li><a href="/marketplace"{{if eq .Active "marketplace"}} class="cc-active" aria-current="page"{{end}}>Marketplace</a></li>
</ul>
</nav>
<main id="cc-main" class="cc-main">
{{template "content" .}}
</main>
</div>
<script nonce="{{.Nonce}}">
(function () {
  // Only one drop-down menu open at a time.
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.open || !d.classList || !d.classList.contains("cc-menu")) return;
    document.querySelectorAll("details.cc-menu[open]").forEach(function (o) { if (o !== d) o.open = false; });
  }, true);
  document.documentElement.setAttribute("data-cc-script", "ready");
})();
</script>
</body>
</html>
{{end}}`

const overviewContent = `{{define "content"}}<h1>{{.Title}}</h1>
{{if .Compressed}}<p id="cc-gzip-marker">This page was served with Content-Encoding: gzip.</p>
{{end}}<div class="cc-grid">
<section id="cc-announcements" class="cc-card cc-announcements">
<h2>Announcements</h2>
<ul>
<li>Scheduled maintenance of the object storage service on Saturday 02:00-04:00.</li>
<li>New region available: Demo North 3.</li>
</ul>
</section>
<section id="cc-activities" class="cc-card cc-activities">
<h2>Latest activities</h2>
<ul>
<li>Spring promotion: 30% off compute instances.</li>
<li>Webinar: building resilient storage pipelines.</li>
</ul>
</section>
<section id="cc-recommended" class="cc-card cc-recommended">
<h2>Recommended products</h2>
<ul>
<li><a href="/marketplace#cdn">Content Delivery Network</a></li>
<li><a href="/marketplace#waf">Web Application Firewall</a></li>
<li><a href="/marketplace#kafka">Managed Kafka</a></li>
</ul>
</section>
</div>
<section id="cc-summary" class="cc-card">
<h2>Resource summary</h2>
<p>3 instances running, 2 buckets, 1 database. <a href="/resources">View all resources</a></p>
</section>
{{end}}`

const resourcesContent = `{{define "content"}}<h1>{{.Title}}</h1>
<section id="cc-resource-list" class="cc-card">
<table>
<thead><tr><th>ID</th><th>Type</th><th>Region</th><th>Status</th></tr></thead>
<tbody>
<tr><td>i-0a1b2c3d</td><td>Compute instance</td><td>demo-north-1</td><td>Running</td></tr>
<tr><td>i-4e5f6a7b</td><td>Compute instance</td><td>demo-north-1</td><td>Running</td></tr>
<tr><td>i-8c9d0e1f</td><td>Compute instance</td><td>demo-east-2</td><td>Running</td></tr>
<tr><td>bkt-assets</td><td>Object storage bucket</td><td>demo-north-1</td><td>Available</td></tr>
<tr><td>bkt-logs</td><td>Object storage bucket</td><td>demo-east-2</td><td>Available</td></tr>
<tr><td>db-main</td><td>Relational database</td><td>demo-north-1</td><td>Available</td></tr>
</tbody>
</table>
</section>
{{end}}`

const billingContent = `{{define "content"}}<h1>{{.Title}}</h1>
<div class="cc-grid">
<section id="cc-balance" class="cc-card"><h2>Account balance</h2><p>1,024.00 CNY</p></section>
<section id="cc-month" class="cc-card"><h2>This month</h2><p>356.78 CNY</p></section>
</div>
<section id="cc-invoices" class="cc-card">
<h2>Invoices</h2>
<table>
<thead><tr><th>Period</th><th>Amount</th><th>Status</th></tr></thead>
<tbody>
<tr><td>2025-01</td><td>312.40 CNY</td><td>Paid</td></tr>
<tr><td>2025-02</td><td>298.15 CNY</td><td>Paid</td></tr>
</tbody>
</table>
</section>
{{end}}`

const marketplaceContent = `{{define "content"}}<h1>{{.Title}}</h1>
<div class="cc-grid">
<section id="cdn" class="cc-card cc-product"><h2>Content Delivery Network</h2><p>Accelerate static and dynamic content.</p></section>
<section id="waf" class="cc-card cc-product"><h2>Web Application Firewall</h2><p>Protect web applications from common attacks.</p></section>
<section id="kafka" class="cc-card cc-product"><h2>Managed Kafka</h2><p>Fully managed event streaming.</p></section>
</div>
{{end}}`

const headersContent = `{{define "content"}}<h1>{{.Title}}</h1>
<section id="cc-request" class="cc-card">
<table>
<tbody>
<tr><th>Method</th><td id="cc-req-method">{{.Echo.Method}}</td></tr>
<tr><th>Path</th><td id="cc-req-path">{{.Echo.Path}}</td></tr>
<tr><th>Host</th><td id="cc-req-host">{{.Echo.Host}}</td></tr>
<tr><th>RemoteAddr</th><td id="cc-req-remote-addr">{{.Echo.RemoteAddr}}</td></tr>
</tbody>
</table>
</section>
<section id="cc-headers" class="cc-card">
<h2>Request headers</h2>
<table>
<thead><tr><th>Name</th><th>Value</th></tr></thead>
<tbody>
{{range .Headers}}<tr><td class="cc-header-name">{{.Name}}</td><td class="cc-header-value">{{.Value}}</td></tr>
{{end}}</tbody>
</table>
</section>
{{end}}`

const notFoundContent = `{{define "content"}}<h1>{{.Title}}</h1>
<section id="cc-not-found" class="cc-card">
<p>The page <code>{{.Path}}</code> does not exist. <a href="/">Back to the overview</a>.</p>
</section>
{{end}}`

// pageData is what every page template receives.
type pageData struct {
	Name       string
	Title      string
	Active     string // the left-menu entry to highlight
	Compressed bool   // overview served by /gzip
	Path       string // the requested path (404 page)
	Echo       *headerEcho
	Who        *who // verified identity, when assertion checking is on
	Headers    []headerLine
	Nonce      string // the CSP nonce of this response's inline <style> and <script>
}

type headerLine struct{ Name, Value string }

// pages holds one parsed template per page, each the shared layout with its
// own "content" definition.
type pages struct {
	overview, resources, billing, marketplace, headers, notFound *template.Template
}

func parsePages() pages {
	base := template.Must(template.New("layout").Parse(layoutTemplate))
	page := func(content string) *template.Template {
		return template.Must(template.Must(base.Clone()).Parse(content))
	}
	return pages{
		overview:    page(overviewContent),
		resources:   page(resourcesContent),
		billing:     page(billingContent),
		marketplace: page(marketplaceContent),
		headers:     page(headersContent),
		notFound:    page(notFoundContent),
	}
}

// render executes t into a buffer so that a template error never leaves a
// half-written page.
func render(t *template.Template, data pageData) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
