package platform

import (
	"html/template"
	"net/http"
)

type apiError struct {
	Status        int
	Code, Message string
	RequestID     string
}

type account struct{ XAccountID, DomainID, DomainName string }

type pageData struct {
	ConsoleURL            string
	Username, AccountName string // sign-up form values echoed back
	Problem               string // form validation problem
	APIError              *apiError
	Account               *account
	// SignupTicket, when set, is posted to SignupSessionURL by "Go to
	// console" to open the IdP session (one-time, short-lived).
	SignupTicket, SignupSessionURL string
}

// html/template escapes every value by context.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo Partner Cloud Shop</title>
<style>
body{font-family:sans-serif;max-width:36rem;margin:3rem auto;color:#222}
label,input,button{display:block;width:100%;margin:.35rem 0}
.err{border:1px solid #c00;background:#fee;padding:.6rem}.ok{border:1px solid #080;background:#efe;padding:.6rem}
code{background:#eee;padding:0 .2rem}
</style></head><body>
<h1>Demo Partner Cloud Shop</h1>
{{with .Account}}
<div class="ok" role="status"><h2>Your cloud account is ready</h2>
<p>Cloud account name: <b id="domain-name">{{.DomainName}}</b></p>
<p>Account ID: <code>{{.DomainID}}</code> · your platform ID: <code>{{.XAccountID}}</code></p>
{{if $.SignupTicket}}<form id="console-form" method="post" action="{{$.SignupSessionURL}}"><input type="hidden" name="ticket" value="{{$.SignupTicket}}">
<button id="console-link" type="submit">Go to console</button> (you are signed in already)</form>
<p><small>Later: <a href="{{$.ConsoleURL}}">{{$.ConsoleURL}}</a>, signing in with your username and password.</small></p>
{{else}}<p><a id="console-link" href="{{$.ConsoleURL}}">Go to console</a> (sign in with your username and password)</p>{{end}}</div>
{{else}}
{{with .Problem}}<p class="err" role="alert">{{.}}</p>{{end}}
{{with .APIError}}<div class="err" role="alert"><b>The cloud account could not be created.</b>
{{if .Code}}<p>Error code: <code id="error-code">{{.Code}}</code>{{if .Status}} (HTTP {{.Status}}){{end}}</p>{{end}}
<p id="error-msg">{{.Message}}</p>{{with .RequestID}}<p>Request ID: <code>{{.}}</code></p>{{end}}</div>{{end}}
<h2>Sign up</h2>
<form method="post" action="signup">
<label>Username <input name="username" value="{{.Username}}" required minlength="3" maxlength="64" autocomplete="username"></label>
<label>Password <input name="password" type="password" required minlength="8" maxlength="64" autocomplete="new-password"></label>
<label>Cloud account name (optional) <input name="account_name" value="{{.AccountName}}" maxlength="32"></label>
<p><small>By signing up you accept the cloud's user agreement and privacy statement.</small></p>
<button type="submit">Create my cloud account</button></form>
<p>Already have an account? <a href="{{.ConsoleURL}}">Go to console</a></p>
{{end}}
</body></html>`))

func (p *platform) render(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := page.Execute(w, d); err != nil {
		p.log.Error("platform: render", "err", err)
	}
}
