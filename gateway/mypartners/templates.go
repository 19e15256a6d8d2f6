package mypartners

import "html/template"

// pageCSS styles the door's content (the chrome frames it).
const pageCSS = `#livery-document h1{font-size:1.5rem;margin:0 0 .5rem}#livery-document h2{font-size:1.15rem;margin:1.75rem 0 .5rem}` +
	`#livery-document .lp-muted{color:#646a73}#livery-document .lp-flash{padding:.5rem .75rem;border-radius:6px;background:#e8f5e9;border:1px solid #a5d6a7}` +
	`#livery-document .lp-card{border:1px solid #dee0e3;border-radius:8px;padding:1rem;margin:.75rem 0}` +
	`#livery-document dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 .75rem}#livery-document dt{color:#646a73}#livery-document dd{margin:0}` +
	`#livery-document table{border-collapse:collapse;width:100%;font-size:.9rem}#livery-document th,#livery-document td{border-bottom:1px solid #eceef0;padding:.4rem .5rem;text-align:left;vertical-align:top}` +
	`#livery-document td.lp-path{font-family:ui-monospace,monospace;overflow-wrap:anywhere}#livery-document .lp-denied{color:#b3261e;font-weight:600}` +
	`#livery-document form{display:inline-block;margin:.25rem .5rem .25rem 0}#livery-document form.lp-block{display:block}` +
	`#livery-document textarea,#livery-document input[type=text],#livery-document input[type=date],#livery-document select{font:inherit;padding:.25rem .4rem;margin:.15rem 0}` +
	`#livery-document button,#livery-document .lp-button{font:inherit;padding:.35rem .9rem;border-radius:6px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}` +
	`#livery-document button.lp-secondary,#livery-document .lp-secondary{background:#fff;color:#0b57d0}#livery-document button.lp-danger{background:#b3261e;border-color:#b3261e}` +
	`#livery-document a{color:#0b57d0}#livery-document a:focus-visible,#livery-document button:focus-visible{outline:2px solid #0b57d0;outline-offset:2px}` +
	`#livery-document .lp-filters label{display:inline-block;margin-right:1rem}`

var funcs = template.FuncMap{}

