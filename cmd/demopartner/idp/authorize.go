package idp

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const codeTTL = time.Minute

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}.err{color:#b00}</style>
</head><body><h1>Sign in</h1><p>to continue to <b>{{.ClientID}}</b></p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<label>Username <input name="username" autocomplete="username" value="{{.Username}}" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>`))

var messagePage = template.Must(template.New("msg").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>`))

// authParams are the authorization request parameters carried through the
// login form.
var authParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint"}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.page(w, http.StatusBadRequest, "Invalid request", "The request could not be parsed.")
		return
	}
	f := r.Form
	c, ok := p.client(f.Get("client_id"))
	if !ok {
		p.page(w, http.StatusBadRequest, "Invalid request", "Unknown client_id.")
		return
	}
	redirectURI := f.Get("redirect_uri")
	if redirectURI == "" || !slices.Contains(c.RedirectURIs, redirectURI) {
		p.page(w, http.StatusBadRequest, "Invalid request", "The redirect_uri is not registered for this client.")
		return
	}
	fail := func(code, desc string) {
		p.log.Warn("idp: authorize refused", "client_id", c.ID, "error", code, "description", desc)
		p.redirect(w, r, redirectURI, url.Values{"error": {code}, "error_description": {desc}}, f.Get("state"))
	}
	switch {
	case f.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	case !slices.Contains(strings.Fields(f.Get("scope")), "openid"):
		fail("invalid_scope", "scope must include openid")
		return
	case f.Get("code_challenge_method") != "S256" || len(f.Get("code_challenge")) != 43:
		fail("invalid_request", "PKCE with code_challenge_method=S256 is required")
		return
	}
	prompt := strings.Fields(f.Get("prompt"))

	sess, ok := p.autoLoginSession()
	if !ok && !slices.Contains(prompt, "login") {
		sess, ok = p.cookieSession(r)
	}
	if !ok && r.Method == http.MethodPost && r.PostForm.Has("username") {
		u, found := p.findUser(r.PostForm.Get("username"))
		if found && subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.PostForm.Get("password"))) == 1 {
			sess, ok = p.newSession(u.Subject), true
			p.log.Info("idp: login", "sub", u.Subject, "client_id", c.ID)
		} else {
			p.log.Warn("idp: login failed", "username", r.PostForm.Get("username"), "client_id", c.ID)
			p.loginForm(w, r, http.StatusUnauthorized, "Invalid username or password.")
			return
		}
	}
	if !ok {
		if slices.Contains(prompt, "none") {
			fail("login_required", "the user is not signed in")
			return
		}
		p.loginForm(w, r, http.StatusOK, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: p.cookieName, Value: sess.sid, Path: p.cookiePath,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(p.issuer, "https:")})

	code := randomString(24)
	p.mu.Lock()
	now := p.now()
	for k, g := range p.codes {
		if now.After(g.expires) {
			delete(p.codes, k)
		}
	}
	p.codes[code] = &codeGrant{clientID: c.ID, redirectURI: redirectURI, challenge: f.Get("code_challenge"),
		nonce: f.Get("nonce"), scope: f.Get("scope"), sess: sess, expires: now.Add(codeTTL)}
	p.mu.Unlock()
	p.redirect(w, r, redirectURI, url.Values{"code": {code}}, f.Get("state"))
}

func (p *Provider) loginForm(w http.ResponseWriter, r *http.Request, status int, msg string) {
	params := map[string]string{}
	for _, k := range authParams {
		if v := r.Form.Get(k); v != "" {
			params[k] = v
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, map[string]any{"ClientID": r.Form.Get("client_id"), "Error": msg,
		"Action": p.issuer + "/authorize", "Params": params, "Username": r.PostForm.Get("username")})
}

// redirect sends the user agent to base with params, state and iss added.
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, base string, params url.Values, state string) {
	u, err := url.Parse(base)
	if err != nil {
		p.page(w, http.StatusBadRequest, "Invalid request", "Bad redirect URI.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	if _, isErr := params["error"]; isErr || params.Has("code") {
		q.Set("iss", p.issuer) // RFC 9207
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *Provider) page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = messagePage.Execute(w, map[string]string{"Title": title, "Message": msg})
}

func (p *Provider) newSession(subject string) session {
	s := session{sid: randomString(16), subject: subject, authTime: p.now()}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sessions[s.sid] = s
	p.issued[subject] = append(p.issued[subject], s.sid)
	return s
}

func (p *Provider) autoLoginSession() (session, bool) {
	p.mu.Lock()
	sub := p.autoLogin
	p.mu.Unlock()
	if sub == "" {
		return session{}, false
	}
	if u, ok := p.findUser(sub); !ok || u.Subject != sub {
		p.log.Warn("idp: auto-login subject unknown", "sub", sub)
		return session{}, false
	}
	return p.newSession(sub), true
}

func (p *Provider) cookieSession(r *http.Request) (session, bool) {
	ck, err := r.Cookie(p.cookieName)
	if err != nil {
		return session{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[ck.Value]
	return s, ok
}

// endSession implements OpenID Connect RP-Initiated Logout 1.0. It ends the
// IdP session (cookie and the id_token_hint's sid); it does not send
// back-channel logout tokens (call SendBackchannelLogout for that).
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.page(w, http.StatusBadRequest, "Invalid request", "The request could not be parsed.")
		return
	}
	f := r.Form
	clientID := f.Get("client_id")
	var sid string
	if hint := f.Get("id_token_hint"); hint != "" {
		claims, err := p.parseOwnToken(hint)
		if err != nil {
			p.page(w, http.StatusBadRequest, "Invalid request", "The id_token_hint is not valid.")
			return
		}
		aud, _ := claims["aud"].(string)
		if clientID != "" && clientID != aud {
			p.page(w, http.StatusBadRequest, "Invalid request", "client_id does not match the id_token_hint.")
			return
		}
		clientID = aud
		sid, _ = claims["sid"].(string)
	}
	target := f.Get("post_logout_redirect_uri")
	if target != "" {
		c, ok := p.client(clientID)
		if !ok || !slices.Contains(c.PostLogoutRedirectURIs, target) {
			p.page(w, http.StatusBadRequest, "Invalid request", "The post_logout_redirect_uri is not registered for this client.")
			return
		}
	}
	p.mu.Lock()
	delete(p.sessions, sid)
	if ck, err := r.Cookie(p.cookieName); err == nil {
		delete(p.sessions, ck.Value)
	}
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: p.cookieName, Value: "", Path: p.cookiePath, MaxAge: -1, HttpOnly: true})
	p.log.Info("idp: end session", "client_id", clientID, "sid", sid)
	if target == "" {
		p.page(w, http.StatusOK, "Signed out", "You have been signed out.")
		return
	}
	p.redirect(w, r, target, url.Values{}, f.Get("state"))
}
