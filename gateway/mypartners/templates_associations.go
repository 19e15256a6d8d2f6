package mypartners

import "html/template"

// assocCSS styles the association pages (added to pageCSS): the notice
// keeps its line breaks; nothing is wider than a phone.
const assocCSS = `#livery-document .lp-notice{white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid #dee0e3;border-radius:8px;padding:.75rem;background:#fafbfc;max-height:60vh;overflow:auto}` +
	`#livery-document .lp-problem{padding:.5rem .75rem;border-radius:6px;background:#fdecea;border:1px solid #f5c2c0}` +
	`#livery-document .lp-table-wrap{overflow-x:auto}#livery-document details{margin:.5rem 0}`

func init() {
	template.Must(templates.New("associations").Parse(`
{{define "assocSection"}}{{with .Association}}<section id="lp-association"><h2>{{$.T "assoc.title"}}</h2>
<dl><dt>{{$.T "assoc.type"}}</dt><dd id="lp-assoc-type">{{if .Bound}}{{.Type}}{{else}}{{$.T "assoc.unbound"}}{{end}}</dd>
{{if .Bound}}<dt>{{$.T "assoc.since"}}</dt><dd>{{.Since}}</dd>{{end}}
{{if .NextChange}}<dt>{{$.T "assoc.next_change"}}</dt><dd id="lp-next-change">{{.NextChange}}</dd>{{end}}</dl>
{{with .Pending}}<div class="lp-card" id="lp-change-{{.ID}}"><h3>{{$.T "change.pending"}}</h3>
<dl><dt>{{$.T "change.what"}}</dt><dd class="lp-change-what">{{.What}}</dd>
<dt>{{$.T "change.reason"}}</dt><dd class="lp-change-reason">{{.Reason}}</dd>
<dt>{{$.T "requested_by"}}</dt><dd>{{.By}}</dd><dt>{{$.T "requested_at"}}</dt><dd>{{.At}}</dd></dl>
{{if .Unbind}}<p class="lp-muted">{{$.T "change.unbind.effect"}}</p>{{end}}
<form method="post" action="{{$.Prefix}}/changes/{{.ID}}/confirm"><input type="hidden" name="_csrf" value="{{$.CSRF}}"><button type="submit" id="lp-change-confirm"{{if .Unbind}} class="lp-danger"{{end}}>{{$.T "change.confirm"}}</button></form>
<form method="post" action="{{$.Prefix}}/changes/{{.ID}}/refuse"><input type="hidden" name="_csrf" value="{{$.CSRF}}"><button type="submit" class="lp-secondary" id="lp-change-refuse">{{$.T "change.refuse"}}</button></form>
</div>{{end}}
{{if .Past}}<div class="lp-table-wrap"><table id="lp-changes"><thead><tr><th>{{$.T "change.what"}}</th><th>{{$.T "state"}}</th><th>{{$.T "requested_at"}}</th><th>{{$.T "change.decided"}}</th></tr></thead><tbody>
{{range .Past}}<tr><td>{{.What}}</td><td>{{.State}}</td><td>{{.At}}</td><td>{{.Decided}}</td></tr>{{end}}</tbody></table></div>{{end}}
</section>{{end}}{{end}}

{{define "noticeBlock"}}<h2>{{.T "notice.title"}} <span class="lp-muted">({{.T "notice.version" .Version}})</span></h2>
<div class="lp-notice" id="lp-notice" tabindex="0">{{.Notice}}</div>
<details><summary>{{.T "notice.other"}}</summary><div class="lp-notice">{{.NoticeOther}}</div></details>{{end}}

{{define "invitation"}}<h1>{{.T "inv.title"}}</h1>
<p>{{.T "inv.intro" .Partner}}</p>
<dl><dt>{{.T "partner"}}</dt><dd id="lp-inv-partner">{{.Partner}}</dd>
<dt>{{.T "assoc.type"}}</dt><dd id="lp-inv-type">{{.Type}}</dd></dl>
<p class="lp-muted">{{.TypeHelp}}</p>
{{if .Online}}<p class="lp-muted">{{.T "inv.expires" .Expires}}</p>{{end}}
{{if .Accepted}}<p class="lp-flash" role="status" id="lp-inv-accepted">{{.T "inv.accepted" .Partner}}</p><p><a class="lp-button" id="lp-open-console" href="/">{{.T "inv.open_console"}}</a> <a href="{{.Prefix}}">{{.T "back"}}</a></p>
{{else}}{{template "noticeBlock" .}}
{{if .Signed}}<p class="lp-flash" role="status" id="lp-signed">{{.T "inv.signed" .SignedAt}}</p>
<section id="lp-accept"><h2>{{.T "inv.decide"}}</h2>
<form method="post" action="{{.Base}}/accept"><input type="hidden" name="_csrf" value="{{.CSRF}}"><button type="submit" id="lp-inv-accept">{{.T "inv.accept"}}</button></form>
<a class="lp-button lp-secondary" id="lp-inv-decline" href="{{.Base}}/decline">{{.T "inv.decline"}}</a></section>
{{else}}<form method="post" action="{{.Base}}/sign" class="lp-block" id="lp-sign"><input type="hidden" name="_csrf" value="{{.CSRF}}"><input type="hidden" name="version" value="{{.Version}}">
<p><label><input type="checkbox" name="agree" value="yes" required> {{.T "inv.agree"}}</label></p>
<button type="submit" id="lp-inv-sign">{{.T "inv.sign"}}</button>
<a class="lp-button lp-secondary" href="{{.Base}}/decline">{{.T "inv.decline"}}</a></form>{{end}}{{end}}
{{end}}

{{define "invitationSignIn"}}<h1>{{.T "inv.signin.title"}}</h1>
<p>{{.T "inv.signin.intro" .Partner}}</p>
<p><a class="lp-button" id="lp-inv-cloud-signin" href="{{.Cloud}}">{{.T "inv.signin.cloud"}}</a></p>
<p class="lp-muted">{{.T "inv.signin.partner.help" .Partner}} <a id="lp-inv-partner-signin" href="{{.Partner2}}">{{.T "inv.signin.partner" .Partner}}</a></p>
{{end}}

{{define "declineInvitation"}}<h1>{{.T "inv.decline.title"}}</h1>
<p>{{.T "inv.decline.text" .Partner}}</p>
<form method="post" action="{{.Base}}/decline" class="lp-block"><input type="hidden" name="_csrf" value="{{.CSRF}}"><input type="hidden" name="confirm" value="yes">
<button type="submit" class="lp-danger" id="lp-inv-decline-confirm">{{.T "inv.decline.confirm"}}</button>
<a class="lp-button lp-secondary" href="{{.Base}}">{{.T "cancel"}}</a></form>
{{end}}

{{define "invitationProblem"}}<h1>{{.T "inv.problem.title"}}</h1>
<p class="lp-problem" role="alert" id="lp-problem" data-code="{{.Code}}">{{.Message}}</p>
{{if not .Invitee}}<p><a href="{{.Prefix}}">{{.T "back"}}</a></p>{{end}}
{{end}}

{{define "agreements"}}<h1>{{.T "agreements.title"}}</h1>
<p class="lp-muted">{{.T "agreements.intro"}}</p>
{{if .Rows}}<div class="lp-table-wrap"><table id="lp-agreements"><thead><tr><th>{{.T "agreements.notice"}}</th><th>{{.T "agreements.version"}}</th><th>{{.T "partner"}}</th><th>{{.T "agreements.signed_at"}}</th><th>{{.T "agreements.invitation"}}</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Notice}}</td><td>{{.Version}}</td><td>{{.Partner}}</td><td>{{.At}}</td><td><code>{{.Invitation}}</code></td></tr>
{{end}}</tbody></table></div>{{else}}<p class="lp-muted" id="lp-agreements-none">{{.T "agreements.none"}}</p>{{end}}
<details><summary>{{.T "agreements.current" .Version}}</summary><div class="lp-notice">{{.Notice}}</div></details>
{{if not .Invitee}}<p><a href="{{.Prefix}}">{{.T "back"}}</a></p>{{end}}
{{end}}
`))
}
