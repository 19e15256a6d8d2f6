package signin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/signin"
)

// cloudEnv is an IdentityEnv whose gateway also signs cloud accounts in at
// a second provider (the cloud's own), whose subject is the account id.
type cloudEnv struct {
	*gatewaytest.IdentityEnv
	g     *gatewaytest.IdentityGateway
	cloud *idp.Provider
}

func startCloudEnv(t *testing.T, accountClaim string) cloudEnv {
	t.Helper()
	e := gatewaytest.NewIdentityEnv(t, false)
	cloud, srv, err := idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: e.Cust.DomainID, Name: "Alice (cloud)", Password: "pw"}, // registered through the partner API
		{Subject: "c10ad-invitee", Name: "Ivy", Password: "pw"},           // a cloud account of no partner
		{Subject: "c10ad-claimed", Name: "Carl", Password: "pw", Claims: map[string]any{"cloud_account": "c10ad-claimed"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	g := e.Start(t, nil, e.WithCloudSignIn(signin.OIDCClient{Issuer: cloud.Issuer(), ClientID: "livery-cloud",
		ClientSecret: "cloud-s3cret", AccountClaim: accountClaim}))
	if err := cloud.AddClient(idp.Client{ID: "livery-cloud", Secret: "cloud-s3cret",
		RedirectURIs:           []string{g.ConsoleURL + signin.CloudCallbackPath},
		PostLogoutRedirectURIs: []string{g.ConsoleURL + signin.LoggedOutPath}}); err != nil {
		t.Fatal(err)
	}
	return cloudEnv{IdentityEnv: e, g: g, cloud: cloud}
}

// cloudSignIn signs subject in at the cloud provider, returning to rd.
func (ce cloudEnv) cloudSignIn(t *testing.T, c *http.Client, subject, rd string) (*http.Response, string) {
	t.Helper()
	ce.cloud.SetAutoLogin(subject)
	return gatewaytest.Get(t, c, ce.g.ConsoleURL+signin.CloudLoginPath+"?rd="+url.QueryEscape(rd))
}

func (ce cloudEnv) session(t *testing.T, c *http.Client) *sessions.Session {
	t.Helper()
	id := gatewaytest.CookieValue(c, ce.g.ConsoleURL, "livery_session")
	s, err := ce.g.Sessions.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("the session after a cloud sign-in: %v", err)
	}
	return s
}

// TestCloudSignIn: a cloud account associated with the console's tenant
// gets a customer session and its console; any other cloud account gets an
// invitee session, which the console refuses (page and JSON) and which no
// role, cookie or header turns into a customer.
func TestCloudSignIn(t *testing.T) {
	ce := startCloudEnv(t, "")

	c := gatewaytest.Browser(t)
	resp, body := ce.cloudSignIn(t, c, ce.Cust.DomainID, "/headers?format=json")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/headers" {
		t.Fatalf("associated account: landed on %s %d %.300s", resp.Request.URL, resp.StatusCode, body)
	}
	var echo gatewaytest.HeaderEcho
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatal(err)
	}
	if got := echo.Headers[assertion.HeaderAccountID]; len(got) != 1 || got[0] != ce.Cust.DomainID {
		t.Fatalf("the upstream sees account %v, want %s", got, ce.Cust.DomainID)
	}
	if s := ce.session(t, c); s.Kind != sessions.KindCustomer || s.AccountID != ce.Cust.DomainID || s.Account != "acme_corp" {
		t.Fatalf("associated account's session = %+v", s)
	}

	iv := gatewaytest.Browser(t)
	resp, body = ce.cloudSignIn(t, iv, "c10ad-invitee", "/home")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not associated") || strings.Contains(body, "demo upstream") {
		t.Fatalf("an invitee on the console: %d %.400s", resp.StatusCode, body)
	}
	if s := ce.session(t, iv); s.Kind != sessions.KindInvitee || s.AccountID != "c10ad-invitee" || len(s.Roles) != 0 {
		t.Fatalf("invitee's session = %+v", s)
	}
	for _, h := range [][]string{{"Accept", "application/json"}, {"X-Livery-Roles", "customer"}, {"X-Livery-Account-Id", ce.Cust.DomainID}} {
		resp, body = gatewaytest.Get(t, iv, ce.g.ConsoleURL+"/headers?format=json", h...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not_associated") && !strings.Contains(body, "not associated") {
			t.Fatalf("an invitee with %v: %d %.300s", h, resp.StatusCode, body)
		}
	}

	// Logout of a cloud session continues at the cloud provider's end of
	// session (with the cloud's client), then back to the signed-out page.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ = gatewaytest.Get(t, c, ce.g.ConsoleURL+signin.LogoutPath)
	end, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(end.String(), ce.cloud.Issuer()+"/") ||
		end.Query().Get("client_id") != "livery-cloud" {
		t.Fatalf("cloud logout redirects to %q (%d), want the cloud provider", resp.Header.Get("Location"), resp.StatusCode)
	}
	c.CheckRedirect = nil
	resp, body = gatewaytest.Get(t, c, end.String())
	if resp.Request.URL.Path != signin.LoggedOutPath || !strings.Contains(body, "signed out") {
		t.Fatalf("cloud logout landed on %s: %.200s", resp.Request.URL, body)
	}
}

