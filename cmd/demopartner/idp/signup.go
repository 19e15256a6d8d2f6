package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

// SignupTicketTTL is how long a sign-up ticket can be redeemed.
const SignupTicketTTL = 5 * time.Minute

// signupBindCookie binds a sign-up ticket to the browser it was issued to
// (suffixed with the provider's cookie name).
const signupBindCookie = "_signup"

// signupTicket is a pending sign-up session, stored by the SHA-256 of the
// ticket.
type signupTicket struct {
	subject, next string
	bind          string // SHA-256 (hex) of the binding cookie's value
	expires       time.Time
}

// ErrUnknownUser is returned by IssueSignupTicket for a subject that was
// never added.
var ErrUnknownUser = errors.New("idp: unknown user")

// IssueSignupTicket lets a platform that just registered subject (with
// AddUser) open the user's IdP session without a second password prompt:
// it returns a one-time ticket, redeemable within SignupTicketTTL by
// POST <issuer>/signup-session (form field "ticket") from the same browser
// — w gets an HttpOnly, SameSite=Strict binding cookie (the provider's
// path) that the redemption must present, so a ticket posted from another
// browser or site (login CSRF) is refused. The redemption opens the
// session (the provider's session cookie, as after a password login) and
// redirects to next, a URL the platform chose (never taken from the
// browser). The ticket is kept only as its hash; it is meant for a form
// body, never a URL.
func (p *Provider) IssueSignupTicket(w http.ResponseWriter, subject, next string) (string, error) {
	if u, ok := p.findUser(subject); !ok || u.Subject != subject {
		return "", ErrUnknownUser
	}
	ticket, bind := randomString(32), randomString(16)
	p.mu.Lock()
	now := p.now()
	if p.signups == nil {
		p.signups = map[string]signupTicket{}
	}
	for k, s := range p.signups {
		if now.After(s.expires) {
			delete(p.signups, k)
		}
	}
	p.signups[sha256Hex(ticket)] = signupTicket{subject: subject, next: next, bind: sha256Hex(bind), expires: now.Add(SignupTicketTTL)}
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: p.cookieName + signupBindCookie, Value: bind, Path: p.cookiePath,
		MaxAge: int(SignupTicketTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: strings.HasPrefix(p.issuer, "https:")})
	return ticket, nil
}

// signupSession redeems a sign-up ticket (see IssueSignupTicket): once,
// before it expires, with the binding cookie of the browser it was issued
// to. Anything else is a 400 page that points to the normal sign-in.
func (p *Provider) signupSession(w http.ResponseWriter, r *http.Request) {
	ticket := r.PostFormValue("ticket")
	bind, _ := r.Cookie(p.cookieName + signupBindCookie)
	p.mu.Lock()
	t, ok := p.signups[sha256Hex(ticket)]
	if ok {
		delete(p.signups, sha256Hex(ticket)) // one attempt, whatever its outcome
	}
	now := p.now()
	p.mu.Unlock()
	switch {
	case !ok || ticket == "":
		p.log.Warn("idp: unknown sign-up ticket")
	case now.After(t.expires):
		p.log.Warn("idp: expired sign-up ticket", "sub", t.subject)
		ok = false
	case bind == nil || subtle.ConstantTimeCompare([]byte(sha256Hex(bind.Value)), []byte(t.bind)) != 1:
		p.log.Warn("idp: sign-up ticket from another browser", "sub", t.subject)
		ok = false
	}
	if !ok {
		p.page(w, http.StatusBadRequest, "Sign-up session expired",
			"This sign-up link can no longer be used. Go to the console and sign in with your username and password.")
		return
	}
	sess := p.newSession(t.subject)
	http.SetCookie(w, &http.Cookie{Name: p.cookieName, Value: sess.sid, Path: p.cookiePath,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(p.issuer, "https:")})
	http.SetCookie(w, &http.Cookie{Name: p.cookieName + signupBindCookie, Value: "", Path: p.cookiePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: strings.HasPrefix(p.issuer, "https:")})
	p.log.Info("idp: session opened at sign-up", "sub", t.subject)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, t.next, http.StatusSeeOther)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
