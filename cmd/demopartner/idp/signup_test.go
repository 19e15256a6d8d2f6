package idp_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livery/livery/cmd/demopartner/idp"
)

// TestSignupTicket: a sign-up ticket opens the IdP session once, before it
// expires, only in the browser it was issued to, and then the authorize
// endpoint answers with a code without asking for a password.
func TestSignupTicket(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p, srv, err := idp.NewTestServer(idp.Options{
		Users:   []idp.User{{Subject: "u-1", Name: "alice", Password: "pw-alice"}},
		Clients: []idp.Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirectURI}}},
		Now:     func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const next = "https://console.partner-a.example/"
	// issue mints a ticket for a fresh browser (a cookie jar holding the
	// binding cookie, as the platform's response would leave it).
	issue := func(t *testing.T, subject string) (*http.Client, string) {
		rec := httptest.NewRecorder()
		ticket, err := p.IssueSignupTicket(rec, subject, next)
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		u, _ := url.Parse(srv.URL)
		jar.SetCookies(u, rec.Result().Cookies())
		for _, c := range rec.Result().Cookies() {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("binding cookie %+v", c)
			}
		}
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, ticket
	}
	redeem := func(c *http.Client, ticket string) *http.Response {
		resp, err := c.PostForm(srv.URL+"/signup-session", url.Values{"ticket": {ticket}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// authorized reports whether the browser gets a code without a login form.
	authorized := func(c *http.Client) bool {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"},
			"code_challenge_method": {"S256"}, "code_challenge": {strings.Repeat("a", 43)}, "state": {"s"}}
		resp, err := c.Get(srv.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return resp.StatusCode == http.StatusFound && loc != nil && loc.Query().Get("code") != ""
	}

	if _, err := p.IssueSignupTicket(httptest.NewRecorder(), "nobody", next); err != idp.ErrUnknownUser {
		t.Fatalf("unknown subject: %v", err)
	}

	c, ticket := issue(t, "u-1")
	if authorized(c) {
		t.Fatal("a session before the ticket was redeemed")
	}
	if resp := redeem(c, ticket); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != next {
		t.Fatalf("redeem: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !authorized(c) {
		t.Fatal("no single sign-on after the ticket was redeemed")
	}
	if resp := redeem(c, ticket); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed ticket: %d", resp.StatusCode)
	}

	// Another browser (no binding cookie: a login-CSRF attempt) gets
	// nothing, and the ticket is used up.
	_, ticket = issue(t, "u-1")
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp := redeem(other, ticket); resp.StatusCode != http.StatusBadRequest || authorized(other) {
		t.Fatalf("ticket from another browser: %d", resp.StatusCode)
	}

	// Expired.
	c, ticket = issue(t, "u-1")
	mu.Lock()
	now = now.Add(idp.SignupTicketTTL + time.Second)
	mu.Unlock()
	if resp := redeem(c, ticket); resp.StatusCode != http.StatusBadRequest || authorized(c) {
		t.Fatalf("expired ticket: %d", resp.StatusCode)
	}
	// Garbage.
	if resp := redeem(c, ""); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty ticket: %d", resp.StatusCode)
	}
}