// TestCloudSignInRefusals: the cloud callback takes only its own login
// states, and an ID token without the account claim signs nobody in.
func TestCloudSignInRefusals(t *testing.T) {
	ce := startCloudEnv(t, "cloud_account")
	noRedirect := gatewaytest.Browser(t)
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	// A state started for the partner's provider, replayed on the cloud callback.
	resp, _ := gatewaytest.Get(t, noRedirect, ce.g.ConsoleURL+signin.LoginPath+"?rd=/")
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") == "" {
		t.Fatalf("partner sign-in start: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := gatewaytest.Get(t, noRedirect, ce.g.ConsoleURL+signin.CloudCallbackPath+"?code=x&state="+url.QueryEscape(loc.Query().Get("state")))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "another console") {
		t.Fatalf("a partner state on the cloud callback: %d %.300s", resp.StatusCode, body)
	}

	// The claim named by account_claim is missing: no session.
	c := gatewaytest.Browser(t)
	resp, body = ce.cloudSignIn(t, c, "c10ad-invitee", "/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "did not name an account") {
		t.Fatalf("no account claim: %d %.300s", resp.StatusCode, body)
	}
	if id := gatewaytest.CookieValue(c, ce.g.ConsoleURL, "livery_session"); id != "" {
		t.Fatalf("a session was made without the account claim")
	}
	// With it, the claim (not the subject) is the account.
	c = gatewaytest.Browser(t)
	ce.cloudSignIn(t, c, "c10ad-claimed", "/")
	if s := ce.session(t, c); s.AccountID != "c10ad-claimed" || s.Kind != sessions.KindInvitee {
		t.Fatalf("session with the claim = %+v", s)
	}
}

// TestCloudSignInOff: without identity.cloud_sign_in its paths do not exist.
func TestCloudSignInOff(t *testing.T) {
	e := gatewaytest.NewIdentityEnv(t, false)
	g := e.Start(t, nil)
	for _, p := range []string{signin.CloudLoginPath, signin.CloudCallbackPath + "?state=x&code=y"} {
		resp, _ := gatewaytest.Get(t, gatewaytest.Browser(t), g.ConsoleURL+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s without cloud sign-in: %d", p, resp.StatusCode)
		}
	}
}

// TestEndByAccount: EndByAccount ends every session of the
// account on the tenant (its own and delegated), and none elsewhere.
func TestEndByAccount(t *testing.T) {
	ce := startCloudEnv(t, "")
	ctx := context.Background()
	st := ce.g.Sessions
	mk := func(tenant, kind, account string) *sessions.Session {
		s, err := st.Create(ctx, sessions.Session{Tenant: tenant, Kind: kind, Issuer: "https://iss", Subject: kind + account, AccountID: account})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	own, del, other, elsewhere := mk("demo", sessions.KindCustomer, "acct-1"), mk("demo", sessions.KindDelegated, "acct-1"),
		mk("demo", sessions.KindCustomer, "acct-2"), mk("other", sessions.KindCustomer, "acct-1")
	n, err := st.EndByAccount(ctx, "demo", "acct-1")
	if err != nil || n != 2 {
		t.Fatalf("EndByAccount = %d, %v; want 2", n, err)
	}
	for _, s := range []*sessions.Session{own, del} {
		if _, err := st.Get(ctx, s.ID); err == nil {
			t.Fatalf("session %s (%s) survived", s.Kind, s.AccountID)
		}
	}
	for _, s := range []*sessions.Session{other, elsewhere} {
		if _, err := st.Get(ctx, s.ID); err != nil {
			t.Fatalf("session of %s at %s ended too: %v", s.AccountID, s.Tenant, err)
		}
	}
}

// TestCloudBackchannelLogout: the cloud provider's logout token, posted to
// the cloud back-channel path, ends the cloud session on the console; a
// token of the partner's provider is refused there and ends nothing.
func TestCloudBackchannelLogout(t *testing.T) {
	ce := startCloudEnv(t, "")
	c := gatewaytest.Browser(t)
	ce.cloudSignIn(t, c, "c10ad-invitee", "/")
	s := ce.session(t, c)
	post := func(token string) int {
		t.Helper()
		req := gatewaytest.NewRequest(t, "POST", ce.g.ConsoleURL+signin.CloudBackchannelLogoutPath,
			strings.NewReader(url.Values{"logout_token": {token}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		r, _ := gatewaytest.Do(t, req)
		return r.StatusCode
	}
	partnerTok, err := ce.IDP.LogoutToken("livery", "c10ad-invitee", s.SID)
	if err != nil {
		t.Fatal(err)
	}
	if st := post(partnerTok); st != http.StatusBadRequest {
		t.Fatalf("the partner provider's token at the cloud path: %d, want 400", st)
	}
	if _, err := ce.g.Sessions.Get(context.Background(), s.ID); err != nil {
		t.Fatalf("a refused token ended the session: %v", err)
	}
	tok, err := ce.cloud.LogoutToken("livery-cloud", "c10ad-invitee", s.SID)
	if err != nil {
		t.Fatal(err)
	}
	if st := post(tok); st != http.StatusOK {
		t.Fatalf("the cloud provider's token: %d, want 200", st)
	}
	if _, err := ce.g.Sessions.Get(context.Background(), s.ID); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("the cloud session after back-channel logout: %v", err)
	}
}