var templates = template.Must(template.New("").Funcs(funcs).Parse(`
{{define "grantFacts"}}<dl>
<dt>{{.V.T "requested_by"}}</dt><dd class="lp-requested-by">{{.G.RequestedBy.User}}</dd>
<dt>{{.V.T "scopes"}}</dt><dd><ul class="lp-scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul></dd>
<dt>{{.V.T "duration"}}</dt><dd class="lp-duration">{{.Duration}}</dd>
<dt>{{.V.T "reason"}}</dt><dd class="lp-reason">{{.G.Reason}}</dd>
<dt>{{.V.T "requested_at"}}</dt><dd>{{.RequestedAt}}</dd>
</dl>{{end}}

{{define "overview"}}<h1>{{.T "title"}}</h1>
{{if .Flash}}<p class="lp-flash" role="status" id="lp-flash">{{.Flash}}</p>{{end}}
<p class="lp-muted">{{.T "intro"}}</p>
<p id="lp-partner"><strong>{{.T "partner"}}:</strong> {{.Partner}}</p>
{{template "assocSection" .}}

<section id="lp-pending"><h2>{{.T "pending"}}</h2>
{{range .Pending}}<div class="lp-card" id="lp-grant-{{.G.ID}}">
{{template "grantFacts" .}}
<dl><dt>{{.V.T "request_expires"}}</dt><dd>{{.RequestExpires}}</dd></dl>
{{if .G.Replaces}}<p class="lp-muted">{{.V.T "replaces" .G.Replaces}}</p>{{end}}
<form method="post" action="{{.Base}}/approve"><input type="hidden" name="_csrf" value="{{.V.CSRF}}"><button type="submit" id="lp-approve">{{.V.T "approve"}}</button></form>
<form method="post" action="{{.Base}}/reject" class="lp-block"><input type="hidden" name="_csrf" value="{{.V.CSRF}}">
<label>{{.V.T "reject.note"}}<br><textarea name="note" rows="2" cols="50" maxlength="500"></textarea></label><br>
<button type="submit" class="lp-secondary" id="lp-reject">{{.V.T "reject"}}</button></form>
</div>{{else}}<p class="lp-muted">{{.T "pending.none"}}</p>{{end}}
</section>

<section id="lp-active"><h2>{{.T "active"}}</h2>
{{range .Active}}<div class="lp-card" id="lp-grant-{{.G.ID}}">
{{template "grantFacts" .}}
<dl><dt>{{.V.T "since"}}</dt><dd>{{.Since}}</dd><dt>{{.V.T "ends"}}</dt><dd class="lp-ends">{{.Ends}}</dd><dt>{{.V.T "left"}}</dt><dd>{{.Left}}</dd></dl>
<a class="lp-button lp-secondary" id="lp-revoke" href="{{.Base}}/revoke">{{.V.T "revoke"}}</a>
</div>{{else}}<p class="lp-muted">{{.T "active.none"}}</p>{{end}}
</section>

<section id="lp-past"><h2>{{.T "past"}}</h2>
{{if .Past}}<table><thead><tr><th>{{.T "state"}}</th><th>{{.T "scopes"}}</th><th>{{.T "requested_by"}}</th><th>{{.T "requested_at"}}</th><th>{{.T "ended"}}</th><th>{{.T "note"}}</th></tr></thead><tbody>
{{range .Past}}<tr id="lp-grant-{{.G.ID}}"><td class="lp-state">{{.State}}</td><td>{{range $i, $s := .Scopes}}{{if $i}}, {{end}}{{$s}}{{end}}</td><td>{{.G.RequestedBy.User}}</td><td>{{.RequestedAt}}</td><td>{{.Ended}}</td><td>{{.Note}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="lp-muted">{{.T "past.none"}}</p>{{end}}
</section>

<section id="lp-events"><h2>{{.T "events"}}</h2>
{{if .Events}}<table><thead><tr><th>{{.T "events.time"}}</th><th>{{.T "events.event"}}</th><th>{{.T "events.by"}}</th><th>{{.T "events.grant"}}</th></tr></thead><tbody>
{{range .Events}}<tr><td>{{.At}}</td><td>{{.Event}}</td><td>{{.Who}}</td><td><code>{{.Grant}}</code></td></tr>
{{end}}</tbody></table>{{else}}<p class="lp-muted">{{.T "past.none"}}</p>{{end}}
</section>

<p><a id="lp-activity-link" href="{{.ActivityPath}}">{{.T "activity.link"}}</a></p>
{{if .AgreementsPath}}<p><a id="lp-agreements-link" href="{{.AgreementsPath}}">{{.T "agreements.link"}}</a></p>{{end}}
{{end}}

{{define "revoke"}}<h1>{{.V.T "revoke.title"}}</h1>
<p>{{.V.T "revoke.text"}}</p>
<div class="lp-card">{{template "grantFacts" .}}
<dl><dt>{{.V.T "ends"}}</dt><dd>{{.Ends}}</dd></dl></div>
<form method="post" action="{{.Base}}/revoke" class="lp-block"><input type="hidden" name="_csrf" value="{{.V.CSRF}}"><input type="hidden" name="confirm" value="yes">
<label>{{.V.T "revoke.reason"}}<br><textarea name="reason" rows="2" cols="50" maxlength="500"></textarea></label><br>
<button type="submit" class="lp-danger" id="lp-revoke-confirm">{{.V.T "revoke.confirm"}}</button>
<a class="lp-button lp-secondary" href="{{.V.Prefix}}">{{.V.T "cancel"}}</a></form>
{{end}}

{{define "activity"}}<h1>{{.T "activity"}}</h1>
<p class="lp-muted">{{.T "activity.intro"}}</p>
<form method="get" action="{{.ActivityPath}}" class="lp-block lp-filters" id="lp-filters">
<label>{{.T "filter.actor"}}<br><input type="text" name="actor" value="{{.F.Actor}}" maxlength="200"></label>
<label>{{.T "filter.result"}}<br><select name="result"><option value="">{{.T "filter.any"}}</option>
<option value="allowed"{{if eq .F.Allowed "allowed"}} selected{{end}}>{{.T "allowed"}}</option>
<option value="denied"{{if eq .F.Allowed "denied"}} selected{{end}}>{{.T "denied"}}</option></select></label>
<label>{{.T "filter.since"}}<br><input type="date" name="since" value="{{.Since}}"></label>
<label>{{.T "filter.until"}}<br><input type="date" name="until" value="{{.Until}}"></label>
<button type="submit">{{.T "filter.apply"}}</button> <a class="lp-button lp-secondary" id="lp-export" href="{{.ExportURL}}">{{.T "export"}}</a>
</form>
{{if .Rows}}<table id="lp-actions"><thead><tr><th>{{.T "col.time"}}</th><th>{{.T "col.actor"}}</th><th>{{.T "col.method"}}</th><th>{{.T "col.path"}}</th><th>{{.T "col.result"}}</th><th>{{.T "col.reason"}}</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.At}}</td><td>{{.Actor}}</td><td>{{.Method}}</td><td class="lp-path">{{.Path}}</td><td{{if not .Allowed}} class="lp-denied"{{end}}>{{.Result}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="lp-muted" id="lp-actions-none">{{.T "activity.none"}}</p>{{end}}
{{if .NextURL}}<p><a id="lp-next" href="{{.NextURL}}">{{.T "next"}}</a></p>{{end}}
<p><a href="{{.Prefix}}">{{.T "back"}}</a></p>
{{end}}
`))
