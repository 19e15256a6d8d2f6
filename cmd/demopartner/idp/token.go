package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var verifierRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

type tokenError struct {
	status     int
	code, desc string
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.tokenErr(w, tokenError{http.StatusBadRequest, "invalid_request", "malformed body"})
		return
	}
	c, terr := p.authenticateClient(r)
	if terr != nil {
		p.tokenErr(w, *terr)
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		p.tokenErr(w, tokenError{http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported"})
		return
	}
	code := f.Get("code")
	access := randomString(24)
	p.mu.Lock()
	g, ok := p.codes[code]
	var replayed bool
	if ok && g.used {
		replayed = true
		delete(p.tokens, g.accessToken) // RFC 6749 §4.1.2: revoke what the code issued
	}
	valid := ok && !g.used && g.clientID == c.ID && p.now().Before(g.expires)
	if valid {
		g.used, g.accessToken = true, access
	}
	defect := p.nextDefect
	p.mu.Unlock()
	switch {
	case !valid:
		p.log.Warn("idp: token refused", "client_id", c.ID, "replayed", replayed)
		p.tokenErr(w, tokenError{http.StatusBadRequest, "invalid_grant", "the code is invalid, expired or already used"})
		return
	case f.Get("redirect_uri") != g.redirectURI:
		p.tokenErr(w, tokenError{http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request"})
		return
	case !pkceOK(f.Get("code_verifier"), g.challenge):
		p.tokenErr(w, tokenError{http.StatusBadRequest, "invalid_grant", "PKCE verification failed"})
		return
	}
	u, ok := p.findUser(g.sess.subject)
	if !ok || u.Subject != g.sess.subject {
		p.tokenErr(w, tokenError{http.StatusBadRequest, "invalid_grant", "the user no longer exists"})
		return
	}
	idt, err := p.issueIDToken(p.idClaims(c.ID, u, g.sess, g.nonce, access), defect)
	if err != nil {
		p.log.Error("idp: sign id token", "err", err)
		p.tokenErr(w, tokenError{http.StatusInternalServerError, "server_error", "could not sign the ID token"})
		return
	}
	p.mu.Lock()
	now := p.now()
	for k, t := range p.tokens {
		if now.After(t.expires) {
			delete(p.tokens, k)
		}
	}
	p.tokens[access] = accessGrant{subject: u.Subject, clientID: c.ID, scope: g.scope, expires: now.Add(p.ttl)}
	if defect != DefectNone {
		p.nextDefect = DefectNone
	}
	p.mu.Unlock()
	p.log.Info("idp: tokens issued", "client_id", c.ID, "sub", u.Subject, "sid", g.sess.sid)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(p.ttl.Seconds()),
		"id_token": idt, "scope": g.scope,
	})
}

// authenticateClient supports client_secret_basic, client_secret_post and,
// for clients without a secret, "none".
func (p *Provider) authenticateClient(r *http.Request) (Client, *tokenError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id) // RFC 6749 §2.3.1
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return Client{}, &tokenError{http.StatusUnauthorized, "invalid_client", "malformed client credentials"}
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, ok := p.client(id)
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, &tokenError{http.StatusUnauthorized, "invalid_client", "client authentication failed"}
	}
	return c, nil
}

func pkceOK(verifier, challenge string) bool {
	if !verifierRE.MatchString(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (p *Provider) tokenErr(w http.ResponseWriter, e tokenError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g, found := p.tokens[strings.TrimSpace(tok)]
	p.mu.Unlock()
	if !ok || !found || p.now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	u, found := p.findUser(g.subject)
	if !found || u.Subject != g.subject {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	out := map[string]any{}
	for k, v := range u.Claims {
		out[k] = v
	}
	out["sub"] = u.Subject
	if u.Name != "" {
		out["name"] = u.Name
	}
	if u.Email != "" {
		out["email"] = u.Email
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
